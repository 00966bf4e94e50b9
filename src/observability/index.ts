/**
 * Observability: the metric catalogue (`stage-normalization/observability`).
 *
 * @since 0.1.0
 */
export * from "./metrics.ts"
export * from "./PrometheusMetricsSource.ts"
export * from "./OffenderLog.ts"
