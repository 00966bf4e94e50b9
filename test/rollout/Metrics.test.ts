import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"
import {
  METRIC_NAMES,
  registerMetricCatalogue,
  VALIDATION_DURATION_BOUNDARIES,
  validationDurationSeconds,
  validationsTotal
} from "../../src/observability/index.ts"
import { DEFAULT_DOCUMENT, ModeStore } from "../../src/rollout/index.ts"
import { memoryStore } from "./helpers.ts"

describe("metric catalogue", () => {
  it.effect("registerMetricCatalogue puts every catalogued name in the Prometheus output, changing nothing", () =>
    Effect.gen(function*() {
      yield* Metric.update(Metric.withAttributes(validationsTotal, { endpoint: "/x", mode: "warn", result: "ok" }), 3)
      yield* registerMetricCatalogue
      const text = yield* PrometheusMetrics.format()
      for (const name of METRIC_NAMES) assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), name)
      assert.include(text, 'stage_validation_validations_total{endpoint="/x",mode="warn",result="ok"} 3')
      assert.match(text, /^stage_validation_mode_fetch_failures_total 0$/m)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("the duration histogram has sub-millisecond buckets, in seconds, 25 µs … 100 ms", () =>
    Effect.gen(function*() {
      assert.strictEqual(VALIDATION_DURATION_BOUNDARIES[0], 0.000025)
      assert.strictEqual(VALIDATION_DURATION_BOUNDARIES.at(-1), 0.1)
      assert.include(VALIDATION_DURATION_BOUNDARIES, 0.001)
      yield* Metric.update(validationDurationSeconds, 0.0003)
      const text = yield* PrometheusMetrics.format()
      assert.include(text, 'stage_validation_duration_seconds_bucket{le="0.0005"} 1')
      assert.include(text, 'stage_validation_duration_seconds_bucket{le="0.00025"} 0')
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("a ModeStore exposes its fetch-failure counter and mode gauges from boot", () =>
    Effect.gen(function*() {
      yield* ModeStore.use((s) => s.get)
      const text = yield* PrometheusMetrics.format()
      assert.match(text, /^stage_validation_mode_fetch_failures_total 0$/m)
      assert.match(text, /^stage_validation_mode\{mode="warn"\} 1$/m)
      assert.match(text, /^stage_validation_mode\{mode="enforce"\} 0$/m)
      assert.match(text, /^stage_validation_enforcement_percent 100$/m)
    }).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT)), Effect.provideService(Metric.MetricRegistry, new Map())))
})
