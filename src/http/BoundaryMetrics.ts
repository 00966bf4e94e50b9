/**
 * Recording the boundary's metrics synchronously (no Effect allocated per request), into the
 * registry of a context: the fiber's context in the Effect middleware (so a test can isolate the
 * registry with `Effect.provideService(Metric.MetricRegistry, new Map())`, and a host's
 * `Metric.CurrentMetricAttributes` label its series) and the global registry in the plain-Node
 * adapter.
 *
 * The counts live in typed arrays that the registry reads when it exports (`MetricCells.ts`,
 * effect's `Metric.registerUnsafe`): a request's updates are array stores into its endpoint's
 * cells, found once per registry and attribute set. Through effect's update hooks (even with
 * each series' hook kept between requests) they cost 0.48 µs at the median, 1.0 µs on average,
 * per request on the plain-Node reference server at a fixed load; as array stores 0.13–0.16 µs.
 * The series are the same: names, labels, registry, and the values `updateUnsafe` would give.
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
  VALIDATION_DURATION_BOUNDARIES,
  validationDurationSeconds,
  validationErrorsTotal,
  validationsTotal,
  warnUnknownTotal
} from "../observability/metrics.ts"
import type { ValidationResult } from "./EvaluateStages.ts"
import { CounterCells, HistogramCells, type MetricSink, sinkOf } from "./MetricCells.ts"

const MODES = ["off", "warn", "enforce"] as const
const RESULTS = ["ok", "normalized", "invalid", "rejected", "would_reject"] as const
const MODE_SLOTS: Readonly<Record<string, number>> = { off: 0, warn: 1, enforce: 2 }
const RESULT_SLOTS: Readonly<Record<ValidationResult, number>> = { ok: 0, normalized: 1, invalid: 2, rejected: 3, would_reject: 4 }
/** An endpoint's counter cells: mode × result (15), then the unknown-stage and error counters. */
const UNKNOWN_SLOT = 15
const ERROR_SLOT = 16

/** The series behind an endpoint's cells, built once per endpoint (not per registry). */
const seriesOfEndpoint = (() => {
  const cache = new Map<string, ReadonlyArray<Metric.Counter<number>>>()
  return (endpoint: string): ReadonlyArray<Metric.Counter<number>> => {
    let series = cache.get(endpoint)
    if (series === undefined) {
      const all: Array<Metric.Counter<number>> = []
      for (const mode of MODES) for (const result of RESULTS) all.push(counterSeries(validationsTotal, { endpoint, mode, result }))
      all.push(counterSeries(warnUnknownTotal, { endpoint }), counterSeries(validationErrorsTotal, { endpoint }))
      cache.set(endpoint, series = all)
    }
    return series
  }
})()

/** A mode outside the closed set (only reachable through `recordValidation`): its own cells. */
const otherModeCells = (sink: MetricSink, endpoint: string, mode: string): CounterCells =>
  sink.stateOf(`validations ${endpoint} ${mode}`, (s) =>
    new CounterCells(s, RESULTS.map((result) => counterSeries(validationsTotal, { endpoint, mode, result }))))

const endpointCells = (sink: MetricSink, endpoint: string): CounterCells =>
  sink.stateOf(endpoint, (s) => new CounterCells(s, seriesOfEndpoint(endpoint)))

const DURATION = Symbol("stage_validation_duration_seconds")

const durationCells = (sink: MetricSink): HistogramCells =>
  sink.stateOf(DURATION, (s) => new HistogramCells(s, validationDurationSeconds, VALIDATION_DURATION_BOUNDARIES))

/** One validated request into a sink's cells: its latency sample, its result, its unknown stages. */
const recordInto = (
  sink: MetricSink,
  counters: CounterCells,
  duration: HistogramCells,
  endpoint: string,
  mode: string,
  result: ValidationResult,
  seconds: number,
  unknown: boolean
): void => {
  duration.observe(seconds)
  const modeSlot = MODE_SLOTS[mode]
  if (modeSlot === undefined) otherModeCells(sink, endpoint, mode).add(RESULT_SLOTS[result], 1)
  else counters.add(modeSlot * 5 + RESULT_SLOTS[result], 1)
  if (unknown && result !== "rejected") counters.add(UNKNOWN_SLOT, 1)
}

/**
 * The recorder of one endpoint: its cells by (mode, result) in the request's sink, found once
 * per sink, not per request. `home`, when given, is a context the route records into for its
 * whole life (the plain-Node adapter's): its sink is kept, so a request recording there costs a
 * comparison and the sink's check, not two context lookups (measured inside the plain-Node
 * server at a fixed load, those lookups were about 1 µs a request with the caches a busy server
 * has). A request context (the Effect middleware's) is never kept.
 *
 * @example
 * ```ts
 * import { Context, Metric } from "effect"
 * import { endpointMetrics } from "./BoundaryMetrics.ts" // internal: not part of the package's API
 * const metrics = endpointMetrics("/api/allocations")
 * metrics.record(Context.make(Metric.MetricRegistry, new Map()), "warn", "normalized", 0.00004, false)
 * ```
 * @since 0.3.0
 * @category metrics
 */
export const endpointMetrics = (endpoint: string, home?: Context.Context<never>) => {
  // the cells of the last sink recorded into: consecutive requests share it
  let sink: MetricSink | undefined
  let counters: CounterCells | undefined
  let duration: HistogramCells | undefined
  let homeSink: MetricSink | undefined
  return {
    record: (context: Context.Context<never>, mode: string, result: ValidationResult, seconds: number, unknown: boolean): void => {
      let current: MetricSink
      if (context === home && homeSink !== undefined) {
        // a context's registry and attributes never change, so neither does its sink
        current = homeSink
        current.check()
      } else {
        current = sinkOf(context)
        if (context === home) homeSink = current
      }
      if (current !== sink) {
        sink = current
        counters = endpointCells(current, endpoint)
        duration = durationCells(current)
      }
      recordInto(current, counters!, duration!, endpoint, mode, result, seconds, unknown)
    }
  }
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
  const sink = sinkOf(context)
  const { endpoint, mode, result, seconds, unknown } = sample
  recordInto(sink, endpointCells(sink, endpoint), durationCells(sink), endpoint, mode, result, seconds, unknown)
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
  endpointCells(sinkOf(context), endpoint).add(ERROR_SLOT, 1)
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
  const cells = endpointCells(sinkOf(context), endpoint)
  for (let slot = 0; slot <= ERROR_SLOT; slot++) cells.add(slot, 0)
}
