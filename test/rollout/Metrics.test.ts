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
import { AuditSource, DEFAULT_DOCUMENT, evaluatePromotionGate, MODES, ModeStore } from "../../src/rollout/index.ts"
import { registerEndpointSeries, WEBHOOK_OUTCOMES } from "../../src/http/index.ts"
import { CLOSED_LABEL_VALUES } from "../../src/observability/MetricCatalogue.ts"
import { memoryStore } from "./helpers.ts"

/** The metric family of a sample line (histogram suffixes folded). */
const family = (line: string) => /^([a-zA-Z_:][\w:]*?)(?:_bucket|_sum|_count)?[{ ]/.exec(line)?.[1]

describe("metric catalogue", () => {
  it.effect("registerMetricCatalogue (+ registerEndpointSeries per route) puts every catalogued name in the Prometheus output, changing nothing", () =>
    Effect.gen(function*() {
      yield* Metric.update(Metric.withAttributes(validationsTotal, { endpoint: "/x", mode: "warn", result: "ok" }), 3)
      yield* registerMetricCatalogue
      registerEndpointSeries(yield* Effect.context<never>(), "/x")
      const text = yield* PrometheusMetrics.format()
      for (const name of METRIC_NAMES) assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), name)
      assert.include(text, 'stage_validation_validations_total{endpoint="/x",mode="warn",result="ok"} 3')
      assert.match(text, /^stage_validation_mode_fetch_failures_total 0$/m)
      assert.match(text, /^stage_validation_webhook_total\{outcome="already_downgraded"\} 0$/m)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("a labelled family never has a label-less series beside its labelled ones", () =>
    Effect.gen(function*() {
      yield* registerMetricCatalogue
      registerEndpointSeries(yield* Effect.context<never>(), "/x")
      yield* ModeStore.use((s) => s.get).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT)))
      const lines = (yield* PrometheusMetrics.format()).split("\n").filter((l) => !l.startsWith("#") && l.length > 0)
      const labelledFamilies = new Set(lines.filter((l) => l.includes("{") && !/_bucket\{le=/.test(l)).map(family))
      const bare = lines.filter((l) => !l.includes("{") && labelledFamilies.has(family(l)))
      assert.deepStrictEqual(bare, [])
      assert.notInclude(lines, "stage_validation_webhook_total 0")
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it("the catalogue's closed label sets are the rollout's and the webhook's", () => {
    assert.deepStrictEqual([...CLOSED_LABEL_VALUES.mode], [...MODES])
    assert.deepStrictEqual([...CLOSED_LABEL_VALUES.source], [...AuditSource.literals])
    assert.deepStrictEqual([...CLOSED_LABEL_VALUES.outcome], [...WEBHOOK_OUTCOMES])
    // every criterion the gate reports, with every metric present and with none (all missing)
    const full = evaluatePromotionGate({
      requests: 10_000, wouldRejectRatio: 0, validatorP99Seconds: 0.0001, errorRatio: 0, unknownStageRatio: 0, activeAlerts: []
    })
    const empty = evaluatePromotionGate({})
    const criteria = new Set([...full.table, ...empty.table].map((row) => row.criterion))
    assert.deepStrictEqual([...criteria].sort(), [...CLOSED_LABEL_VALUES.criterion].sort())
  })

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
