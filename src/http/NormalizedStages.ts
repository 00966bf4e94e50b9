/**
 * `NormalizedStages`: what a route handler behind the stage boundary receives. The boundary has
 * already read and parsed the body, normalised the route's stage data and decided; the handler
 * works with canonical stages only and never re-reads the raw body.
 *
 * @since 0.1.0
 */
import { Context } from "effect"
import type { ValidationDecision } from "../rollout/Decision.ts"
import type { NormalizedStageData, ValidationResult } from "./EvaluateStages.ts"

/**
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpServerResponse } from "effect/http"
 * import { NormalizedStages } from "stage-normalization/http"
 *
 * const handler = Effect.gen(function*() {
 *   const { stages, body, requestId } = yield* NormalizedStages
 *   // stages._tag === "Distribution": stages.entries are canonical, merged, in canonical order
 *   return HttpServerResponse.jsonUnsafe({ requestId, stages, body })
 * })
 * ```
 * @since 0.1.0
 * @category services
 */
export class NormalizedStages extends Context.Service<NormalizedStages, {
  readonly requestId: string
  /** the route template */
  readonly endpoint: string
  readonly decision: ValidationDecision
  /** the metrics result; `undefined` when the stage field was absent (nothing validated) */
  readonly result: ValidationResult | undefined
  /** the parsed JSON body with the stage field rewritten to canonical values; `undefined` for query routes */
  readonly body: unknown
  readonly stages: NormalizedStageData
}>()("stage-normalization/http/NormalizedStages") {}
