/**
 * The stage boundary for plain Node servers: `createStageValidationHandler(options)` returns an
 * Express-style `(req, res, next)` function that also works on a raw `node:http` server. Same
 * pipeline, same headers, same 400 body and metrics as the Effect middleware.
 *
 * - Body locations read `req.body` when a body parser already set it (Express `express.json()`),
 *   else the request stream (limit `maxBodyBytes`, 413 above it; 400 `INVALID_JSON` on bad JSON).
 * - On success it rewrites `req.body` with the stage field in canonical form, attaches
 *   `req.stageValidation` (the same data the Effect handler gets from `NormalizedStages`) and
 *   calls `next()`; its headers go out in the handler's own `writeHead` (see
 *   `NodeResponseHead.ts`; a header the handler sets itself wins). On rejection it answers the
 *   contract's 400 itself.
 * - It never throws: an unexpected failure is passed to `next(error)` (a validator failure is also
 *   counted in `stage_validation_errors_total`).
 * - Metrics go to the global registry (what effect's `PrometheusMetrics` serves) unless a
 *   `metricsContext` is given.
 * - The percentage rollout buckets on `bucketKey(req)` when given (a tenant or principal), else
 *   the document's stickiness header, else a server-generated key; `x-request-id` is echoed and
 *   logged for correlation only.
 *
 * ```ts
 * import { createServer } from "node:http"
 * const validate = createStageValidationHandler({
 *   endpoint: "/api/monte-carlo/simulate", location: StageLocation.bodyDistribution(), current: () => doc
 * })
 * createServer((req, res) => validate(req, res, (error) => { ...your handler, reads req.body... }))
 * ```
 *
 * @since 0.1.0
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import type { Context } from "effect"
import { getValidationDecision, type ValidationDecision } from "../rollout/Decision.ts"
import { type BoundaryOptions, type BoundaryOutcome, bucketKeyOf, routeBoundary } from "./BoundaryEngine.ts"
import { GLOBAL_METRICS_CONTEXT, recordValidationError } from "./BoundaryMetrics.ts"
import { requestErrorBody } from "./ErrorBody.ts"
import {
  type ExtractedValue,
  extractFromBody,
  extractFromQuery,
  type NormalizedStageData,
  type ValidationResult
} from "./EvaluateStages.ts"
import { addToHead } from "./NodeResponseHead.ts"
import { REQUEST_ID_HEADER, resolveRequestId } from "./RequestId.ts"
import { DEFAULT_MAX_BODY_BYTES } from "./StageBoundary.ts"
import type { StageLocation } from "./StageLocation.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface StageValidationHandlerOptions extends BoundaryOptions {
  /** the route template (metric label and decision path) */
  readonly endpoint: string
  readonly location: StageLocation
  /** request-body limit, bytes (default 8 MiB) */
  readonly maxBodyBytes?: number | undefined
  /** where metrics are recorded (default: effect's global registry) */
  readonly metricsContext?: Context.Context<never> | undefined
  /**
   * The percentage rollout's bucketing key for a request: a value the caller cannot pick, e.g.
   * the tenant or principal your authentication set on the request (`(req) => req.user?.tenantId`).
   * Every request with one key gets the same decision. Without it (or when it returns
   * `undefined`): the document's `stickinessHeader` value, else a server-generated key per
   * request. `x-request-id` is never the key unless you opt in with
   * `bucketKeyFromHeader("x-request-id")` — and then a client picks its own bucket.
   */
  readonly bucketKey?: ((req: IncomingMessage) => string | undefined) | undefined
}

/**
 * What the handler attaches to the request as `req.stageValidation`.
 *
 * @since 0.1.0
 * @category models
 */
export interface StageValidationInfo {
  readonly requestId: string
  readonly endpoint: string
  readonly decision: ValidationDecision
  readonly result: ValidationResult | undefined
  readonly stages: NormalizedStageData
}

/**
 * A request after the handler ran.
 *
 * @since 0.1.0
 * @category models
 */
