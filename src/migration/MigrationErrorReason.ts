/**
 * The reasons a migration operation fails for: the `reason` of a `MigrationError`, one tagged
 * class each, as effect's `SqlError` has its reasons. Every reason carries `detail` (a sentence for
 * operators naming what and where; it becomes the `MigrationError`'s message) and, when something
 * underneath failed, `cause`; and it knows two things about itself:
 *
 * - `isInputError`: caused by the operator's input or environment, nothing was written (the CLI
 *   prints these plainly and exits 2). The *input* reasons below.
 * - `isRetryable`: running the same operation again may succeed. `RunInProgress` (the other run
 *   ends) and `LockLost` (the run is left resumable) always are; `DatabaseUnreachable` and the
 *   *failure* reasons are when the database failure under them (`cause`) is an `SqlError` that
 *   says so (a dropped connection, a deadlock, a serialization conflict, a timeout); the other
 *   input reasons never are: the input has to change first.
 *
 * @since 0.2.0
 */
import { Predicate, Schema } from "effect"
import { SqlError } from "effect/sql"

const ID = "stage-normalization/migration/MigrationError"
const ReasonTypeId = "~stage-normalization/migration/MigrationErrorReason" as const

/** Retryable when the failure underneath is an `SqlError` that is. */
const causeIsRetryable = (cause: unknown): boolean => SqlError.isSqlError(cause) && cause.isRetryable

/**
 * What every reason carries. `cause` is optional: a reason found by looking (a missing column) has
 * none, one from a failed operation keeps the failure (an `SqlError`, a file-system error, …).
 */
const ReasonFields = {
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect())
}

/** Shared by every reason: the fields, the guard's marker, `message`, and the defaults below. */
class Reason extends Schema.Error<Reason>(`${ID}/Reason`)(ReasonFields) {
  readonly [ReasonTypeId] = ReasonTypeId

  override get message(): string {
    return this.detail
  }

  /** Whether running the same operation again may succeed. */
  get isRetryable(): boolean {
    return causeIsRetryable(this.cause)
  }

  /** Caused by the operator's input or environment; nothing was written. */
  get isInputError(): boolean {
    return false
  }
}

/** The reasons caused by the operator's input or environment: not retryable unless they say so. */
class InputReason extends Reason.extend<InputReason>(`${ID}/InputReason`)({}) {
  override get isRetryable(): boolean {
    return false
  }

  override get isInputError(): boolean {
    return true
  }
}

// Each reason class below is `class X extends input<X>()("X") {}` (or `failure`): a subclass made
// by effect's own `Class.extend`, so every class keeps its precise type — its own `_tag` literal
// (`reason._tag` narrows the union), its `Self` (a decoded reason is an instance of its class) —
// and inherits `detail`, `cause`, `message` and the two getters instead of repeating them 25 times.
// `Self` comes first and alone because TypeScript cannot infer it (it is the class being declared)
// while it can infer `Tag`; this is the same curried shape as `Schema.TaggedError<Self>()(tag, …)`.
const input = <Self>() => <const Tag extends string>(tag: Tag) =>
  InputReason.extend<Self>(`${ID}/${tag}`)({ _tag: Schema.tag(tag) })
const failure = <Self>() => <const Tag extends string>(tag: Tag) =>
  Reason.extend<Self>(`${ID}/${tag}`)({ _tag: Schema.tag(tag) })

// ── the database (input) ─────────────────────────────────────────────────────────────────────

/**
 * A database URL that does not parse, or names neither `postgres(ql)://` nor `pglite://`. Input.
 *
 * @example
 * ```ts
 * import { InvalidUrl, MigrationError } from "stage-normalization/migration"
 * const e = new MigrationError({ reason: new InvalidUrl({ detail: "mysql://db is not a PostgreSQL URL" }) })
 * e.reason._tag   // => "InvalidUrl"
 * e.isInputError  // => true
 * e.isRetryable   // => false
 * ```
 *
 * @since 0.2.0
 * @category reasons
 */
export class InvalidUrl extends input<InvalidUrl>()("InvalidUrl") {}

/**
 * The server does not answer or refuses the connection. Input; retryable when the `SqlError`
 * under it is (a refused or dropped connection is, a wrong password is not).
 *
 * @since 0.2.0
 * @category reasons
 */
