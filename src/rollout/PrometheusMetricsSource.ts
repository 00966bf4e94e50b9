/**
 * A {@link MetricsSource} backed by Prometheus' HTTP API (`GET /api/v1/query`): the promotion
 * gate's inputs, read from the same metrics the alert rules use.
 *
 * For each window (newest first; window `i` ends `i × windowSeconds` before now) it runs instant
 * queries at the window's end over a `[windowSeconds s]` range:
 *
 * | field | PromQL |
 * | --- | --- |
 * | `requests` | `sum(increase(stage_validation_validations_total[W]))` |
 * | `wouldRejectRatio` | `sum(increase(…{result="would_reject"}[W]))` / requests |
 * | `errorRatio` | `sum(increase(stage_validation_errors_total[W]))` / requests |
 * | `unknownStageRatio` | `sum(increase(stage_warn_unknown_total[W]))` / requests |
 * | `validatorP99Seconds` | `histogram_quantile(0.99, sum by (le) (increase(…_bucket[W])))` |
 * | `activeAlerts` | alert names in `max_over_time(ALERTS{alertstate="firing"}[W])` |
 *
 * Semantics (silence is never health):
 * - no validations series at all → `requests` and every ratio are `undefined` (the gate fails them);
 *   no traffic (`requests` 0) → ratios and p99 are `undefined`, never 0/0 = 0;
 * - a numerator counter that does not exist yet (a label combination never seen, e.g. no
 *   `would_reject` in enforce mode) counts as 0 once there is traffic;
 * - `activeAlerts` is `undefined` unless Prometheus has the blocking alert rules loaded (checked with
 *   `/api/v1/rules`): without them, "no alert firing" would mean nothing;
 * - Prometheus unreachable, slow (per-query timeout), answering an error or something that is not
 *   a query result → the whole call fails with a `MetricsSourceError` (its `cause` is a
 *   {@link PrometheusQueryError} with a typed reason); the gate never passes on it.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Layer, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { MetricsSource, MetricsSourceError, type SnapshotRequest } from "./MetricsSource.ts"
import { PrometheusQueryError } from "./PrometheusQueryError.ts"
import { BLOCKING_ALERTS, type MetricsSnapshot } from "./PromotionGate.ts"
import { dateOf, nowMillis } from "../shared/WallClock.ts"

/**
 * Options of the Prometheus metrics source.
 *
 * @since 0.1.0
 * @category models
 */