export interface StageValidatedRequest extends IncomingMessage {
  body?: unknown
  stageValidation?: StageValidationInfo
}

/**
 * Express-style middleware signature.
 *
 * @since 0.1.0
 * @category models
 */
export type StageValidationHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void
) => void

const ABSENT_STAGES = Object.freeze({ _tag: "Absent" as const })
const ID_ONLY: ReadonlyArray<string> = [REQUEST_ID_HEADER]
const JSON_HEADERS: ReadonlyArray<string> = ["content-type", "application/json", "content-length"]

/**
 * Answers a JSON body itself, every header in one `writeHead(status, flat)` (no header map built
 * per call): the request id, the stage headers when there are some, the content headers.
 */
const sendJson = (
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  stageHeaders: ReadonlyArray<string>
): void => {
  const text = JSON.stringify(body)
  const flat: Array<string> = [REQUEST_ID_HEADER, requestId]
  for (let i = 0; i < stageHeaders.length; i++) flat.push(stageHeaders[i]!)
  for (let i = 0; i < JSON_HEADERS.length; i++) flat.push(JSON_HEADERS[i]!)
  flat.push(String(Buffer.byteLength(text)))
  res.writeHead(status, flat)
  res.end(text)
}

/** Hands an unexpected failure on, with the request id set when the head is still open. */
const passOn = (res: ServerResponse, requestId: string, next: (error?: unknown) => void, error: unknown): void => {
  try {
    if (requestId.length > 0 && !res.headersSent) res.setHeader(REQUEST_ID_HEADER, requestId)
  } catch {
    // the head could not take the header: the failure is what matters
  }
  next(error)
}

type BodyResult = { readonly ok: true; readonly body: unknown } | { readonly ok: false; readonly status: 400 | 413 }

const parse = (text: string): BodyResult => {
  if (text.length === 0) return { ok: true, body: undefined }
  try {
    return { ok: true, body: JSON.parse(text) }
  } catch {
    return { ok: false, status: 400 }
  }
}

