/**
 * `PrometheusQueryError`: the failure of one call to Prometheus' HTTP API, with the query it was
 * for and a typed reason — unreachable, timed out, an error answer, or an answer that is not a
 * query result. The Prometheus-backed `MetricsSource` wraps it as the `cause` of its
 * `MetricsSourceError`.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * Prometheus could not be reached (connection refused, DNS, reset).
 *
 * @since 0.1.0
 * @category errors
 */
export const PrometheusUnreachable = Schema.TaggedStruct("Unreachable", { message: Schema.String })

/**
 * Prometheus did not answer within the per-query timeout.
 *
 * @since 0.1.0
 * @category errors
 */
export const PrometheusTimeout = Schema.TaggedStruct("Timeout", { millis: Schema.Number })

/**
 * Prometheus answered `status: "error"` (a bad query, a query timeout on its side, overload), or
 * a non-2xx status without a usable body.
 *
 * @since 0.1.0
 * @category errors
 */
export const PrometheusQueryFailed = Schema.TaggedStruct("QueryFailed", {
  status: Schema.Number,
  errorType: Schema.String,
  error: Schema.String
})

/**
 * The answer was not a Prometheus API response of the expected shape (not JSON, wrong result
 * type, a sample that is not a number).
 *
 * @since 0.1.0
 * @category errors
 */
export const PrometheusBadResponse = Schema.TaggedStruct("BadResponse", { message: Schema.String })

/**
 * The failure of one Prometheus API call, with a typed reason and the query it was for.
 *
 * @example
 * ```ts
 * import { PrometheusQueryError } from "stage-normalization/rollout"
 * const e = new PrometheusQueryError({ query: "up", reason: { _tag: "Timeout", millis: 5000 } })
 * e.message // => "prometheus query timed out after 5000 ms: up"
 * ```
 * @since 0.1.0
 * @category errors
 */
export class PrometheusQueryError extends Schema.TaggedError<PrometheusQueryError>(
  "stage-normalization/observability/PrometheusQueryError"
)("PrometheusQueryError", {
  query: Schema.String,
  reason: Schema.Union([PrometheusUnreachable, PrometheusTimeout, PrometheusQueryFailed, PrometheusBadResponse]),
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    const reason = this.reason
    switch (reason._tag) {
      case "Unreachable":
        return `prometheus unreachable: ${reason.message}`
      case "Timeout":
        return `prometheus query timed out after ${reason.millis} ms: ${this.query}`
      case "QueryFailed":
        return `prometheus query failed (HTTP ${reason.status}, ${reason.errorType}): ${reason.error}: ${this.query}`
      case "BadResponse":
        return `unexpected prometheus response: ${reason.message}: ${this.query}`
    }
  }
}
