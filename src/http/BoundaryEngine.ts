/**
 * The boundary pipeline both adapters run for one request, synchronously: read the rollout
 * document (an in-process value, no I/O), decide (`getValidationDecision`), normalise and build
 * headers ({@link evaluateStages}) — bucketing on a key the caller does not pick
 * ({@link bucketKeyOf}) — observe one latency sample and count the result, and write a
 * sampled offender log line when unknown stages were seen.
 *
 * The latency sample covers decision + normalisation + header building (the validator the
 * seeds' 1 ms p99 budget is about), not reading the body.
 *
 * @since 0.1.0
 */
import type { Context } from "effect"
import { isSampledForLogs } from "../rollout/Bucketing.ts"
import type { RolloutDocument, StageValidationConfig } from "../rollout/Config.ts"
import { getValidationDecision, type ValidationDecision } from "../rollout/Decision.ts"
import { logOffender, type OffenderLogSink, stderrOffenderLogSink } from "../observability/OffenderLog.ts"
import { endpointMetrics } from "./BoundaryMetrics.ts"
import { serverBucketKey } from "./BucketKey.ts"
import { evaluateStages, type StageEvaluation } from "./EvaluateStages.ts"
import type { StageLocation } from "./StageLocation.ts"

/**
 * Default offender-log sampling rate, percent of the requests carrying unknown stages.
 *
 * @since 0.1.0
 * @category constants
 */
const DEFAULT_OFFENDER_SAMPLE_PERCENT = 10

/**
 * Options shared by the Effect middleware and the plain-Node adapter.
 *
 * @since 0.1.0
 * @category models
 */
export interface BoundaryOptions {
  /** the current rollout document: synchronous, in-process (e.g. the ModeStore's value) */
  readonly current: () => RolloutDocument
  /** offender-log sampling rate in percent (0–100, default 10) */
  readonly offenderSamplePercent?: number | undefined
  /** where offender lines go (default: standard error) */
  readonly offenderSink?: OffenderLogSink | undefined
}

/**
 * One request as the pipeline sees it.
 *
 * @since 0.1.0
 * @category models
 */
interface BoundaryRequest {
  /** route template: the `endpoint` label and the path the decision matches */
  readonly endpoint: string
  readonly method: string
  readonly location: StageLocation
  readonly value: unknown
  readonly requestId: string
  /** the request headers by lower-case name (Effect's `Headers`, Node's `IncomingHttpHeaders`) */
  readonly headers: RequestHeaders
  /** the host's bucketing key for this request (route / handler option), read only when needed */
  readonly hostKey?: (() => string | undefined) | undefined
}

/** Request headers by lower-case name, as both hosts expose them (Node: arrays for `set-cookie`). */
type RequestHeaders = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

/** One header's value (the first, when repeated). */
const headerValue = (headers: RequestHeaders, name: string): string | undefined => {
  const v = headers[name]
  return typeof v === "string" ? v : v?.[0]
}

/**
 * The percentage rollout's bucketing key for one request (see `BucketKey.ts`): the host's key,
 * else the document's `stickinessHeader` value, else a server-generated one. `undefined` when the
 * decision cannot depend on it (enforcement at 0 % or 100 %), so nothing is generated then.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * import { bucketKeyOf } from "./BoundaryEngine.ts" // internal: not part of the package's API
 * const doc = { ...DEFAULT_DOCUMENT, enforcementPercent: 10 }
 * const headers = { "x-client": "client-picked" }
 * bucketKeyOf(doc, { headers, hostKey: () => "tenant-7" }) // => "tenant-7"
 * bucketKeyOf(doc, { headers, hostKey: undefined }) !== "client-picked" // => true
 * bucketKeyOf(DEFAULT_DOCUMENT, { headers: {}, hostKey: undefined }) // => undefined
 * ```
 * @since 0.3.0
 * @category running
 */
export const bucketKeyOf = (
  doc: Pick<StageValidationConfig, "enforcementPercent" | "stickinessHeader">,
  request: Pick<BoundaryRequest, "headers" | "hostKey">
): string | undefined => {
  const percent = doc.enforcementPercent
  if (!(percent > 0 && percent < 100)) return undefined
  const host = request.hostKey?.()
  if (host !== undefined && host.length > 0) return host
  if (doc.stickinessHeader !== undefined) {
    const sticky = headerValue(request.headers, doc.stickinessHeader.toLowerCase())
    if (sticky !== undefined && sticky.length > 0) return sticky
  }
  return serverBucketKey()
}

/**
 * The pipeline's outcome: the evaluation plus the decision it was made under.
 *
 * @since 0.1.0
 * @category models
 */
export type BoundaryOutcome = StageEvaluation<ValidationDecision>

