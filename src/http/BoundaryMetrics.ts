/**
 * Recording the boundary's metrics synchronously (no Effect allocated per request): the
 * attributed series are built once per (endpoint, mode, result), with their attributes fixed at
 * construction (`counterSeries`: the same registry series as `Metric.withAttributes`, without a
 * context built per update), and updated with `updateUnsafe` against a context, which is the fiber's context in the Effect middleware (so a
 * test can isolate the registry with `Effect.provideService(Metric.MetricRegistry, new Map())`)
 * and the global registry in the plain-Node adapter.
 *
 * Per validated request: one `stage_validation_duration_seconds` sample, one
 * `stage_validation_validations_total{endpoint,mode,result}` increment, and one
 * `stage_warn_unknown_total{endpoint}` increment when the request carried at least one unknown
 * stage and was not rejected (the numerator of the unknown-stage ratio; it is per request, like
 * its denominator). `stage_validation_errors_total{endpoint}` counts validator failures (an
 * internal error while validating — a bug — never the rejection of invalid input). Label values
 * are route templates and closed sets only.
 *
 * @since 0.1.0
 */
import { Context, type Metric } from "effect"
import {
  counterSeries,
  validationDurationSeconds,
  validationErrorsTotal,
  validationsTotal,
  warnUnknownTotal
} from "../observability/metrics.ts"
import type { ValidationResult } from "./EvaluateStages.ts"

// endpoint → mode → result → attributed counter: three lookups, no key string built per request
const counters = new Map<string, Map<string, Map<ValidationResult, Metric.Counter<number>>>>()
const unknownCounters = new Map<string, Metric.Counter<number>>()
const errorCounters = new Map<string, Metric.Counter<number>>()

const errorCounter = (endpoint: string): Metric.Counter<number> => {
  let metric = errorCounters.get(endpoint)
  if (metric === undefined) {
    metric = counterSeries(validationErrorsTotal, { endpoint })
    errorCounters.set(endpoint, metric)
  }
  return metric
}

const validationCounter = (endpoint: string, mode: string, result: ValidationResult): Metric.Counter<number> => {
  let byMode = counters.get(endpoint)
  if (byMode === undefined) counters.set(endpoint, byMode = new Map())
  let byResult = byMode.get(mode)
  if (byResult === undefined) byMode.set(mode, byResult = new Map())
  let metric = byResult.get(result)
  if (metric === undefined) {
    metric = counterSeries(validationsTotal, { endpoint, mode, result })
    byResult.set(result, metric)
  }
  return metric
}

const unknownCounter = (endpoint: string): Metric.Counter<number> => {
  let metric = unknownCounters.get(endpoint)
  if (metric === undefined) {
    metric = counterSeries(warnUnknownTotal, { endpoint })
    unknownCounters.set(endpoint, metric)
  }
  return metric
}

/**
 * The context the plain-Node adapter records into: the global metric registry.
 *
 * @since 0.1.0
 * @category constants
 */
export const GLOBAL_METRICS_CONTEXT: Context.Context<never> = Context.empty()

/**
 * Records one validated request.
 *
 * @example
 * ```ts
 * import { Context, Metric } from "effect"
 * import { recordValidation } from "./BoundaryMetrics.ts" // internal: not part of the package's API
 * const context = Context.make(Metric.MetricRegistry, new Map())
 * recordValidation(context, { endpoint: "/api/allocations", mode: "warn", result: "invalid", seconds: 0.00004, unknown: true })
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const recordValidation = (
  context: Context.Context<never>,
  sample: {
    readonly endpoint: string
    readonly mode: string
    readonly result: ValidationResult
    readonly seconds: number
    readonly unknown: boolean
  }
): void => {
  validationDurationSeconds.updateUnsafe(sample.seconds, context)
  validationCounter(sample.endpoint, sample.mode, sample.result).updateUnsafe(1, context)
  if (sample.unknown && sample.result !== "rejected") unknownCounter(sample.endpoint).updateUnsafe(1, context)
}

/**
 * Counts a validator failure (an internal error while validating, not a rejection).
 *
 * @example
 * ```ts
 * import { Context, Metric } from "effect"
 * import { recordValidationError } from "./BoundaryMetrics.ts" // internal: not part of the package's API
 * recordValidationError(Context.make(Metric.MetricRegistry, new Map()), "/api/allocations")
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const recordValidationError = (context: Context.Context<never>, endpoint: string): void => {
  errorCounter(endpoint).updateUnsafe(1, context)
}

/**
 * Pre-registers the series of an endpoint at zero (every mode × result, and the unknown
 * counter), so that dashboards and alert rules see the series before the first request.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { registerEndpointSeries } from "stage-normalization/http"
 * registerEndpointSeries(Context.empty(), "/api/monte-carlo/simulate")
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const registerEndpointSeries = (context: Context.Context<never>, endpoint: string): void => {
  for (const mode of ["off", "warn", "enforce"]) {
    for (const result of ["ok", "normalized", "invalid", "rejected", "would_reject"] as const) {
      validationCounter(endpoint, mode, result).updateUnsafe(0, context)
    }
  }
  unknownCounter(endpoint).updateUnsafe(0, context)
  errorCounter(endpoint).updateUnsafe(0, context)
}
