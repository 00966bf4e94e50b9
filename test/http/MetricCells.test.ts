/**
 * Metric cells (MetricCells.ts) must be indistinguishable, to whoever reads the registry, from
 * effect's own series updated with `updateUnsafe`: the same histogram state for any sequence of
 * observations, the counts recorded through effect before the cells took a series over, a
 * series that starts again after it was removed or the registry cleared, and one series per
 * attribute set by content.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Metric } from "effect"
import fc from "fast-check"
import { CounterCells, HistogramCells, sinkOf } from "../../src/http/MetricCells.ts"

const BOUNDARIES = [0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1]
const fresh = () => Context.make(Metric.MetricRegistry, new Map()) as Context.Context<never>

describe("metric cells", () => {
  it("a histogram's state is effect's for any observations (buckets, count, sum, min, max)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ min: 0, max: 0.2, noNaN: true }), fc.constantFrom(...BOUNDARIES)), { maxLength: 60 }),
        (values) => {
          const viaEffect = fresh()
          const viaCells = fresh()
          const histogram = Metric.histogram("latency_seconds", { boundaries: BOUNDARIES })
          for (const v of values) histogram.updateUnsafe(v, viaEffect)
          const cells = new HistogramCells(sinkOf(viaCells), histogram, BOUNDARIES)
          for (const v of values) cells.observe(v)
          if (values.length === 0) cells.observe(0.001) // a series exists once written
          const expected = histogram.valueUnsafe(viaEffect)
          const actual = histogram.valueUnsafe(viaCells)
          if (values.length === 0) {
            assert.strictEqual(actual.count, 1)
            return
          }
          assert.deepStrictEqual(actual.buckets, expected.buckets)
          assert.strictEqual(actual.count, expected.count)
          assert.strictEqual(actual.min, expected.min)
          assert.strictEqual(actual.max, expected.max)
          assert.closeTo(actual.sum, expected.sum, 1e-12)
        }
      ),
      { numRuns: 200 }
    )
  })

  it("counts recorded through effect before the cells took the series over are kept", () => {
    const context = fresh()
    const counter = Metric.counter("requests_total", { incremental: true, attributes: { route: "/a" } })
    const histogram = Metric.histogram("latency_seconds", { boundaries: BOUNDARIES })
    counter.updateUnsafe(5, context)
    histogram.updateUnsafe(0.0003, context)
    histogram.updateUnsafe(0.02, context)
    const counters = new CounterCells(sinkOf(context), [counter])
    const cells = new HistogramCells(sinkOf(context), histogram, BOUNDARIES)
    counters.add(0, 2)
    cells.observe(0.00001)
    assert.strictEqual(counter.valueUnsafe(context).count, 7)
    const state = histogram.valueUnsafe(context)
    assert.strictEqual(state.count, 3)
    assert.strictEqual(state.min, 0.00001)
    assert.strictEqual(state.max, 0.02)
    assert.deepStrictEqual(state.buckets.find(([b]) => b === 0.0005), [0.0005, 2])
    assert.deepStrictEqual(state.buckets.at(-1), [0.1, 3])
    // one series each: the cells replaced effect's, they did not add a second
    assert.strictEqual(Metric.snapshotUnsafe(context).length, 2)
  })

  it("a removed series, or a cleared registry, starts again from zero at the next write", () => {
    const registry = new Map()
    const context = Context.make(Metric.MetricRegistry, registry) as Context.Context<never>
    const counter = Metric.counter("requests_total", { incremental: true })
    const sink = sinkOf(context)
    const counters = new CounterCells(sink, [counter])
    counters.add(0, 3)
    Metric.removeUnsafe(counter, context)
    assert.strictEqual(Metric.snapshotUnsafe(context).length, 0)
    sink.check()
    counters.add(0, 1)
    assert.strictEqual(counter.valueUnsafe(context).count, 1)
    registry.clear()
    sink.check()
    counters.add(0, 4)
    assert.strictEqual(counter.valueUnsafe(context).count, 4)
  })

  it("equal attribute sets in different objects share one series; different ones do not", () => {
    const registry = new Map()
    const base = Context.make(Metric.MetricRegistry, registry)
    const one = Context.add(base, Metric.CurrentMetricAttributes, { service: "api", zone: "a" }) as Context.Context<never>
    const same = Context.add(base, Metric.CurrentMetricAttributes, { zone: "a", service: "api" }) as Context.Context<never>
    const other = Context.add(base, Metric.CurrentMetricAttributes, { service: "web" }) as Context.Context<never>
    const counter = Metric.counter("requests_total", { incremental: true })
    const add = (context: Context.Context<never>) =>
      sinkOf(context).stateOf(counter, (sink) => new CounterCells(sink, [counter])).add(0, 1)
    for (const context of [one, same, other, one, same]) add(context)
    assert.strictEqual(sinkOf(one), sinkOf(same))
    assert.strictEqual(counter.valueUnsafe(one).count, 4)
    assert.strictEqual(counter.valueUnsafe(other).count, 1)
    assert.strictEqual(Metric.snapshotUnsafe(base as Context.Context<never>).length, 2)
  })
})
