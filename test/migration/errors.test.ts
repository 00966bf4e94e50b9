/**
 * `MigrationError` and its tagged reasons: every reason says whether it is an input error (the
 * CLI's exit 2) and whether it is retryable, the error's message is the reason's detail, the
 * reasons and the error survive a trip through their schemas, and the guards tell them apart.
 * Imported from the entry, so this also checks what `stage-normalization/migration` exports.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { SqlError } from "effect/sql"
import * as Migration from "../../src/migration/index.ts"
import {
  describeCause,
  isMigrationError,
  isMigrationErrorReason,
  MigrationError,
  MigrationErrorReason,
  QueryFailed,
  RunInProgress,
  TableNotFound
} from "../../src/migration/index.ts"

/** What each reason should be: [input error, retryable without a retryable SqlError under it]. */
const expected: Record<MigrationErrorReason["_tag"], readonly [input: boolean, retryable: boolean]> = {
  InvalidUrl: [true, false],
  DatabaseUnreachable: [true, false],
  EmbeddedStartFailed: [true, false],
  TableNotFound: [true, false],
  ColumnNotFound: [true, false],
  WrongColumnType: [true, false],
  IdNotUnique: [true, false],
  InvalidOptions: [true, false],
  RunInProgress: [true, true],
  RunNotFound: [true, false],
  NothingToResume: [true, false],
  ResumeMismatch: [true, false],
  InvalidMapping: [true, false],
  ConfirmationRequired: [true, false],
  BackupRequired: [true, false],
  BackupToolMissing: [true, false],
  BackupInvalid: [true, false],
  EmbeddedUnsupported: [true, false],
  LockLost: [false, true],
  BackupFailed: [false, false],
  RestoreTestFailed: [false, false],
  SchemaMigrationFailed: [false, false],
  SqlTwinFailed: [false, false],
  BatchFailed: [false, false],
  QueryFailed: [false, false]
}

/** Reasons that are retryable when the `SqlError` under them is. */
const followsTheSqlError = new Set([
  "DatabaseUnreachable",
  "BackupFailed",
  "RestoreTestFailed",
  "SchemaMigrationFailed",
  "SqlTwinFailed",
  "BatchFailed",
  "QueryFailed"
])

const sqlError = (reason: SqlError.SqlErrorReason) => new SqlError.SqlError({ reason })
const dropped = sqlError(new SqlError.ConnectionError({ cause: new Error("connection reset") }))
const denied = sqlError(new SqlError.AuthenticationError({ cause: new Error("password authentication failed") }))

const reasons = MigrationErrorReason.members

describe("MigrationErrorReason", () => {
  it("has one class per reason, each exported from the entry under its tag", () => {
    const tags = reasons.map((R) => new R({ detail: "x" })._tag)
    assert.deepStrictEqual([...tags].sort(), Object.keys(expected).sort())
    for (const R of reasons) {
      const tag = new R({ detail: "x" })._tag
      assert.strictEqual((Migration as Record<string, unknown>)[tag], R, tag)
    }
  })

  it("says for each reason whether it is an input error and whether it is retryable", () => {
    for (const R of reasons) {
      const reason = new R({ detail: "what and where" })
      const [input, retryable] = expected[reason._tag]
      assert.strictEqual(reason.isInputError, input, `${reason._tag}.isInputError`)
      assert.strictEqual(reason.isRetryable, retryable, `${reason._tag}.isRetryable`)
      const error = new MigrationError({ reason })
      assert.strictEqual(error.isInputError, input, `MigrationError(${reason._tag}).isInputError`)
      assert.strictEqual(error.isRetryable, retryable, `MigrationError(${reason._tag}).isRetryable`)
    }
  })

  it("a failure's retryability follows the SqlError under it; an input error's does not", () => {
    for (const R of reasons) {
      const tag = new R({ detail: "x" })._tag
      const [, retryable] = expected[tag]
      const overDropped = new R({ detail: "x", cause: dropped }).isRetryable
      assert.strictEqual(overDropped, retryable || followsTheSqlError.has(tag), `${tag} over a dropped connection`)
      assert.strictEqual(new R({ detail: "x", cause: denied }).isRetryable, retryable, `${tag} over a refused password`)
      assert.strictEqual(new R({ detail: "x", cause: new Error("boom") }).isRetryable, retryable, `${tag} over an Error`)
    }
  })

  it("round-trips through its schema, back to the reason's class", () => {
    for (const R of reasons) {
      const reason = new R({ detail: "public.companies has no column \"stag\"" })
      const encoded = Schema.encodeSync(MigrationErrorReason)(reason)
      assert.deepStrictEqual(encoded, { _tag: reason._tag, detail: reason.detail })
      const decoded = Schema.decodeUnknownSync(MigrationErrorReason)(encoded)
      assert.isTrue(decoded instanceof R, reason._tag)
      assert.strictEqual(decoded._tag, reason._tag)
      assert.strictEqual(decoded.detail, reason.detail)
      assert.strictEqual(decoded.isInputError, reason.isInputError)
    }
  })

  it("rejects an unknown tag and a missing detail", () => {
    assert.throws(() => Schema.decodeUnknownSync(MigrationErrorReason)({ _tag: "Oops", detail: "x" }))
    assert.throws(() => Schema.decodeUnknownSync(MigrationErrorReason)({ _tag: "TableNotFound" }))
  })
})