const readBody = (req: StageValidatedRequest, limit: number, done: (result: BodyResult) => void): void => {
  const preset = req.body
  if (preset !== undefined && !(typeof preset === "object" && preset !== null && Object.keys(preset).length === 0 && req.readable)) {
    if (typeof preset === "string" || Buffer.isBuffer(preset)) {
      return done(parse(String(preset)))
    }
    return done({ ok: true, body: preset })
  }
  const declared = Number(req.headers["content-length"])
  if (Number.isFinite(declared) && declared > limit) return done({ ok: false, status: 413 })
  const chunks: Array<Buffer> = []
  let size = 0
  let finished = false
  const fail = (status: 400 | 413) => {
    if (finished) return
    finished = true
    req.off("data", onData)
    req.off("end", onEnd)
    req.resume() // drain the rest so the connection can be reused
    done({ ok: false, status })
  }
  const onData = (chunk: Buffer) => {
    size += chunk.length
    if (size > limit) return fail(413)
    chunks.push(chunk)
  }
  // After `end` the stream emits no more data, so the listeners stay (removing them costs more).
  const onEnd = () => {
    if (finished) return
    finished = true
    done(parse(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")))
  }
  req.on("data", onData)
  req.on("end", onEnd)
  req.on("error", () => fail(400))
}

const queryValue = (req: IncomingMessage, param: string): ExtractedValue => {
  const url = URL.parse(req.url ?? "/", "http://localhost")
  if (url === null) return { present: false }
  const values = url.searchParams.getAll(param)
  return extractFromQuery(param, values.length === 0 ? {} : { [param]: values.length === 1 ? values[0]! : values })
}

/** What a handler fixes once, shared by its requests. */
interface HandlerSettings {
  readonly options: StageValidationHandlerOptions
  readonly limit: number
  readonly metricsContext: Context.Context<never>
  readonly location: StageLocation
  readonly run: ReturnType<typeof routeBoundary>
}

/** The boundary for one request whose stage value was read: decide, evaluate, answer or pass on. */
const proceed = (
  settings: HandlerSettings,
  req: StageValidatedRequest,
  res: ServerResponse,
  next: (error?: unknown) => void,
  requestId: string,
  extracted: ExtractedValue,
  body: unknown
): void => {
  const { location, options } = settings
  const headers = req.headers
  const method = req.method ?? "GET"
  const bucketKey = options.bucketKey
  const hostKey = bucketKey === undefined ? undefined : () => bucketKey(req)
  if (!extracted.present) {
    const doc = options.current()
    req.stageValidation = {
      requestId,
      endpoint: options.endpoint,
      decision: getValidationDecision(doc, {
        method,
        path: options.endpoint,
        requestId,
        stickinessKey: bucketKeyOf(doc, { headers, hostKey })
      }),
      result: undefined,
      stages: ABSENT_STAGES
    }
    if (location._tag !== "QueryStage") req.body = body
    addToHead(res, [REQUEST_ID_HEADER, requestId], ID_ONLY)
    return next()
  }
  let outcome: BoundaryOutcome
  try {
    outcome = settings.run({ method, value: extracted.value, requestId, headers, hostKey }, settings.metricsContext)
  } catch (defect) {
    recordValidationError(settings.metricsContext, options.endpoint)
    return passOn(res, requestId, next, defect)
  }
  const prepared = outcome.prepared
  if (outcome.errorBody !== undefined) return sendJson(res, 400, outcome.errorBody, requestId, prepared.flat)
  const head = prepared.nodeHead.slice()
  head[1] = requestId
  addToHead(res, head, prepared.nodeNames)
  req.stageValidation = {
    requestId,
    endpoint: options.endpoint,
    decision: outcome.decision,
    result: outcome.result,
    stages: outcome.data
  }
  if (location._tag !== "QueryStage") req.body = outcome.rewrite(body)
  next()
}

/**
 * Creates the plain-Node boundary handler (see the module notes).
 *
 * @example
 * ```ts
 * import { createServer } from "node:http"
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * import { createStageValidationHandler, StageLocation } from "stage-normalization/http"
 *
 * const validate = createStageValidationHandler({
 *   endpoint: "/api/monte-carlo/simulate",
 *   location: StageLocation.bodyDistribution("stageDistribution"),
 *   current: () => DEFAULT_DOCUMENT
 * })
 * const server = createServer((req, res) =>
 *   validate(req, res, (error) => {
 *     res.statusCode = error === undefined ? 200 : 500
 *     res.end(JSON.stringify((req as { body?: unknown }).body ?? null))
 *   }))
 * ```
 * @since 0.1.0
 * @category adapters
 */
export const createStageValidationHandler = (options: StageValidationHandlerOptions): StageValidationHandler => {
  const metricsContext = options.metricsContext ?? GLOBAL_METRICS_CONTEXT
  const settings: HandlerSettings = {
    options,
    limit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    metricsContext,
    location: options.location,
    run: routeBoundary(options, options.endpoint, options.location, metricsContext)
  }
  const { limit, location } = settings
  return (req, res, next) => {
    let requestId = ""
    try {
      const request = req as StageValidatedRequest
      requestId = resolveRequestId(req.headers[REQUEST_ID_HEADER])
      const id = requestId
      if (location._tag === "QueryStage") {
        return proceed(settings, request, res, next, id, queryValue(req, location.param), undefined)
      }
      readBody(request, limit, (result) => {
        try {
          if (result.ok) return proceed(settings, request, res, next, id, extractFromBody(location, result.body), result.body)
          return result.status === 413
            ? sendJson(res, 413, requestErrorBody("PAYLOAD_TOO_LARGE", `the request body exceeds ${limit} bytes`), id, [])
            : sendJson(res, 400, requestErrorBody("INVALID_JSON", "the request body is not valid JSON"), id, [])
        } catch (error) {
          passOn(res, id, next, error)
        }
      })
    } catch (error) {
      passOn(res, requestId, next, error)
    }
  }
}
