/**
 * BackfillStatus.layerCheck: `status` runs the given check with the services captured when the
 * layer was built, every time it is asked, and turns any failure of the check into a
 * BackfillStatusError carrying it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Data, Effect, Layer, Ref } from "effect"
import { BACKFILL_VERIFIED, type BackfillState, BackfillStatus } from "../../src/rollout/index.ts"

class MigrationRecord extends Context.Service<MigrationRecord, { readonly read: Effect.Effect<BackfillState, RecordUnreadable> }>()(
  "test/BackfillStatus/MigrationRecord"
) {}

class RecordUnreadable extends Data.TaggedError("RecordUnreadable")<{ readonly message: string }> {}

const check = MigrationRecord.use((record) => record.read)

describe("BackfillStatus.layerCheck", () => {
  it.effect("answers status by running the check, with the layer's services, on every call", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make(0)
      const answers = [{ migrated: true, verified: false, detail: "verify pending" }, BACKFILL_VERIFIED]
      const record = Layer.succeed(MigrationRecord, MigrationRecord.of({
        read: Ref.getAndUpdate(calls, (n) => n + 1).pipe(Effect.map((n) => answers[Math.min(n, 1)]!))
      }))
      const status = yield* Effect.map(
        Layer.build(BackfillStatus.layerCheck(check).pipe(Layer.provide(record))),
        (context) => Context.get(context, BackfillStatus).status
      )
      assert.strictEqual(yield* Ref.get(calls), 0)
      assert.deepStrictEqual(yield* status, { migrated: true, verified: false, detail: "verify pending" })
      assert.deepStrictEqual(yield* status, BACKFILL_VERIFIED)
      assert.strictEqual(yield* Ref.get(calls), 2)
    }).pipe(Effect.scoped))

  it.effect("a failing check is a BackfillStatusError with the failure as its message and cause", () =>
    Effect.gen(function*() {
      const unreadable = new RecordUnreadable({ message: "database unavailable" })
      const record = Layer.succeed(MigrationRecord, MigrationRecord.of({ read: Effect.fail(unreadable) }))
      const error = yield* BackfillStatus.use((s) => s.status).pipe(
        Effect.provide(BackfillStatus.layerCheck(check).pipe(Layer.provide(record))),
        Effect.flip
      )
      assert.strictEqual(error._tag, "BackfillStatusError")
      assert.strictEqual(error.message, "database unavailable")
      assert.strictEqual(error.cause, unreadable)

      const plain = yield* BackfillStatus.use((s) => s.status).pipe(
        Effect.provide(BackfillStatus.layerCheck(Effect.fail("no record yet"))),
        Effect.flip
      )
      assert.strictEqual(plain._tag, "BackfillStatusError")
      assert.strictEqual(plain.message, "no record yet")
      assert.strictEqual(plain.cause, "no record yet")
    }))
})