/**
 * One request on a route whose endpoint and stage location are fixed (see {@link routeBoundary}).
 *
 * @since 0.3.0
 * @category models
 */
export type RouteRequest = Omit<BoundaryRequest, "endpoint" | "location">

/**
 * The pipeline of one route: {@link runBoundary} with what does not change between its
 * requests found once. The route's metric series are a table (see `endpointMetrics`), and while
 * the rollout document stays the same object and the decision cannot depend on the request's
 * bucket (enforcement at 0 % or 100 %), the decision of the route's last method is reused: it is
 * a pure function of (document, method, route) then. Measured with caches as a busy server has
 * them, the decision and the metric lookups were ~1 µs each per request before.
 * `homeMetricsContext`: a context the route records into for its whole life (the plain-Node
 * adapter's), whose metric sink is then kept (see `endpointMetrics`).
 *
 * @example
 * ```ts
 * import { Context, Metric } from "effect"
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * import { routeBoundary } from "./BoundaryEngine.ts" // internal: not part of the package's API
 * import { StageLocation } from "stage-normalization/http"
 * const run = routeBoundary({ current: () => DEFAULT_DOCUMENT, offenderSamplePercent: 0 }, "/api/allocations", StageLocation.bodyStage())
 * run({ method: "POST", value: "Series A", requestId: "r1", headers: {} }, Context.make(Metric.MetricRegistry, new Map())).result
 * // => "normalized"
 * ```
 * @since 0.3.0
 * @category running
 */
export const routeBoundary = (
  options: BoundaryOptions,
  endpoint: string,
  location: StageLocation,
  homeMetricsContext?: Context.Context<never>
): (request: RouteRequest, metricsContext: Context.Context<never>) => BoundaryOutcome => {
  const metrics = endpointMetrics(endpoint, homeMetricsContext)
  let memoDoc: RolloutDocument | undefined
  let memoMethod = ""
  let memoDecision: ValidationDecision | undefined
  const decide = (doc: RolloutDocument, request: RouteRequest): ValidationDecision => {
    if (doc === memoDoc && request.method === memoMethod) return memoDecision!
    const decision = getValidationDecision(doc, {
      method: request.method,
      path: endpoint,
      requestId: request.requestId,
      stickinessKey: bucketKeyOf(doc, request)
    })
    const percent = doc.enforcementPercent
    if (percent > 0 && percent < 100) {
      memoDoc = undefined
    } else {
      memoDoc = doc
      memoMethod = request.method
      memoDecision = decision
    }
    return decision
  }
  return (request, metricsContext) => {
    const doc = options.current()
    const start = performance.now()
    const decision = decide(doc, request)
    const evaluation = evaluateStages(location, request.value, decision, doc)
    const seconds = (performance.now() - start) / 1000
    const unknown = evaluation.unknownStages.length > 0
    metrics.record(metricsContext, decision.mode, evaluation.result, seconds, unknown)
    if (unknown) logSampledOffender(options, doc, endpoint, decision, evaluation, request)
    return evaluation
  }
}

const logSampledOffender = (
  options: BoundaryOptions,
  doc: RolloutDocument,
  endpoint: string,
  decision: ValidationDecision,
  evaluation: BoundaryOutcome,
  request: RouteRequest
): void => {
  const percent = options.offenderSamplePercent ?? DEFAULT_OFFENDER_SAMPLE_PERCENT
  if (percent > 0 && isSampledForLogs(doc, request.requestId, percent)) {
    logOffender(options.offenderSink ?? stderrOffenderLogSink, {
      endpoint,
      mode: decision.mode,
      unknownStages: evaluation.unknownStages,
      userAgent: headerValue(request.headers, "user-agent"),
      requestId: request.requestId
    })
  }
}

/**
 * Runs the pipeline for one request; `metricsContext` is where the metrics are recorded. The
 * adapters keep one {@link routeBoundary} per route instead.
 *
 * @example
 * ```ts
 * import { Context, Metric } from "effect"
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * import { runBoundary } from "./BoundaryEngine.ts" // internal: not part of the package's API
 * import { StageLocation } from "stage-normalization/http"
 * const outcome = runBoundary({ current: () => DEFAULT_DOCUMENT, offenderSamplePercent: 0 }, {
 *   endpoint: "/api/allocations", method: "POST", location: StageLocation.bodyStage(),
 *   value: "Series A", requestId: "r1", headers: {}
 * }, Context.make(Metric.MetricRegistry, new Map()))
 * outcome.result // => "normalized"
 * ```
 * @since 0.1.0
 * @category running
 */
export const runBoundary = (
  options: BoundaryOptions,
  request: BoundaryRequest,
  metricsContext: Context.Context<never>
): BoundaryOutcome => routeBoundary(options, request.endpoint, request.location)(request, metricsContext)
