/**
 * `StageBoundary`: the configuration of the stage boundary in an Effect HTTP app (where the
 * rollout document comes from, offender-log sampling and sink, the body limit). Routes declare
 * where their stage data lives with `withStageValidation`; this service says how to validate it.
 *
 * `layerFromDocument(get)` takes any synchronous source of the current document; the reference
 * service builds it from the rollout `ModeStore`'s in-process value (`layerFromModeStore`).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { RolloutDocument } from "../rollout/Config.ts"
import type { OffenderLogSink } from "../observability/OffenderLog.ts"
import type { BoundaryOptions } from "./BoundaryEngine.ts"

/**
 * Default request-body limit of validated routes: 1 MiB. A distribution has at most
 * `MAX_DISTRIBUTION_ENTRIES` (64) entries and a stage at most `MAX_INPUT_LENGTH` (64)
 * characters, so the stage data itself needs a few KiB; the rest is the host's own payload.
 * A route can set its own (`StageRoute.maxBodyBytes`); the reference service uses 64 KiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024

/**
 * @since 0.1.0
 * @category models
 */
export interface StageBoundaryOptions extends BoundaryOptions {
  /** request-body limit of validated routes, bytes (default 1 MiB); larger bodies get a 413 */
  readonly maxBodyBytes?: number | undefined
}

/**
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * import { StageBoundary } from "stage-normalization/http"
 * const BoundaryLive = StageBoundary.layer({ current: () => DEFAULT_DOCUMENT, offenderSamplePercent: 100 })
 * ```
 * @since 0.1.0
 * @category services
 */
export class StageBoundary extends Context.Service<StageBoundary, {
  readonly options: BoundaryOptions
  readonly maxBodyBytes: number
}>()("stage-normalization/http/StageBoundary") {
  /**
   * @since 0.1.0
   * @category layers
   */
  static readonly layer = (options: StageBoundaryOptions): Layer.Layer<StageBoundary> =>
    Layer.succeed(StageBoundary, StageBoundary.of({ options, maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES }))

  /**
   * A boundary over a document source built by an effect (e.g. reading a service).
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layerEffect = <E, R>(
    current: Effect.Effect<() => RolloutDocument, E, R>,
    options?: {
      readonly offenderSamplePercent?: number | undefined
      readonly offenderSink?: OffenderLogSink | undefined
      readonly maxBodyBytes?: number | undefined
    }
  ): Layer.Layer<StageBoundary, E, R> =>
    Layer.effect(
      StageBoundary,
      Effect.map(current, (get) =>
        StageBoundary.of({
          options: { ...options, current: get },
          maxBodyBytes: options?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
        }))
    )
}
