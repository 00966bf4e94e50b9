/**
 * Metric series whose values live in plain typed arrays ("cells") and are read by effect's
 * registry when it exports, instead of being pushed through effect's update hooks on every
 * request. This is effect's own mechanism for it, `Metric.registerUnsafe` ("use when updating a
 * metric on every change would cost more than reading the value at export time"): the registry
 * holds a series whose `get` reads the cells, so `Metric.snapshot`, `PrometheusMetrics` and
 * `valueUnsafe` see every count at once, while an update on the hot path is one array store.
 *
 * Why by hand: measured inside the reference servers at a fixed load (bench/http-boundary.ts,
 * the boundary's three updates per request, timed around the call), recording through effect's
 * hooks took 0.48 µs at the median and 1.0 µs on average per request on the plain-Node server
 * — a server among other work runs each request with cold caches, and the hook path touches
 * the context, the series objects, the registry and two closures — and 0.13–0.16 µs (mean
 * 0.26–0.32 µs) as array stores. That was a third of the boundary's extra CPU on a canonical
 * request.
 *
 * One {@link MetricSink} per metric registry and attribute set (the ones a request's context
 * holds: `Metric.MetricRegistry`, `Metric.CurrentMetricAttributes`), so each registry a test or
 * host provides, and each attribute set a host adds, gets its own series, as `updateUnsafe`
 * would give them. A series is registered the first time its cells are written, starting from
 * the value the registry already held for it (so counts recorded earlier, through effect, are
 * kept). When the registry loses a series (`Metric.removeUnsafe`, a cleared registry) its cells
 * start again from zero at the next write, as a removed effect series does.
 *
 * The boundary owns its series once registered: `Metric.update` on the very same series (same
 * name and labels, same registry) does nothing then (`registerUnsafe`'s contract). Nothing else
 * in the package writes them.
 *
 * @since 0.3.0
 */
import { Context, Metric } from "effect"

type Registry = Context.Service.Shape<typeof Metric.MetricRegistry>
type Attributes = Context.Service.Shape<typeof Metric.CurrentMetricAttributes>
type Metadata = Registry extends Map<string, infer M> ? M : never

const ignore = (): void => {}

/** A series registered over some cells: how to find it again, and how to zero the cells. */
interface Registration {
  readonly key: string
  readonly metadata: Metadata
  readonly reset: () => void
}

/**
 * The cells of one metric registry and attribute set. `context` holds just that registry and
 * those attributes, so a sink keeps no request's context alive.
 *
 * @since 0.3.0
 * @category models
 */
export class MetricSink {
  readonly registry: Registry
  readonly attributes: Attributes
  readonly context: Context.Context<never>
  /** the registry's size when its registrations were last known to be there */
  #size: number
  readonly #registrations: Array<Registration> = []
  readonly #state = new Map<unknown, unknown>()

  constructor(registry: Registry, attributes: Attributes) {
    this.registry = registry
    this.attributes = attributes
    this.context = Context.make(Metric.MetricRegistry, registry).pipe(
      Context.add(Metric.CurrentMetricAttributes, attributes)
    ) as Context.Context<never>
    this.#size = registry.size
  }

  /**
   * Checks, when the registry gained or lost a series since the last check (one comparison
   * otherwise), that every series registered here is still there; the cells of one that is not
   * are zeroed and registered again at their next write. (A removal and an addition between two
   * checks leave the size as it was: the removal is noticed at the next change of size. The
   * per-series hooks this replaced had the same rule.)
   */
  check(): void {
    if (this.registry.size === this.#size) return
    for (let i = this.#registrations.length - 1; i >= 0; i--) {
      const registration = this.#registrations[i]!
      if (this.registry.get(registration.key) !== registration.metadata) {
        registration.reset()
        this.#registrations.splice(i, 1)
      }
    }
    this.#size = this.registry.size
  }

  /** The state `key` names in this sink (e.g. one endpoint's cells), made by `make` on first use. */
  stateOf<T>(key: unknown, make: (sink: MetricSink) => T): T {
    let state = this.#state.get(key) as T | undefined
    if (state === undefined) this.#state.set(key, state = make(this))
    return state
  }

  /**
   * Registers `series` in this sink's registry, read through `get`. `seed` first receives the
   * state the registry holds for the series (a new series' initial state when it had none).
   */
  register<State>(
    series: Metric.Metric<number, State>,
    get: () => State,
    seed: (existing: State) => void,
    reset: () => void
  ): void {
    seed(series.valueUnsafe(this.context))
    Metric.registerUnsafe(series, this.context, { get, update: ignore, modify: ignore })
    // `registerUnsafe` returns only `remove`; the series' key and entry are found by `get`, to
    // tell later whether the registry still holds this registration.
    for (const [key, metadata] of this.registry) {
      if (metadata.hooks.get === get) {
        this.#registrations.push({ key, metadata, reset })
        break
      }
    }
    this.#size = this.registry.size
  }
}

const byRegistry = new WeakMap<Registry, Map<string, MetricSink>>()

/** An attribute set's identity by content: two equal sets share a sink (and a series). */
const attributesKey = (attributes: Attributes): string =>
  JSON.stringify(Object.keys(attributes).sort().map((name) => [name, String(attributes[name])]))

// The registry and attributes of consecutive requests are the same objects (the plain-Node
// adapter's one context; the Effect middleware's request contexts, holding the server's
// registry), so the last sink is kept: two context lookups and two comparisons per request.
let last: MetricSink | undefined

/**
 * The sink for the registry and metric attributes of `context`, checked (see
 * {@link MetricSink.check}) for series the registry lost.
 *
 * @example
 * ```ts
 * import { Context, Metric } from "effect"
 * import { sinkOf } from "./MetricCells.ts" // internal: not part of the package's API
 * const context = Context.make(Metric.MetricRegistry, new Map())
 * sinkOf(context) === sinkOf(context) // => true
 * ```
 * @since 0.3.0
 * @category constructors
 */
export const sinkOf = (context: Context.Context<never>): MetricSink => {
  const registry = Context.get(context, Metric.MetricRegistry)
  const attributes = Context.get(context, Metric.CurrentMetricAttributes)
  if (last === undefined || last.registry !== registry || last.attributes !== attributes) last = findSink(registry, attributes)
  last.check()
  return last
}

const findSink = (registry: Registry, attributes: Attributes): MetricSink => {
  let sinks = byRegistry.get(registry)
  if (sinks === undefined) byRegistry.set(registry, sinks = new Map())
  const key = attributesKey(attributes)
  let sink = sinks.get(key)
  if (sink === undefined) sinks.set(key, sink = new MetricSink(registry, attributes))
  return sink
}

/**
 * Counters in one `Float64Array`, one cell per series, each registered at its first write.
 *
 * @since 0.3.0
 * @category models
 */
export class CounterCells {
  readonly values: Float64Array
  readonly #registered: Uint8Array
  readonly #sink: MetricSink
  readonly #series: ReadonlyArray<Metric.Counter<number>>