export class DatabaseUnreachable extends input<DatabaseUnreachable>()("DatabaseUnreachable") {
  /** When the `SqlError` under it is. */
  override get isRetryable(): boolean {
    return causeIsRetryable(this.cause)
  }
}

/**
 * The embedded database (PGlite) could not open its data directory or start its socket. Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class EmbeddedStartFailed extends input<EmbeddedStartFailed>()("EmbeddedStartFailed") {}

// ── the target (input) ───────────────────────────────────────────────────────────────────────

/**
 * The table does not exist, its name is not valid, or it is not a table. Input.
 *
 * @example
 * ```ts
 * import { MigrationError, TableNotFound } from "stage-normalization/migration"
 * const e = new MigrationError({ reason: new TableNotFound({ detail: "table \"companies\" does not exist" }) })
 * e.message // => "table \"companies\" does not exist"
 * ```
 *
 * @since 0.2.0
 * @category reasons
 */
export class TableNotFound extends input<TableNotFound>()("TableNotFound") {}

/**
 * The table has no such column. Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class ColumnNotFound extends input<ColumnNotFound>()("ColumnNotFound") {}

/**
 * The stage or id column has a type the migration cannot work with. Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class WrongColumnType extends input<WrongColumnType>()("WrongColumnType") {}

/**
 * The id column has no primary key or unique index of its own. Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class IdNotUnique extends input<IdNotUnique>()("IdNotUnique") {}

/**
 * Options that conflict or are out of range (a batch size below 1, the same id and stage column, …). Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class InvalidOptions extends input<InvalidOptions>()("InvalidOptions") {}

// ── runs ─────────────────────────────────────────────────────────────────────────────────────

/**
 * Another run (or rollback) holds the target. Input, and retryable: it succeeds once that run ends.
 *
 * @since 0.2.0
 * @category reasons
 */
export class RunInProgress extends input<RunInProgress>()("RunInProgress") {
  /** Always: the other run ends. */
  override get isRetryable(): boolean {
    return true
  }
}

/**
 * No run with that id, or none in a state the operation needs (already finished, no checkpoint). Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class RunNotFound extends input<RunNotFound>()("RunNotFound") {}

/**
 * `--resume` with no interrupted run on the target. Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class NothingToResume extends input<NothingToResume>()("NothingToResume") {}

/**
 * `--resume` with options that differ from the interrupted run's. Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class ResumeMismatch extends input<ResumeMismatch>()("ResumeMismatch") {}

/**
 * The run's advisory lock went away mid-run (its session ended). Retryable: the run is left
 * resumable, and `--resume` continues it.
 *
 * @since 0.2.0
 * @category reasons
 */
export class LockLost extends failure<LockLost>()("LockLost") {
  /** Always: the run is left resumable. */
  override get isRetryable(): boolean {
    return true
  }
}

// ── safety (input) ───────────────────────────────────────────────────────────────────────────

/**
 * A `--force-unknown` mapping file that does not parse or maps to a stage that does not exist. Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class InvalidMapping extends input<InvalidMapping>()("InvalidMapping") {}

/**
 * An operation that needs an explicit confirmation did not get it. Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class ConfirmationRequired extends input<ConfirmationRequired>()("ConfirmationRequired") {}

/**
 * `migrate --apply` without a fresh, verified, restore-tested backup of the target. Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class BackupRequired extends input<BackupRequired>()("BackupRequired") {}

/**
 * `pg_dump` / `pg_restore` of the server's major version are not installed. Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class BackupToolMissing extends input<BackupToolMissing>()("BackupToolMissing") {}

/**
 * A backup or manifest that cannot be read, does not parse, or whose checksum does not match. Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class BackupInvalid extends input<BackupInvalid>()("BackupInvalid") {}

/**
 * The operation cannot run on this embedded database (in memory, or served by another process). Input.
 *
 * @since 0.2.0
 * @category reasons
 */
export class EmbeddedUnsupported extends input<EmbeddedUnsupported>()("EmbeddedUnsupported") {}

// ── failures of the operation itself ─────────────────────────────────────────────────────────