describe("MigrationError", () => {
  it("its message is the reason's detail, its cause the reason, whose cause is the failure", () => {
    const detail = "reading run 7: connection reset"
    const error = new MigrationError({ reason: new QueryFailed({ detail, cause: dropped }) })
    assert.strictEqual(error._tag, "MigrationError")
    assert.strictEqual(error.message, detail)
    assert.strictEqual(error.reason.message, detail)
    assert.strictEqual(error.cause, error.reason)
    assert.strictEqual(error.reason.cause, dropped)
    assert.isTrue(error.isRetryable)
    assert.isFalse(error.isInputError)
    assert.strictEqual(describeCause(error), detail, "describeCause names the error, not the failure under it")
  })

  it("round-trips through its schema, cause included", () => {
    const error = new MigrationError({ reason: new TableNotFound({ detail: "no table", cause: new Error("relation does not exist") }) })
    const encoded = Schema.encodeSync(MigrationError)(error)
    assert.deepStrictEqual(encoded, {
      _tag: "MigrationError",
      reason: { _tag: "TableNotFound", detail: "no table", cause: { name: "Error", message: "relation does not exist" } }
    })
    const decoded = Schema.decodeUnknownSync(MigrationError)(encoded)
    assert.instanceOf(decoded, MigrationError)
    assert.instanceOf(decoded.reason, TableNotFound)
    assert.strictEqual(decoded.message, "no table")
    assert.isTrue(decoded.isInputError)
    assert.strictEqual((decoded.reason.cause as Error).message, "relation does not exist")
  })

  it("guards tell an error from its reason and from look-alikes", () => {
    const reason = new RunInProgress({ detail: "run 3 holds the target" })
    const error = new MigrationError({ reason })
    assert.isTrue(isMigrationError(error))
    assert.isFalse(isMigrationError(reason))
    assert.isFalse(isMigrationError({ _tag: "MigrationError", reason }))
    assert.isTrue(isMigrationErrorReason(reason))
    assert.isFalse(isMigrationErrorReason(error))
    assert.isFalse(isMigrationErrorReason({ _tag: "RunInProgress", detail: "x" }))
  })

  it.effect("fails an Effect and is caught by its reason", () =>
    Effect.gen(function*() {
      const busy = Effect.fail(new MigrationError({ reason: new RunInProgress({ detail: "run 3 holds the target" }) }))
      const caught = yield* busy.pipe(Effect.catchReason("MigrationError", "RunInProgress", (r) => Effect.succeed(r.detail)))
      assert.strictEqual(caught, "run 3 holds the target")
      const other = yield* Effect.flip(busy.pipe(Effect.catchReason("MigrationError", "TableNotFound", () => Effect.succeed("no"))))
      assert.strictEqual(other.reason._tag, "RunInProgress")
    }))
})
