/**
 * The stage boundary for Effect HTTP, declared per route:
 *
 * ```ts
 * HttpRouter.add("POST", "/api/monte-carlo/simulate",
 *   simulateHandler.pipe(withStageValidation({
 *     endpoint: "/api/monte-carlo/simulate",
 *     location: StageLocation.bodyDistribution("stageDistribution")
 *   })))
 * ```
 *
 * For each request it resolves the request id (a sane `x-request-id`, else a UUID; always
 * echoed; for correlation only — the percentage rollout buckets on the route's `bucketKey`, the
 * document's stickiness header or a server-generated key, never on the id a client sends), reads and parses the JSON body once (body locations; limit
 * from the route, else `StageBoundary`; 413 above it, 400 `INVALID_JSON` for malformed JSON), runs the boundary pipeline (decision from
 * the in-process rollout document, normalisation, headers, metrics, sampled offender log), then
 * either answers the contract's 400 or runs the handler with {@link NormalizedStages} provided
 * and adds the stage headers to its response. A request without the stage field is not
 * validated or counted; the handler sees `stages: { _tag: "Absent" }`. A failure of the validator
 * itself (a bug, not invalid input) is counted in `stage_validation_errors_total` and answered
 * with a JSON 500.
 *
 * @since 0.1.0
 */
import { ByteSize, Context, Effect } from "effect"
import { HttpIncomingMessage, HttpServerRequest, type HttpServerResponse } from "effect/http"
import * as Response from "effect/http/HttpServerResponse"
import { getValidationDecision } from "../rollout/Decision.ts"
import { type BoundaryOptions, type BoundaryOutcome, bucketKeyOf, routeBoundary } from "./BoundaryEngine.ts"
import { recordValidationError } from "./BoundaryMetrics.ts"
import { requestErrorBody } from "./ErrorBody.ts"
import { type ExtractedValue, extractFromBody, extractFromQuery } from "./EvaluateStages.ts"
import { NormalizedStages } from "./NormalizedStages.ts"
import { REQUEST_ID_HEADER, resolveRequestId } from "./RequestId.ts"
import { headersOf } from "./SourceHeaders.ts"
import { StageBoundary } from "./StageBoundary.ts"
import type { PreparedHeaders } from "./PreparedHeaders.ts"
import type { StageLocation } from "./StageLocation.ts"

/**
 * A route's stage declaration.
 *
 * `bucketKey` (optional) gives the percentage rollout's bucketing key for a request: a value the
 * caller cannot pick, such as the tenant, fund or principal your authentication established
 * (read from the request, or from a service in the context, e.g. one an auth middleware
 * provides — name it in `RK`). Every request with one key gets the same decision. Without it (or
 * when it returns `undefined`) the document's `stickinessHeader` applies, else a server-generated
 * key per request. The `x-request-id` header is never a bucketing key unless you opt in with
 * `bucketKeyFromHeader("x-request-id")`, and then a client picks its own bucket.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { StageLocation, type StageRoute } from "stage-normalization/http"
 * class Tenant extends Context.Service<Tenant, { readonly id: string }>()("app/Tenant") {}
 * const route: StageRoute<Tenant> = {
 *   endpoint: "/api/allocations",
 *   location: StageLocation.bodyStage("stage"),
 *   bucketKey: (_request, context) => Context.get(context, Tenant).id
 * }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface StageRoute<RK = never> {
  /** the route template (`endpoint` metric label, decision path), e.g. `/api/funds/:fundId/companies` */
  readonly endpoint: string
  readonly location: StageLocation
  /** the bucketing key of a request (see above); default: the document's stickiness header, else server-generated */
  readonly bucketKey?:
    | ((request: HttpServerRequest.HttpServerRequest, context: Context.Context<RK>) => string | undefined)
    | undefined
  /** this route's request-body limit, bytes (default: the `StageBoundary`'s, 1 MiB); larger bodies get a 413 */
  readonly maxBodyBytes?: number | undefined
}

const ABSENT_STAGES = Object.freeze({ _tag: "Absent" as const })

// The request id and the stage headers go onto the response in one copy of its header map:
// `setHeader` returns a new response whose `Headers` it has just copied (documented: "a new
// Headers collection"), which nothing else references yet, so the prepared block's lower-case
// record (built once per distinct header set, see `prepareStageHeaders`) is assigned into that
// copy before anyone sees it. The response the handler returned, and its headers, stay as they
// were. Measured with one alias (bench/http-boundary.ts, 30 paired rounds): extra server CPU per
// request +7.0 % through effect's `setHeaders` (two more copies of the map, one keyed store per
// header), +4.9 % this way, +3.8 % with the request id alone. Exported for the boundary
// benchmark's route that sends these headers without the boundary (`--baseline-headers`,
// `--headers-only`; not re-exported by the package).
/** @internal */
export const withHeaders = (
  response: HttpServerResponse.HttpServerResponse,
  prepared: PreparedHeaders,
  requestId: string
): HttpServerResponse.HttpServerResponse => {
  const out = Response.setHeader(response, REQUEST_ID_HEADER, requestId)
  if (prepared.pairs.length > 0) {
    Object.assign(out.headers, prepared.record)
  }
  return out
}

const errorResponse = (status: number, error: string, message: string, requestId: string) =>
  Response.jsonUnsafe(requestErrorBody(error, message), { status, headers: { [REQUEST_ID_HEADER]: requestId } })

type Parsed = { readonly ok: true; readonly body: unknown } | { readonly ok: false }

