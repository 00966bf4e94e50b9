/**
 * The migration module's one error: `MigrationError`, whose `reason` says what went wrong.
 * Reasons caused by the operator's input or environment (a table or column that does not exist, a
 * column of the wrong type, an unreachable database, conflicting options, a second run on a busy
 * target, a malformed mapping file, a missing confirmation, no fresh backup, a missing or
 * mismatched `pg_dump`, a backup whose checksum does not match) are
 * {@link MigrationError.isInputError input errors}: the CLI prints them plainly and exits 2,
 * having written nothing.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * Every reason a migration operation can fail for.
 *
 * @since 0.1.0
 * @category models
 */
export const MigrationErrorReason = Schema.Literals([
  // the database
  "InvalidUrl",
  "DatabaseUnreachable",
  "EmbeddedStartFailed",
  // the target
  "TableNotFound",
  "ColumnNotFound",
  "WrongColumnType",
  "IdNotUnique",
  "InvalidOptions",
  // runs
  "RunInProgress",
  "RunNotFound",
  "NothingToResume",
  "ResumeMismatch",
  "LockLost",
  // safety (issue 7)
  "InvalidMapping",
  "ConfirmationRequired",
  "BackupRequired",
  "BackupToolMissing",
  "BackupInvalid",
  "BackupFailed",
  "RestoreTestFailed",
  "EmbeddedUnsupported",
  // running
  "SchemaMigrationFailed",
  "SqlTwinFailed",
  "BatchFailed",
  "QueryFailed"
])

/**
 * @since 0.1.0
 * @category models
 */
export type MigrationErrorReason = typeof MigrationErrorReason.Type

const INPUT_REASONS: ReadonlySet<MigrationErrorReason> = new Set<MigrationErrorReason>([
  "InvalidUrl",
  "DatabaseUnreachable",
  "EmbeddedStartFailed",
  "TableNotFound",
  "ColumnNotFound",
  "WrongColumnType",
  "IdNotUnique",
  "InvalidOptions",
  "RunInProgress",
  "RunNotFound",
  "NothingToResume",
  "ResumeMismatch",
  "InvalidMapping",
  "ConfirmationRequired",
  "BackupRequired",
  "BackupToolMissing",
  "BackupInvalid",
  "EmbeddedUnsupported"
])

/**
 * A migration operation failed; `detail` is a sentence for operators naming what and where.
 *
 * @example
 * ```ts
 * import { MigrationError } from "stage-normalization/migration"
 * const e = new MigrationError({ reason: "ColumnNotFound", detail: "public.portfolio_companies has no column \"stag\"" })
 * e.isInputError // => true
 * e.message      // => "public.portfolio_companies has no column \"stag\""
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MigrationError extends Schema.TaggedError<MigrationError>("stage-normalization/migration/MigrationError")(
  "MigrationError",
  {
    reason: MigrationErrorReason,
    detail: Schema.String,
    cause: Schema.optional(Schema.Defect())
  }
) {
  override get message(): string {
    return this.detail
  }

  /** Caused by the operator's input or environment; nothing was written. */
  get isInputError(): boolean {
    return INPUT_REASONS.has(this.reason)
  }
}

/**
 * The message of an unknown failure (an `SqlError`, a defect), for `detail` fields.
 *
 * @example
 * ```ts
 * import { describeCause } from "stage-normalization/migration"
 * describeCause(new Error("boom")) // => "boom"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const describeCause = (cause: unknown): string => {
  if (typeof cause === "object" && cause !== null) {
    const reason = (cause as { reason?: { message?: unknown; cause?: unknown } }).reason
    const inner = reason?.cause as { message?: unknown } | undefined
    if (inner !== undefined && typeof inner.message === "string" && inner.message.length > 0) return inner.message
    if (reason !== undefined && typeof reason.message === "string") return reason.message
    if ("message" in cause && typeof cause.message === "string") return cause.message
  }
  return String(cause)
}
