/**
 * Recording the boundary's metrics synchronously (no Effect allocated per request): the
 * attributed series are built once per (endpoint, mode, result), with their attributes fixed at
 * construction (`counterSeries`: the same registry series as `Metric.withAttributes`, without a
 * context built per update), and recorded against a context, which is the fiber's context in
 * the Effect middleware (so a test can isolate the registry with
 * `Effect.provideService(Metric.MetricRegistry, new Map())`) and the global registry in the
 * plain-Node adapter.
 *
 * effect's `updateUnsafe` finds a series on every call: the context's metric attributes, the
 * registry, the series key, a map lookup. Measured on a server under load (two identical
 * processes, interleaved requests) that was about 3 % of a plain-Node request's CPU for the
 * boundary's two or three updates. Here each series keeps the update hook effect gave it, and
 * looks it up again only when the request's registry or metric attributes are not the ones it
 * was found for, or the registry gained or lost a series — so it records into exactly the series
 * `updateUnsafe` would, including a registry a test provides and attributes a host adds with
 * `Metric.CurrentMetricAttributes`.
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
import { Context, Metric } from "effect"
import {
  counterSeries,
  validationDurationSeconds,
  validationErrorsTotal,
  validationsTotal,
  warnUnknownTotal
} from "../observability/metrics.ts"
import type { ValidationResult } from "./EvaluateStages.ts"

type Registry = Context.Service.Shape<typeof Metric.MetricRegistry>
type Attributes = Context.Service.Shape<typeof Metric.CurrentMetricAttributes>

/** Where one request's metrics go: read from its context once, shared by its updates. */
interface Target {
  readonly context: Context.Context<never>
  readonly registry: Registry
  readonly attributes: Attributes
}

// The registry and attributes a request's metrics go to are the same objects request after
// request (the plain-Node adapter's context is one immutable context; the Effect middleware's is
// the request's own, holding the server's registry): the target found for them is reused, two
// map lookups per request and no allocation. Its context holds just those two, so it keeps no
// request alive.
let lastTarget: Target | undefined

const targetOf = (context: Context.Context<never>): Target => {
  const registry = Context.get(context, Metric.MetricRegistry)
  const attributes = Context.get(context, Metric.CurrentMetricAttributes)
  if (lastTarget !== undefined && lastTarget.registry === registry && lastTarget.attributes === attributes) return lastTarget
  lastTarget = {
    context: Context.make(Metric.MetricRegistry, registry).pipe(Context.add(Metric.CurrentMetricAttributes, attributes)) as Context.Context<never>,
    registry,
    attributes
  }
  return lastTarget
}

/** effect's own lookup of a series' hooks (the method `updateUnsafe` calls). */
type HookLookup = (this: Metric.Metric<number, unknown>, context: Context.Context<never>) => Metric.Metric.Hooks<number, unknown>

/**
 * One series with its update hook cached for the registry and attributes it was found for (see
 * the module notes). Falls back to `updateUnsafe` on every update if effect's metric has no
 * hook lookup to reuse.
 */
class Series {
  readonly #metric: Metric.Metric<number, unknown>
  #registry: Registry | undefined = undefined
  #attributes: Attributes | undefined = undefined
  #size = -1
  #hooks: Metric.Metric.Hooks<number, unknown> | undefined = undefined
  constructor(metric: Metric.Metric<number, unknown>) {
    this.#metric = metric
  }
  update(value: number, target: Target): void {
    const registry = target.registry
    if (registry !== this.#registry || target.attributes !== this.#attributes || registry.size !== this.#size) {
      const lookup = (this.#metric as unknown as { readonly hook?: HookLookup }).hook
      if (typeof lookup !== "function") return this.#metric.updateUnsafe(value, target.context)
      this.#hooks = lookup.call(this.#metric, target.context) // creates the series when missing
      this.#registry = registry
      this.#attributes = target.attributes
      this.#size = registry.size
    }
    this.#hooks!.update(value, target.context)
  }
}

const duration = new Series(validationDurationSeconds as Metric.Metric<number, unknown>)

// endpoint → mode → result → series: three lookups, no key string built per request
const counters = new Map<string, Map<string, Map<ValidationResult, Series>>>()

/** The series of a counter labelled by endpoint only, one per endpoint. */
const perEndpoint = (counter: Metric.Counter<number>) => {
  const byEndpoint = new Map<string, Series>()
  return (endpoint: string): Series => {
    let series = byEndpoint.get(endpoint)
    if (series === undefined) byEndpoint.set(endpoint, series = new Series(counterSeries(counter, { endpoint })))
    return series
  }
}
const errorCounter = perEndpoint(validationErrorsTotal)
const unknownCounter = perEndpoint(warnUnknownTotal)

const validationCounter = (endpoint: string, mode: string, result: ValidationResult): Series => {
  let byMode = counters.get(endpoint)
  if (byMode === undefined) counters.set(endpoint, byMode = new Map())
  let byResult = byMode.get(mode)
  if (byResult === undefined) byMode.set(mode, byResult = new Map())
  let series = byResult.get(result)
  if (series === undefined) {
    series = new Series(counterSeries(validationsTotal, { endpoint, mode, result }))
    byResult.set(result, series)
  }
  return series
}

const MODE_SLOTS: Readonly<Record<string, number>> = { off: 0, warn: 1, enforce: 2 }
const RESULT_SLOTS: Readonly<Record<ValidationResult, number>> = { ok: 0, normalized: 1, invalid: 2, rejected: 3, would_reject: 4 }

/**
 * The series of one endpoint, found once: a table by (mode, result) instead of three map
 * lookups per request.
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
export const endpointMetrics = (endpoint: string) => {
  const table: Array<Series | undefined> = []
  const unknownSeries = unknownCounter(endpoint)
  return {
    record: (context: Context.Context<never>, mode: string, result: ValidationResult, seconds: number, unknown: boolean): void => {
      const target = targetOf(context)
      duration.update(seconds, target)
      const slot = (MODE_SLOTS[mode] ?? 3) * 5 + RESULT_SLOTS[result]
      let series = table[slot]
      if (series === undefined) table[slot] = series = validationCounter(endpoint, mode, result)
      series.update(1, target)
      if (unknown && result !== "rejected") unknownSeries.update(1, target)
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
  const target = targetOf(context)
  duration.update(sample.seconds, target)
  validationCounter(sample.endpoint, sample.mode, sample.result).update(1, target)
  if (sample.unknown && sample.result !== "rejected") unknownCounter(sample.endpoint).update(1, target)
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
  errorCounter(endpoint).update(1, targetOf(context))
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
  const target = targetOf(context)
  for (const mode of ["off", "warn", "enforce"]) {
    for (const result of ["ok", "normalized", "invalid", "rejected", "would_reject"] as const) {
      validationCounter(endpoint, mode, result).update(0, target)
    }
  }
  unknownCounter(endpoint).update(0, target)
  errorCounter(endpoint).update(0, target)
}
