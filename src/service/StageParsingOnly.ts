/**
 * `withStageParsingOnly`: the benchmark's baseline for the boundary. It gives a handler the same
 * {@link NormalizedStages} view as `withStageValidation` — the body read and parsed once, the
 * stage data normalised with the same normaliser — but without the boundary itself: no rollout
 * decision, no headers, no metrics, no offender log, no request id, never a 400 for invalid
 * stages. A host that did not use this library would still have to parse its body and map stage
 * strings; the difference between the two is what the boundary costs.
 *
 * Not meant for production routes.
 *
 * @since 0.1.0
 */
import { ByteSize, Context, Effect } from "effect"
import { HttpIncomingMessage, HttpServerRequest, HttpServerResponse } from "effect/http"
import { DEFAULT_DOCUMENT } from "../rollout/Config.ts"
import { getValidationDecision } from "../rollout/Decision.ts"
import { evaluateStages, extractFromBody, extractFromQuery } from "../http/EvaluateStages.ts"
import { NormalizedStages } from "../http/NormalizedStages.ts"
import { DEFAULT_MAX_BODY_BYTES } from "../http/StageBoundary.ts"
import type { StageRoute } from "../http/StageValidation.ts"

const OFF = getValidationDecision({ ...DEFAULT_DOCUMENT, defaultMode: "off" }, { method: "GET", path: "/", requestId: "" })

/**
 * Wraps a handler with body parsing and stage normalisation only (see the module notes).
 *
 * @example
 * ```ts
 * import { StageLocation } from "stage-normalization/http"
 * import { withStageParsingOnly } from "./StageParsingOnly.ts" // internal: not part of the package's API
 * const baseline = withStageParsingOnly({ endpoint: "/api/monte-carlo/simulate", location: StageLocation.bodyDistribution() })
 * ```
 * @since 0.1.0
 * @category middleware
 */
export const withStageParsingOnly = (route: StageRoute) =>
<E, R>(
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  E,
  Exclude<R, NormalizedStages> | HttpServerRequest.HttpServerRequest | HttpServerRequest.ParsedSearchParams
> =>
  Effect.contextWith((context: Context.Context<HttpServerRequest.HttpServerRequest | HttpServerRequest.ParsedSearchParams>) => {
    const request = Context.get(context, HttpServerRequest.HttpServerRequest)
    const location = route.location
    const run = (value: { present: boolean; value?: unknown }, body: unknown) => {
      const evaluation = value.present ? evaluateStages(location, value.value, OFF, DEFAULT_DOCUMENT) : undefined
      return Effect.provideService(handler, NormalizedStages, {
        requestId: "",
        endpoint: route.endpoint,
        decision: OFF,
        result: evaluation?.result,
        body: evaluation === undefined ? body : evaluation.rewrite(body),
        stages: evaluation?.data ?? { _tag: "Absent" }
      })
    }
    if (location._tag === "QueryStage") {
      return run(extractFromQuery(location.param, Context.get(context, HttpServerRequest.ParsedSearchParams)), undefined)
    }
    return request.text.pipe(
      Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES)),
      Effect.matchEffect({
        onFailure: () => Effect.succeed(HttpServerResponse.jsonUnsafe({ error: "INVALID_REQUEST_BODY" }, { status: 400 })),
        onSuccess: (text) => {
          let body: unknown
          try {
            body = text.length === 0 ? undefined : JSON.parse(text)
          } catch {
            return Effect.succeed(HttpServerResponse.jsonUnsafe({ error: "INVALID_JSON" }, { status: 400 }))
          }
          return run(extractFromBody(location, body), body)
        }
      })
    )
  })