const parseJson = (text: string): Parsed => {
  if (text.length === 0) return { ok: true, body: undefined }
  try {
    return { ok: true, body: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

/**
 * Wraps a route handler with the stage boundary (see the module notes). The handler may require
 * {@link NormalizedStages}; the result requires {@link StageBoundary} instead.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpRouter, HttpServerResponse } from "effect/http"
 * import { NormalizedStages, StageLocation, withStageValidation } from "stage-normalization/http"
 *
 * const Route = HttpRouter.add("POST", "/api/allocations",
 *   Effect.gen(function*() {
 *     const { stages } = yield* NormalizedStages
 *     return HttpServerResponse.jsonUnsafe({ stages })
 *   }).pipe(withStageValidation({ endpoint: "/api/allocations", location: StageLocation.bodyStage("stage") })))
 * ```
 * @since 0.1.0
 * @category middleware
 */
export const withStageValidation = <RK = never>(route: StageRoute<RK>) => {
  // The route's pipeline, built once per boundary configuration (the StageBoundary service's
  // options; in practice one per process).
  let runOptions: BoundaryOptions | undefined
  let run: ReturnType<typeof routeBoundary> | undefined
  const runFor = (options: BoundaryOptions): ReturnType<typeof routeBoundary> => {
    if (options !== runOptions || run === undefined) {
      run = routeBoundary(options, route.endpoint, route.location)
      runOptions = options
    }
    return run
  }
  return <E, R>(
    handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
  ): Effect.Effect<
    HttpServerResponse.HttpServerResponse,
    E,
    | Exclude<R, NormalizedStages>
    | StageBoundary
    | HttpServerRequest.HttpServerRequest
    | HttpServerRequest.ParsedSearchParams
    | RK
  > =>
    Effect.contextWith((context: Context.Context<
      StageBoundary | HttpServerRequest.HttpServerRequest | HttpServerRequest.ParsedSearchParams | RK
    >) => {
      const boundary = Context.get(context, StageBoundary)
      const request = Context.get(context, HttpServerRequest.HttpServerRequest)
      const headers = headersOf(request)
      const requestId = resolveRequestId(headers[REQUEST_ID_HEADER])
      const location = route.location
      const bucketKey = route.bucketKey
      const hostKey = bucketKey === undefined ? undefined : () => bucketKey(request, context as Context.Context<RK>)

      const proceed = (extracted: ExtractedValue, body: unknown) => {
        if (!extracted.present) {
          const doc = boundary.options.current()
          const decision = getValidationDecision(doc, {
            method: request.method,
            path: route.endpoint,
            requestId,
            stickinessKey: bucketKeyOf(doc, { headers, hostKey })
          })
          return Effect.map(
            Effect.provideService(handler, NormalizedStages, {
              requestId,
              endpoint: route.endpoint,
              decision,
              result: undefined,
              body,
              stages: ABSENT_STAGES
            }),
            (response) => Response.setHeader(response, REQUEST_ID_HEADER, requestId)
          )
        }
        let outcome: BoundaryOutcome
        try {
          outcome = runFor(boundary.options)({ method: request.method, value: extracted.value, requestId, headers, hostKey }, context as Context.Context<never>)
        } catch (defect) {
          // a validator bug, never invalid input: counted, logged, answered 500
          recordValidationError(context as Context.Context<never>, route.endpoint)
          return Effect.as(
            Effect.logError("stage_validation.validator_error").pipe(
              Effect.annotateLogs({ event: "stage_validation.validator_error", endpoint: route.endpoint, requestId, cause: String(defect) })
            ),
            errorResponse(500, "VALIDATION_ERROR", "the stage validator failed", requestId)
          )
        }
        if (outcome.errorBody !== undefined) {
          return Effect.succeed(withHeaders(Response.jsonUnsafe(outcome.errorBody, { status: 400 }), outcome.prepared, requestId))
        }
        return Effect.map(
          Effect.provideService(handler, NormalizedStages, {
            requestId,
            endpoint: route.endpoint,
            decision: outcome.decision,
            result: outcome.result,
            body: location._tag === "QueryStage" ? undefined : outcome.rewrite(body),
            stages: outcome.data
          }),
          (response) => withHeaders(response, outcome.prepared, requestId)
        )
      }

      if (location._tag === "QueryStage") {
        const params = Context.get(context, HttpServerRequest.ParsedSearchParams)
        return proceed(extractFromQuery(location.param, params), undefined)
      }
      const maxBodyBytes = route.maxBodyBytes ?? boundary.maxBodyBytes
      const tooLarge = () => errorResponse(413, "PAYLOAD_TOO_LARGE", `the request body exceeds ${maxBodyBytes} bytes`, requestId)
      // A declared length over the limit is refused before a byte is read (the rest is discarded
      // by the server, never buffered); an undeclared one is counted while reading.
      const declared = Number(headers["content-length"])
      if (declared > maxBodyBytes) return Effect.succeed(tooLarge())
      return request.text.pipe(
        Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(maxBodyBytes)),
        Effect.matchEffect({
          onFailure: (error) =>
            Effect.succeed(
              error.reason._tag === "RequestParseError" && error.reason.reason === "BodyTooLarge"
                ? tooLarge()
                : errorResponse(400, "INVALID_REQUEST_BODY", "the request body could not be read", requestId)
            ),
          onSuccess: (text) => {
            const parsed = parseJson(text)
            if (!parsed.ok) {
              return Effect.succeed(errorResponse(400, "INVALID_JSON", "the request body is not valid JSON", requestId))
            }
            return proceed(extractFromBody(location, parsed.body), parsed.body)
          }
        })
      )
    })
}
