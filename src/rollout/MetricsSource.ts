/**
 * `MetricsSource`: where the promotion gate gets its numbers. It returns one
 * {@link MetricsSnapshot} per evaluation window, newest first, so "N consecutive passes" is a
 * property of the data rather than of how often someone ran `promote`.
 *
 * The memory implementation lives here; the observability module provides a Prometheus one.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"
import type { MetricsSnapshot } from "./PromotionGate.ts"

/**
 * What the gate asks for: `windows` consecutive windows of `windowSeconds` each, newest first.
 *
 * @example
 * ```ts
 * import type { SnapshotRequest } from "stage-normalization/rollout"
 * const thirtyMinutes: SnapshotRequest = { windows: 3, windowSeconds: 600 }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface SnapshotRequest {
  readonly windows: number
  readonly windowSeconds: number
}

/**
 * The metrics backend could not be queried (the gate treats it as a failing verdict).
 *
 * @example
 * ```ts
 * import { MetricsSourceError } from "stage-normalization/rollout"
 * new MetricsSourceError({ message: "prometheus timeout" }).message // => "prometheus timeout"
 * ```
 * @since 0.1.0
 * @category errors
 */
export class MetricsSourceError extends Schema.TaggedError<MetricsSourceError>(
  "stage-normalization/rollout/MetricsSourceError"
)("MetricsSourceError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * The metrics-source service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MetricsSource } from "stage-normalization/rollout"
 * const program = MetricsSource.use((m) => m.snapshots({ windows: 3, windowSeconds: 600 })).pipe(
 *   Effect.provide(MetricsSource.layerMemory([]))
 * )
 * ```
 * @since 0.1.0
 * @category services
 */
export class MetricsSource extends Context.Service<MetricsSource, {
  readonly snapshots: (request: SnapshotRequest) => Effect.Effect<ReadonlyArray<MetricsSnapshot>, MetricsSourceError>
  /** The queries `snapshots` runs for a request, by snapshot field (for the gate's decision records). */
  readonly queries?: ((request: SnapshotRequest) => Readonly<Record<string, string>>) | undefined
}>()("stage-normalization/rollout/MetricsSource") {
  /**
   * Fixed snapshots, newest first; a request for `n` windows gets the first `n`.
   *
   * @example
   * ```ts
   * import { MetricsSource } from "stage-normalization/rollout"
   * const layer = MetricsSource.layerMemory([{ requests: 10_000, wouldRejectRatio: 0, validatorP99Seconds: 0.0002, errorRatio: 0, unknownStageRatio: 0, activeAlerts: [] }])
   * ```
   * @since 0.1.0
   * @category layers
   */
  static readonly layerMemory = (snapshots: ReadonlyArray<MetricsSnapshot>): Layer.Layer<MetricsSource> =>
    Layer.succeed(
      MetricsSource,
      MetricsSource.of({ snapshots: (request) => Effect.succeed(snapshots.slice(0, Math.max(0, request.windows))) })
    )

  /**
   * Snapshots read from a `Ref` (newest first), so tests and hosts can feed new windows.
   *
   * @example
   * ```ts
   * import { Effect, Ref } from "effect"
   * import { MetricsSource, type MetricsSnapshot } from "stage-normalization/rollout"
   * const program = Effect.gen(function*() {
   *   const ref = yield* Ref.make<ReadonlyArray<MetricsSnapshot>>([])
   *   return MetricsSource.layerRef(ref)
   * })
   * ```
   * @since 0.1.0
   * @category layers
   */
  static readonly layerRef = (ref: Ref.Ref<ReadonlyArray<MetricsSnapshot>>): Layer.Layer<MetricsSource> =>
    Layer.succeed(
      MetricsSource,
      MetricsSource.of({
        snapshots: (request) => Effect.map(Ref.get(ref), (all) => all.slice(0, Math.max(0, request.windows)))
      })
    )
}
