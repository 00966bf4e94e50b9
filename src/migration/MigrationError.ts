/**
 * The migration module's one error: `MigrationError`, whose `reason` says what went wrong — one
 * of the tagged classes of `MigrationErrorReason.ts` (`TableNotFound`, `RunInProgress`,
 * `QueryFailed`, …), as effect's `SqlError` has its reasons. `reason._tag` tells them apart;
 * `message` is the reason's `detail`; `isInputError` and `isRetryable` are the reason's.
 *
 * Reasons caused by the operator's input or environment (a table or column that does not exist, a
 * column of the wrong type, an unreachable database, conflicting options, a second run on a busy
 * target, a malformed mapping file, a missing confirmation, no fresh backup, a missing or
 * mismatched `pg_dump`, a backup whose checksum does not match) are
 * {@link MigrationError.isInputError input errors}: the CLI prints them plainly and exits 2,
 * having written nothing.
 *
 * Construction: wrap a reason, the way effect builds an `SqlError` —
 *
 * ```ts
 * import { MigrationError, QueryFailed, TableNotFound } from "stage-normalization/migration"
 * new MigrationError({ reason: new TableNotFound({ detail: "table \"companies\" does not exist" }) })
 * new MigrationError({ reason: new QueryFailed({ detail: `reading run 7: ${String(cause)}`, cause }) })
 * ```
 *
 * @since 0.1.0
 */
import { Predicate, Schema } from "effect"
import { MigrationErrorReason, QueryFailed } from "./MigrationErrorReason.ts"

const MigrationErrorTypeId = "~stage-normalization/migration/MigrationError" as const

/**
 * A migration operation failed; `reason` says why (`reason._tag`), `message` is its `detail`, a
 * sentence for operators naming what and where. `cause` is the reason (whose own `cause` is the
 * failure underneath, if any), so a printed cause shows the whole chain.
 *
 * @example
 * ```ts
 * import { ColumnNotFound, MigrationError } from "stage-normalization/migration"
 * const e = new MigrationError({
 *   reason: new ColumnNotFound({ detail: "public.portfolio_companies has no column \"stag\"" })
 * })
 * e.reason._tag   // => "ColumnNotFound"
 * e.isInputError  // => true
 * e.isRetryable   // => false
 * e.message       // => "public.portfolio_companies has no column \"stag\""
 * ```
 *
 * @example
 * ```ts
 * // handle one reason, keep the others in the error channel
 * import { Effect } from "effect"
 * import { MigrationError, RunInProgress } from "stage-normalization/migration"
 * const busy = Effect.fail(new MigrationError({ reason: new RunInProgress({ detail: "run 3 holds the target" }) }))
 * const program = busy.pipe(Effect.catchReason("MigrationError", "RunInProgress", (r) => Effect.succeed(r.detail)))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MigrationError extends Schema.TaggedError<MigrationError>("stage-normalization/migration/MigrationError")(
  "MigrationError",
  { reason: MigrationErrorReason }
) {
  /** Marks a `MigrationError` for {@link isMigrationError}. */
  readonly [MigrationErrorTypeId] = MigrationErrorTypeId

  /** The reason, as the JavaScript error cause (its own `cause` is the failure underneath). */
  override readonly cause = this.reason

  /** The reason's `detail`. */
  override get message(): string {
    return this.reason.detail
  }

  /** Caused by the operator's input or environment; nothing was written (the reason's). */
  get isInputError(): boolean {
    return this.reason.isInputError
  }

  /** Whether running the same operation again may succeed (the reason's). */
  get isRetryable(): boolean {
    return this.reason.isRetryable
  }
}

/**
 * Whether a value is a {@link MigrationError}.
 *
 * @example
 * ```ts
 * import { isMigrationError, MigrationError, RunNotFound } from "stage-normalization/migration"
 * isMigrationError(new MigrationError({ reason: new RunNotFound({ detail: "run 7 does not exist" }) })) // => true
 * isMigrationError(new Error("run 7 does not exist"))                                                 // => false
 * ```
 *
 * @since 0.2.0
 * @category guards
 */
export const isMigrationError = (u: unknown): u is MigrationError => Predicate.hasProperty(u, MigrationErrorTypeId)

/**
 * The message of an unknown failure (an `SqlError`, a `MigrationError`, a defect), for `detail`
 * fields.
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
  if (isMigrationError(cause)) return cause.message
  if (typeof cause === "object" && cause !== null) {
    const reason = (cause as { reason?: { message?: unknown; cause?: unknown } }).reason
    const inner = reason?.cause as { message?: unknown } | undefined
    if (inner !== undefined && typeof inner.message === "string" && inner.message.length > 0) return inner.message
    if (reason !== undefined && typeof reason.message === "string") return reason.message
    if ("message" in cause && typeof cause.message === "string") return cause.message
  }
  return String(cause)
}

/**
 * The mapper every migration module uses for a failed query: a `QueryFailed` naming what was
 * being done, with the driver's message; a `MigrationError` passes through unchanged.
 *
 * @example
 * ```ts
 * import { queryFailed } from "./MigrationError.ts" // internal: not part of the package's API
 * queryFailed("reading run 7")(new Error("connection lost")).message // => "reading run 7: connection lost"
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export const queryFailed = (what: string) => (cause: unknown): MigrationError =>
  isMigrationError(cause) ? cause : new MigrationError({ reason: new QueryFailed({ detail: `${what}: ${describeCause(cause)}`, cause }) })