/**
 * Writing a backup failed (`pg_dump` exited non-zero, a file could not be written, …).
 * Retryable when its `cause` is a retryable `SqlError`.
 *
 * @since 0.2.0
 * @category reasons
 */
export class BackupFailed extends failure<BackupFailed>()("BackupFailed") {}

/**
 * Restoring a backup into a scratch database, or comparing it with the source, failed.
 * Retryable when its `cause` is a retryable `SqlError`.
 *
 * @since 0.2.0
 * @category reasons
 */
export class RestoreTestFailed extends failure<RestoreTestFailed>()("RestoreTestFailed") {}

/**
 * The tracking schema could not be applied. Retryable when its `cause` is a retryable `SqlError`.
 *
 * @since 0.2.0
 * @category reasons
 */
export class SchemaMigrationFailed extends failure<SchemaMigrationFailed>()("SchemaMigrationFailed") {}

/**
 * The SQL twin of the normaliser could not be generated or installed. Retryable when its `cause`
 * is a retryable `SqlError`.
 *
 * @since 0.2.0
 * @category reasons
 */
export class SqlTwinFailed extends failure<SqlTwinFailed>()("SqlTwinFailed") {}

/**
 * A batch failed after its retries and splits. Retryable when its `cause` is a retryable `SqlError`.
 *
 * @since 0.2.0
 * @category reasons
 */
export class BatchFailed extends failure<BatchFailed>()("BatchFailed") {}

/**
 * Any other query failed. Retryable when its `cause` is a retryable `SqlError`.
 *
 * @example
 * ```ts
 * import { SqlError } from "effect/sql"
 * import { QueryFailed } from "stage-normalization/migration"
 * const dropped = new SqlError.SqlError({ reason: new SqlError.ConnectionError({ cause: new Error("reset") }) })
 * new QueryFailed({ detail: "reading run 7: reset", cause: dropped }).isRetryable // => true
 * new QueryFailed({ detail: "reading run 7: boom" }).isRetryable                 // => false
 * ```
 *
 * @since 0.2.0
 * @category reasons
 */
export class QueryFailed extends failure<QueryFailed>()("QueryFailed") {}

/**
 * The schema of {@link MigrationErrorReason}: a union of the reason classes, discriminated by
 * `_tag` (encoded: `{ _tag, detail, cause? }`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { MigrationErrorReason, TableNotFound } from "stage-normalization/migration"
 * const encoded = Schema.encodeSync(MigrationErrorReason)(new TableNotFound({ detail: "no table" }))
 * // => { _tag: "TableNotFound", detail: "no table" }
 * Schema.decodeUnknownSync(MigrationErrorReason)(encoded) instanceof TableNotFound // => true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const MigrationErrorReason = Schema.Union([
  InvalidUrl,
  DatabaseUnreachable,
  EmbeddedStartFailed,
  TableNotFound,
  ColumnNotFound,
  WrongColumnType,
  IdNotUnique,
  InvalidOptions,
  RunInProgress,
  RunNotFound,
  NothingToResume,
  ResumeMismatch,
  LockLost,
  InvalidMapping,
  ConfirmationRequired,
  BackupRequired,
  BackupToolMissing,
  BackupInvalid,
  EmbeddedUnsupported,
  BackupFailed,
  RestoreTestFailed,
  SchemaMigrationFailed,
  SqlTwinFailed,
  BatchFailed,
  QueryFailed
])

/**
 * Every reason a migration operation can fail for (one of the classes above); `reason._tag`
 * tells them apart.
 *
 * @since 0.1.0
 * @category models
 */
export type MigrationErrorReason = typeof MigrationErrorReason.Type

/**
 * Whether a value is one of the {@link MigrationErrorReason} classes.
 *
 * @example
 * ```ts
 * import { isMigrationErrorReason, RunNotFound } from "stage-normalization/migration"
 * isMigrationErrorReason(new RunNotFound({ detail: "run 7 does not exist" })) // => true
 * isMigrationErrorReason({ _tag: "RunNotFound", detail: "run 7 does not exist" }) // => false
 * ```
 *
 * @since 0.2.0
 * @category guards
 */
export const isMigrationErrorReason = (u: unknown): u is MigrationErrorReason => Predicate.hasProperty(u, ReasonTypeId)