  constructor(sink: MetricSink, series: ReadonlyArray<Metric.Counter<number>>) {
    this.#sink = sink
    this.#series = series
    this.values = new Float64Array(series.length)
    this.#registered = new Uint8Array(series.length)
  }

  /** Adds `amount` (≥ 0) to the counter in `slot`. */
  add(slot: number, amount: number): void {
    if (this.#registered[slot] === 0) this.#register(slot)
    this.values[slot] = this.values[slot]! + amount
  }

  #register(slot: number): void {
    const series = this.#series[slot]
    if (series === undefined) throw new RangeError(`no counter series in slot ${slot}`)
    const values = this.values
    const registered = this.#registered
    registered[slot] = 1
    this.#sink.register(
      series as Metric.Metric<number, Metric.CounterState<number>>,
      () => ({ count: values[slot]!, incremental: true }),
      (existing) => {
        values[slot] = Number(existing.count)
      },
      () => {
        values[slot] = 0
        registered[slot] = 0
      }
    )
  }
}

/**
 * A histogram in one `Float64Array`: a count per bucket (a value goes to the first boundary it
 * does not exceed, or past the last), then count, sum, min and max — effect's histogram state,
 * kept as effect's `Metric.histogram` keeps it.
 *
 * @since 0.3.0
 * @category models
 */
export class HistogramCells {
  readonly #boundaries: Float64Array
  readonly #cells: Float64Array
  readonly #sink: MetricSink
  readonly #series: Metric.Histogram<number>
  #registered = false

  constructor(sink: MetricSink, series: Metric.Histogram<number>, boundaries: ReadonlyArray<number>) {
    this.#sink = sink
    this.#series = series
    this.#boundaries = Float64Array.from([...boundaries].sort((a, b) => a - b))
    this.#cells = new Float64Array(this.#boundaries.length + 5)
    this.#clear()
  }

  /** Records one observation. */
  observe(value: number): void {
    if (!this.#registered) this.#register()
    const b = this.#boundaries
    const n = b.length
    // a linear scan: a dozen boundaries, and validation latencies fall in the first few
    let i = 0
    while (i < n && value > b[i]!) i++
    const c = this.#cells
    c[i] = c[i]! + 1
    c[n + 1] = c[n + 1]! + 1
    c[n + 2] = c[n + 2]! + value
    if (value < c[n + 3]!) c[n + 3] = value
    if (value > c[n + 4]!) c[n + 4] = value
  }

  #clear(): void {
    const n = this.#boundaries.length
    this.#cells.fill(0)
    this.#cells[n + 3] = Number.MAX_VALUE
    this.#cells[n + 4] = -Number.MAX_VALUE
  }

  #state(): Metric.HistogramState {
    const b = this.#boundaries
    const c = this.#cells
    const n = b.length
    const buckets: Array<[number, number]> = []
    let cumulated = 0
    for (let i = 0; i < n; i++) {
      cumulated += c[i]!
      buckets.push([b[i]!, cumulated])
    }
    return { buckets, count: c[n + 1]!, sum: c[n + 2]!, min: c[n + 3]!, max: c[n + 4]! }
  }

  #register(): void {
    this.#registered = true
    const n = this.#boundaries.length
    const c = this.#cells
    this.#sink.register(
      this.#series,
      () => this.#state(),
      (existing) => {
        let previous = 0
        for (let i = 0; i < n && i < existing.buckets.length; i++) {
          c[i] = existing.buckets[i]![1] - previous
          previous = existing.buckets[i]![1]
        }
        c[n] = existing.count - previous
        c[n + 1] = existing.count
        c[n + 2] = existing.sum
        c[n + 3] = existing.min
        c[n + 4] = existing.max
      },
      () => {
        this.#clear()
        this.#registered = false
      }
    )
  }
}
