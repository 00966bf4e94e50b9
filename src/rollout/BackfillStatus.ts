/**
 * `BackfillStatus`: whether the historical rows were migrated to canonical stages **and** the
 * migration was verified. The finalisation guard asks it before reads move into enforcement: a
 * read filtered by a canonical stage misses rows still stored as "Series A".
 *
 * The memory implementations and a layer over any check (`layerCheck`) live here; the migration
 * module provides one backed by PostgreSQL.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Predicate, Ref, Schema } from "effect"

/**
 * The answer of a backfill check.
 *
 * @example
 * ```ts
 * import type { BackfillState } from "stage-normalization/rollout"
 * const state: BackfillState = { migrated: true, verified: false, detail: "verification report pending" }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface BackfillState {
  readonly migrated: boolean
  readonly verified: boolean
  /** free text for operators, e.g. "batch 412/500" or the verification report id */
  readonly detail?: string | undefined
}

/**
 * A backfill that has been migrated and verified.
 *
 * @example
 * ```ts
 * import { BACKFILL_VERIFIED } from "stage-normalization/rollout"
 * BACKFILL_VERIFIED.verified // => true
 * ```
 * @since 0.1.0
 * @category constants
 */
export const BACKFILL_VERIFIED: BackfillState = { migrated: true, verified: true }

/**
 * A backfill that has not run (the safe assumption).
 *
 * @example
 * ```ts
 * import { BACKFILL_PENDING } from "stage-normalization/rollout"
 * BACKFILL_PENDING.migrated // => false
 * ```
 * @since 0.1.0
 * @category constants
 */
export const BACKFILL_PENDING: BackfillState = { migrated: false, verified: false }

/**
 * The backfill status could not be read (the guard then refuses, fail-closed).
 *
 * @example
 * ```ts
 * import { BackfillStatusError } from "stage-normalization/rollout"
 * new BackfillStatusError({ message: "database unavailable" }).message // => "database unavailable"
 * ```
 * @since 0.1.0
 * @category errors
 */
export class BackfillStatusError extends Schema.TaggedError<BackfillStatusError>(
  "stage-normalization/rollout/BackfillStatusError"
)("BackfillStatusError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * The backfill-status service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BACKFILL_VERIFIED, BackfillStatus } from "stage-normalization/rollout"
 * const program = BackfillStatus.use((s) => s.status).pipe(Effect.provide(BackfillStatus.layerMemory(BACKFILL_VERIFIED)))
 * ```
 * @since 0.1.0
 * @category services
 */
export class BackfillStatus extends Context.Service<BackfillStatus, {
  readonly status: Effect.Effect<BackfillState, BackfillStatusError>
}>()("stage-normalization/rollout/BackfillStatus") {
  /**
   * A fixed answer.
   *
   * @example
   * ```ts
   * import { BACKFILL_PENDING, BackfillStatus } from "stage-normalization/rollout"
   * const layer = BackfillStatus.layerMemory(BACKFILL_PENDING)
   * ```
   * @since 0.1.0
   * @category layers
   */
  static readonly layerMemory = (state: BackfillState): Layer.Layer<BackfillStatus> =>
    Layer.succeed(BackfillStatus, BackfillStatus.of({ status: Effect.succeed(state) }))

  /**
   * An answer read from a `Ref`, so a test or a host can change it at runtime.
   *
   * @example
   * ```ts
   * import { Effect, Ref } from "effect"
   * import { BACKFILL_PENDING, BackfillStatus } from "stage-normalization/rollout"
   * const program = Effect.gen(function*() {
   *   const ref = yield* Ref.make(BACKFILL_PENDING)
   *   const layer = BackfillStatus.layerRef(ref)
   * })
   * ```
   * @since 0.1.0
   * @category layers
   */
  static readonly layerRef = (ref: Ref.Ref<BackfillState>): Layer.Layer<BackfillStatus> =>
    Layer.succeed(BackfillStatus, BackfillStatus.of({ status: Ref.get(ref) }))

  /**
   * An answer computed by `check` on every `status` call: the way to plug in a check of your own
   * (a query of the migration's record, a call to another service) without this module knowing
   * where the answer comes from.
   *
   * **Details**
   *
   * The services `check` needs (`R`) are taken from the layer's context when the layer is built,
   * so `status` itself needs none. Any failure of `check` becomes a
   * {@link BackfillStatusError} carrying the failure as its `cause` and its `message` (or the
   * failure as a string when it has none), which the finalisation guard treats as "not verified".
   * Defects and interruptions are not failures of the check and pass through unchanged.
   *
   * @example
   * ```ts
   * import { Context, Effect, Layer } from "effect"
   * import { BackfillStatus } from "stage-normalization/rollout"
   *
   * class MigrationRecord extends Context.Service<MigrationRecord, {
   *   readonly latest: Effect.Effect<{ readonly succeeded: boolean; readonly verified: boolean }, Error>
   * }>()("app/MigrationRecord") {}
   *
   * // Layer<BackfillStatus, never, MigrationRecord>
   * const layer = BackfillStatus.layerCheck(
   *   Effect.gen(function*() {
   *     const run = yield* (yield* MigrationRecord).latest
   *     return { migrated: run.succeeded, verified: run.verified }
   *   })
   * )
   * ```
   * @since 0.2.0
   * @category layers
   */
  static readonly layerCheck = <E, R>(check: Effect.Effect<BackfillState, E, R>): Layer.Layer<BackfillStatus, never, R> =>
    Layer.effect(
      BackfillStatus,
      Effect.map(Effect.context<R>(), (context) =>
        BackfillStatus.of({
          status: check.pipe(
            Effect.provideContext(context),
            Effect.mapError((cause) => new BackfillStatusError({ message: messageOf(cause), cause }))
          )
        }))
    )
}

const messageOf = (cause: unknown): string =>
  Predicate.hasProperty(cause, "message") && typeof cause.message === "string" ? cause.message : String(cause)