export interface PrometheusMetricsSourceOptions {
  /** Base URL of the Prometheus server, e.g. `http://127.0.0.1:9090` (a path prefix is kept). */
  readonly url: string
  /** Only series with this `job` label (one service among several embedding the library). */
  readonly job?: string | undefined
  /** Timeout of each HTTP call. Default 5 seconds. */
  readonly timeout?: Duration.Input | undefined
  /** Alert rules that must be loaded for `activeAlerts` to mean anything. Default: the gate's blocking alerts. */
  readonly requiredAlertRules?: ReadonlyArray<string> | undefined
  /** Extra request headers (e.g. `Authorization` for a Prometheus behind a proxy). */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * The PromQL of one window's inputs, for a range of `windowSeconds` and an optional job.
 *
 * @example
 * ```ts
 * import { gateQueries } from "stage-normalization/rollout"
 * gateQueries(600).requests // => 'sum(increase(stage_validation_validations_total[600s]))'
 * gateQueries(600, "api").errors // => 'sum(increase(stage_validation_errors_total{job="api"}[600s]))'
 * ```
 * @since 0.1.0
 * @category queries
 */
export const gateQueries = (windowSeconds: number, job?: string | undefined) => {
  const range = `[${Math.max(1, Math.round(windowSeconds))}s]`
  const jobMatcher = job === undefined ? [] : [`job=${JSON.stringify(job)}`]
  const selector = (metric: string, ...matchers: ReadonlyArray<string>) => {
    const all = [...jobMatcher, ...matchers]
    return all.length === 0 ? metric : `${metric}{${all.join(",")}}`
  }
  return {
    requests: `sum(increase(${selector("stage_validation_validations_total")}${range}))`,
    wouldReject: `sum(increase(${selector("stage_validation_validations_total", `result="would_reject"`)}${range}))`,
    errors: `sum(increase(${selector("stage_validation_errors_total")}${range}))`,
    unknown: `sum(increase(${selector("stage_warn_unknown_total")}${range}))`,
    p99: `histogram_quantile(0.99, sum by (le) (increase(${selector("stage_validation_duration_seconds_bucket")}${range})))`,
    alerts: `max_over_time(${selector("ALERTS", `alertstate="firing"`)}${range})`
  } as const
}

const Sample = Schema.Struct({
  metric: Schema.Record(Schema.String, Schema.String),
  value: Schema.Tuple([Schema.Number, Schema.String])
})

const QueryResponse = Schema.Union([
  Schema.Struct({
    status: Schema.Literal("success"),
    data: Schema.Struct({ resultType: Schema.Literal("vector"), result: Schema.Array(Sample) })
  }),
  Schema.Struct({
    status: Schema.Literal("error"),
    errorType: Schema.optional(Schema.String),
    error: Schema.optional(Schema.String)
  })
])

const RulesResponse = Schema.Struct({
  status: Schema.Literal("success"),
  data: Schema.Struct({
    groups: Schema.Array(Schema.Struct({ rules: Schema.Array(Schema.Struct({ name: Schema.String })) }))
  })
})

const decodeQueryResponse = Schema.decodeUnknownExit(QueryResponse)
const decodeRulesResponse = Schema.decodeUnknownExit(RulesResponse)

/** One vector sample: its labels and value (NaN and ±Inf included, as Prometheus sends them). */
interface VectorSample {
  readonly metric: Readonly<Record<string, string>>
  readonly value: number
}

const parseValue = (raw: string): number => {
  if (raw === "NaN") return Number.NaN
  if (raw === "+Inf") return Number.POSITIVE_INFINITY
  if (raw === "-Inf") return Number.NEGATIVE_INFINITY
  return Number(raw)
}

const finite = (n: number | undefined): number | undefined =>
  n !== undefined && Number.isFinite(n) ? n : undefined

/**
 * Builds the Prometheus-backed service (needs an `HttpClient`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FetchHttpClient } from "effect/http"
 * import { makePrometheusMetricsSource } from "stage-normalization/rollout"
 * const program = Effect.gen(function*() {
 *   const source = yield* makePrometheusMetricsSource({ url: "http://127.0.0.1:9090" })
 *   return yield* source.snapshots({ windows: 3, windowSeconds: 600 })
 * }).pipe(Effect.provide(FetchHttpClient.layer))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const makePrometheusMetricsSource = Effect.fnUntraced(function*(options: PrometheusMetricsSourceOptions) {
  const client = yield* HttpClient.HttpClient
  const base = options.url.replace(/\/+$/, "")
  const timeout = Duration.fromInputUnsafe(options.timeout ?? "5 seconds")
  const timeoutMillis = Duration.toMillis(timeout)
  const required = options.requiredAlertRules ?? BLOCKING_ALERTS
  const headers = options.headers ?? {}

  /** GET a Prometheus API path and return its parsed JSON body and HTTP status. */
  const getJson = (path: string, params: Readonly<Record<string, string>>, query: string) =>
    client.execute(
      HttpClientRequest.get(`${base}${path}`).pipe(
        HttpClientRequest.setUrlParams(params),
        HttpClientRequest.setHeaders(headers),
        HttpClientRequest.acceptJson
      )
    ).pipe(
      Effect.flatMap((response) =>
        response.json.pipe(
          Effect.map((body) => ({ status: response.status, body: body as unknown })),
          Effect.catch((cause) =>
            Effect.fail(
              new PrometheusQueryError({
                query,
                reason: response.status >= 200 && response.status < 300
                  ? { _tag: "BadResponse", message: `HTTP ${response.status} body is not JSON` }
                  : { _tag: "QueryFailed", status: response.status, errorType: "http", error: `HTTP ${response.status}` },
                cause
              })
            )
          )
        )
      ),
      Effect.catchTag("HttpClientError", (cause) =>
        Effect.fail(
          new PrometheusQueryError({
            query,
            reason: { _tag: "Unreachable", message: `${base}: ${cause.message}` },
            cause
          })
        )),
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () => Effect.fail(new PrometheusQueryError({ query, reason: { _tag: "Timeout", millis: timeoutMillis } }))
      })
    )

  /** One instant query at `time` (unix seconds). */
  const instant = Effect.fnUntraced(function*(query: string, time: number) {
    const { status, body } = yield* getJson("/api/v1/query", {
      query,
      time: time.toFixed(3),
      timeout: `${Math.max(1, Math.floor(timeoutMillis / 1000))}s`
    }, query)
    const decoded = decodeQueryResponse(body)
    if (decoded._tag === "Failure") {
      return yield* new PrometheusQueryError({
        query,
        reason: status >= 200 && status < 300
          ? { _tag: "BadResponse", message: "not an instant-vector query result" }
          : { _tag: "QueryFailed", status, errorType: "http", error: `HTTP ${status}` }
      })
    }
    const answer = decoded.value
    if (answer.status === "error") {
      return yield* new PrometheusQueryError({
        query,
        reason: { _tag: "QueryFailed", status, errorType: answer.errorType ?? "unknown", error: answer.error ?? "" }
      })
    }
    const samples: Array<VectorSample> = []
    for (const s of answer.data.result) {
      const value = parseValue(s.value[1])
      if (Number.isNaN(value) && s.value[1] !== "NaN") {
        return yield* new PrometheusQueryError({
          query,
          reason: { _tag: "BadResponse", message: `sample value ${JSON.stringify(s.value[1])} is not a number` }
        })
      }
      samples.push({ metric: s.metric, value })
    }
    return samples as ReadonlyArray<VectorSample>
  })

  /** The single value of an aggregated query; `undefined` when the result is empty. */
  const scalar = (query: string, time: number) =>
    Effect.map(instant(query, time), (samples) => samples[0]?.value)

  /** Whether every required alert rule is loaded in this Prometheus. */
  const rulesLoaded = Effect.gen(function*() {
    if (required.length === 0) return true
    const query = "GET /api/v1/rules?type=alert"
    const { status, body } = yield* getJson("/api/v1/rules", { type: "alert" }, query)
    const decoded = decodeRulesResponse(body)
    if (decoded._tag === "Failure") {
      return yield* new PrometheusQueryError({
        query,
        reason: status >= 200 && status < 300
          ? { _tag: "BadResponse", message: "not a rules listing" }
          : { _tag: "QueryFailed", status, errorType: "http", error: `HTTP ${status}` }
      })
    }
    const loaded = new Set(decoded.value.data.groups.flatMap((g) => g.rules.map((r) => r.name)))
    const absent = required.filter((name) => !loaded.has(name))
    if (absent.length > 0) {
      yield* Effect.logWarning({
        event: "stage_validation.gate_alert_rules_missing",
        message: "Prometheus does not evaluate the blocking alert rules; activeAlerts is reported as unknown",
        missing: absent
      })
    }
    return absent.length === 0
  })

  const windowSnapshot = Effect.fnUntraced(function*(end: number, windowSeconds: number, alertsKnown: boolean) {
    const q = gateQueries(windowSeconds, options.job)
    const [requests, wouldReject, errors, unknown, p99, alerts] = yield* Effect.all([
      scalar(q.requests, end),
      scalar(q.wouldReject, end),
      scalar(q.errors, end),
      scalar(q.unknown, end),
      scalar(q.p99, end),
      instant(q.alerts, end)
    ], { concurrency: 6 })
    const total = finite(requests)
    const ratio = (numerator: number | undefined): number | undefined =>
      total === undefined || total <= 0 ? undefined : finite(numerator ?? 0) === undefined ? undefined : (numerator ?? 0) / total
    const firing = [...new Set(alerts.map((s) => s.metric["alertname"]).filter((n): n is string => n !== undefined))].sort()
    const snapshot: MetricsSnapshot = {
      requests: total,
      wouldRejectRatio: ratio(wouldReject),
      errorRatio: ratio(errors),
      unknownStageRatio: ratio(unknown),
      validatorP99Seconds: total === undefined || total <= 0 ? undefined : finite(p99),
      activeAlerts: alertsKnown ? firing : undefined,
      windowEnd: dateOf(end * 1000).toISOString()
    }
    return snapshot
  })

  const snapshots = (request: SnapshotRequest): Effect.Effect<ReadonlyArray<MetricsSnapshot>, MetricsSourceError> =>
    Effect.gen(function*() {
      const windows = Math.max(0, Math.floor(request.windows))
      const windowSeconds = Math.max(1, Math.round(request.windowSeconds))
      const now = (yield* nowMillis) / 1000
      const alertsKnown = yield* rulesLoaded
      return yield* Effect.forEach(
        Array.from({ length: windows }, (_, i) => now - i * windowSeconds),
        (end) => windowSnapshot(end, windowSeconds, alertsKnown),
        { concurrency: 2 }
      )
    }).pipe(
      Effect.mapError((cause) => new MetricsSourceError({ message: cause.message, cause }))
    )

  return MetricsSource.of({ snapshots, queries: (request) => gateQueries(request.windowSeconds, options.job) })
})

/**
 * The Prometheus metrics source as a layer (needs an `HttpClient`).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { FetchHttpClient } from "effect/http"
 * import { layerPrometheusMetricsSource } from "stage-normalization/rollout"
 * const layer = layerPrometheusMetricsSource({ url: "http://127.0.0.1:9090", job: "api" }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layerPrometheusMetricsSource = (
  options: PrometheusMetricsSourceOptions
): Layer.Layer<MetricsSource, never, HttpClient.HttpClient> =>
  Layer.effect(MetricsSource, makePrometheusMetricsSource(options))

/**
 * The Prometheus metrics source over the platform's `fetch`.
 *
 * @example
 * ```ts
 * import { layerPrometheusMetricsSourceFetch } from "stage-normalization/rollout"
 * const layer = layerPrometheusMetricsSourceFetch({ url: "http://127.0.0.1:9090" })
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layerPrometheusMetricsSourceFetch = (options: PrometheusMetricsSourceOptions): Layer.Layer<MetricsSource> =>
  layerPrometheusMetricsSource(options).pipe(Layer.provide(FetchHttpClient.layer))
