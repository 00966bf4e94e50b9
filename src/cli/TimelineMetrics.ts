/**
 * The metric panels of the rollout timeline from Prometheus (`GET /api/v1/query_range`): the
 * reject ratio (answered 400 / validations) and the validator's p99 over the picture's time range.
 * Never fails: anything that keeps the series from being read (Prometheus unreachable, slow, an
 * error answer, a body that is not a range result) becomes `Unavailable` with the reason, and the
 * picture is drawn without them.
 *
 * @since 0.3.0
 */
import { Duration, Effect, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { PrometheusQueryError } from "../rollout/PrometheusQueryError.ts"
import type { TimelineMetrics, TimelineSeries } from "./TimelineSvg.ts"

/**
 * Where and what to read.
 *
 * @since 0.3.0
 * @category models
 */
export interface TimelineMetricsOptions {
  readonly url: string
  readonly job?: string | undefined
  /** the range, epoch milliseconds */
  readonly from: number
  readonly to: number
  /** resolution; default: the range in about 300 steps, at least 1 s */
  readonly stepSeconds?: number | undefined
  /** the `rate()` window; default: 4 steps, at least 60 s (two scrapes of a 30 s interval) */
  readonly rateWindowSeconds?: number | undefined
  /** per query; default 10 seconds */
  readonly timeout?: Duration.Input | undefined
}

/**
 * The PromQL of the two series for a `rate()` window and an optional job. The reject ratio is 0,
 * not missing, while there is traffic and nothing was rejected; without traffic it has no value.
 *
 * @example
 * ```ts
 * import { timelineQueries } from "./TimelineMetrics.ts" // internal: not part of the package's API
 * timelineQueries(60).p99
 * // => 'histogram_quantile(0.99, sum by (le) (rate(stage_validation_duration_seconds_bucket[60s])))'
 * ```
 * @since 0.3.0
 * @category queries
 */
export const timelineQueries = (rateWindowSeconds: number, job?: string | undefined) => {
  const range = `[${Math.max(1, Math.round(rateWindowSeconds))}s]`
  const selector = (metric: string, ...matchers: ReadonlyArray<string>) => {
    const all = [...(job === undefined ? [] : [`job=${JSON.stringify(job)}`]), ...matchers]
    return all.length === 0 ? metric : `${metric}{${all.join(",")}}`
  }
  const validations = `sum(rate(${selector("stage_validation_validations_total")}${range}))`
  const rejected = `sum(rate(${selector("stage_validation_validations_total", `result="rejected"`)}${range}))`
  return {
    rejectRatio: `(${rejected} or 0 * ${validations}) / ${validations}`,
    p99: `histogram_quantile(0.99, sum by (le) (rate(${selector("stage_validation_duration_seconds_bucket")}${range})))`
  } as const
}

const RangeResponse = Schema.Union([
  Schema.Struct({
    status: Schema.Literal("success"),
    data: Schema.Struct({
      resultType: Schema.Literal("matrix"),
      result: Schema.Array(Schema.Struct({ values: Schema.Array(Schema.Tuple([Schema.Number, Schema.String])) }))
    })
  }),
  Schema.Struct({ status: Schema.Literal("error"), errorType: Schema.optional(Schema.String), error: Schema.optional(Schema.String) })
])
const decodeRange = Schema.decodeUnknownExit(RangeResponse)

const numberOf = (raw: string): number => (raw === "+Inf" || raw === "-Inf" || raw === "NaN" ? Number.NaN : Number(raw))

/** One range query: the first series' samples (the queries aggregate to one series). */
const queryRange = (base: string, query: string, options: { readonly start: number; readonly end: number; readonly step: number; readonly timeout: Duration.Duration }) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const request = HttpClientRequest.get(`${base}/api/v1/query_range`).pipe(
      HttpClientRequest.setUrlParams({
        query,
        start: (options.start / 1000).toFixed(3),
        end: (options.end / 1000).toFixed(3),
        step: `${options.step}s`
      }),
      HttpClientRequest.acceptJson
    )
    const response = yield* client.execute(request).pipe(
      Effect.catchTag("HttpClientError", (cause) =>
        Effect.fail(new PrometheusQueryError({ query, reason: { _tag: "Unreachable", message: `${base}: ${cause.message}` }, cause })))
    )
    const body = yield* response.json.pipe(
      Effect.catch((cause) =>
        Effect.fail(new PrometheusQueryError({ query, reason: { _tag: "BadResponse", message: `HTTP ${response.status} body is not JSON` }, cause })))
    )
    const decoded = decodeRange(body)
    if (decoded._tag === "Failure") {
      return yield* new PrometheusQueryError({
        query,
        reason: response.status >= 200 && response.status < 300
          ? { _tag: "BadResponse", message: "not a range-query (matrix) result" }
          : { _tag: "QueryFailed", status: response.status, errorType: "http", error: `HTTP ${response.status}` }
      })
    }
    const answer = decoded.value
    if (answer.status === "error") {
      return yield* new PrometheusQueryError({
        query,
        reason: { _tag: "QueryFailed", status: response.status, errorType: answer.errorType ?? "unknown", error: answer.error ?? "" }
      })
    }
    const series: TimelineSeries = (answer.data.result[0]?.values ?? []).map(([t, v]) => [Math.round(t * 1000), numberOf(v)] as const)
    return series
  }).pipe(
    Effect.timeoutOrElse({
      duration: options.timeout,
      orElse: () => Effect.fail(new PrometheusQueryError({ query, reason: { _tag: "Timeout", millis: Duration.toMillis(options.timeout) } }))
    })
  )

/**
 * Reads both series; `Unavailable` with the reason when either cannot be read.
 *
 * @example
 * ```ts
 * import { fetchTimelineMetrics } from "./TimelineMetrics.ts" // internal: not part of the package's API
 * const metrics = fetchTimelineMetrics({ url: "http://127.0.0.1:9090", from: 0, to: 3_600_000 })
 * // Effect<TimelineMetrics>: { _tag: "Available", rejectRatio, p99Seconds, source } or { _tag: "Unavailable", reason }
 * ```
 * @since 0.3.0
 * @category constructors
 */
export const fetchTimelineMetrics = (options: TimelineMetricsOptions): Effect.Effect<TimelineMetrics> => {
  const base = options.url.replace(/\/+$/, "")
  const end = Math.max(options.to, options.from + 1_000)
  const step = Math.max(1, Math.round(options.stepSeconds ?? Math.ceil((end - options.from) / 1000 / 300)))
  const window = Math.max(1, Math.round(options.rateWindowSeconds ?? Math.max(60, 4 * step)))
  const queries = timelineQueries(window, options.job)
  const range = { start: options.from, end, step, timeout: Duration.fromInputUnsafe(options.timeout ?? "10 seconds") }
  return Effect.all([queryRange(base, queries.rejectRatio, range), queryRange(base, queries.p99, range)], { concurrency: 2 }).pipe(
    Effect.map(([rejectRatio, p99Seconds]): TimelineMetrics => ({
      _tag: "Available",
      rejectRatio,
      p99Seconds,
      source: `Prometheus ${base} (query_range, step ${step} s, rate over ${window} s${options.job === undefined ? "" : `, job ${options.job}`})`
    })),
    Effect.catch((e) => Effect.succeed<TimelineMetrics>({ _tag: "Unavailable", reason: e.message })),
    Effect.provide(FetchHttpClient.layer)
  )
}
