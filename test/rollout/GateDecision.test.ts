/**
 * Decision records: every gate evaluation `promote` makes — promoted, forced, held on a failing
 * or inconclusive verdict, or with the metrics source unreadable — is in the audit history with
 * the measured values, the thresholds, the queries and the verdict with its reasons; the
 * evaluation counter and the last-evaluation gauges follow.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Metric, Schema } from "effect"
import { PrometheusMetrics } from "effect/observability"
import {
  AuditEntry,
  BACKFILL_PENDING,
  BackfillStatus,
  DEFAULT_DOCUMENT,
  gateQueries,
  type MetricsSnapshot,
  MetricsSource,
  MetricsSourceError,
  ModeStore,
  promote,
  type StageValidationConfig
} from "../../src/rollout/index.ts"

const healthy: MetricsSnapshot = {
  requests: 20_000,
  wouldRejectRatio: 0.001,
  validatorP99Seconds: 0.0003,
  errorRatio: 0,
  unknownStageRatio: 0.001,
  activeAlerts: [],
  windowEnd: "2026-12-01T10:00:00.000Z"
}
const meta = { actor: "ops@example.com", reason: "weekly ramp", source: "cli" as const }
const phase3: StageValidationConfig = { ...DEFAULT_DOCUMENT, defaultMode: "enforce", enforceWriteOnly: true, enforcementPercent: 10 }

/** A source that says which queries it runs, as the Prometheus one does. */
const source = (snapshots: ReadonlyArray<MetricsSnapshot> | MetricsSourceError) =>
  Layer.succeed(
    MetricsSource,
    MetricsSource.of({
      snapshots: (request) =>
        snapshots instanceof MetricsSourceError ? Effect.fail(snapshots) : Effect.succeed(snapshots.slice(0, request.windows)),
      queries: (request) => gateQueries(request.windowSeconds, "api")
    })
  )

const env = (snapshots: ReadonlyArray<MetricsSnapshot> | MetricsSourceError) =>
  Layer.mergeAll(ModeStore.layerMemory(phase3).pipe(Layer.provide(BackfillStatus.layerMemory(BACKFILL_PENDING))), source(snapshots))

const latest = Effect.gen(function*() {
  const [entry] = yield* (yield* ModeStore).history(1)
  assert.isDefined(entry?.gate, "the entry carries a decision record")
  return entry!
})

describe("gate decision records", () => {
  it.effect("a promotion records values, thresholds, PromQL and the verdict", () =>
    Effect.gen(function*() {
      const result = yield* promote({ ...meta, policy: { requiredPasses: 2 } })
      assert.strictEqual(result.outcome, "promoted")
      const entry = yield* latest
      assert.strictEqual(entry.outcome, "applied")
      const gate = entry.gate!
      assert.deepInclude(gate, { verdict: "pass", decision: "promote", fromPercent: 10, toPercent: 25, requiredPasses: 2, windowSeconds: 600 })
      assert.strictEqual(gate.onInconclusive, "hold")
      assert.strictEqual(gate.windows.length, 2)
      assert.strictEqual(gate.windows[0]!.windowEnd, "2026-12-01T10:00:00.000Z")
      assert.deepInclude(gate.windows[0]!.rows.find((r) => r.criterion === "errorRatio"), {
        comparison: "<",
        threshold: 0.001,
        measured: 0,
        status: "pass"
      })
      assert.strictEqual(gate.queries["requests"], "sum(increase(stage_validation_validations_total{job=\"api\"}[600s]))")
      assert.deepStrictEqual(result.decision, gate)
    }).pipe(Effect.provide(env([healthy, healthy]))))

  it.effect("a held attempt (failing gate) records why, and survives the JSON round trip of the history", () =>
    Effect.gen(function*() {
      const result = yield* promote({ ...meta, policy: { requiredPasses: 1 } })
      assert.strictEqual(result.outcome, "held")
      const entry = yield* latest
      assert.strictEqual(entry.outcome, "refused")
      assert.deepInclude(entry.gate, { verdict: "fail", decision: "hold" })
      assert.include(entry.gate!.reasons.join(" "), "unknown-stage ratio")
      assert.deepInclude(entry.gate!.windows[0]!.rows.find((r) => r.criterion === "unknownStageRatio"), { measured: 0.08, status: "fail" })
      const json = Schema.encodeSync(Schema.fromJsonString(AuditEntry))(entry)
      assert.deepStrictEqual(Schema.decodeUnknownSync(Schema.fromJsonString(AuditEntry))(json).gate, entry.gate)
    }).pipe(Effect.provide(env([{ ...healthy, unknownStageRatio: 0.08 }]))))

  it.effect("inconclusive (too little traffic) and an unreadable source are recorded as inconclusive, with the policy", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* promote({ ...meta, policy: { requiredPasses: 1 }, onInconclusive: "fail" })
        const entry = yield* latest
        assert.deepInclude(entry.gate, { verdict: "inconclusive", decision: "hold", onInconclusive: "fail" })
        assert.deepInclude(entry.gate!.windows[0]!.rows.find((r) => r.criterion === "requests"), { measured: 12, status: "insufficient" })
      }).pipe(Effect.provide(env([{ ...healthy, requests: 12 }])))
      yield* Effect.gen(function*() {
        yield* promote({ ...meta, policy: { requiredPasses: 1 } })
        const entry = yield* latest
        assert.deepInclude(entry.gate, { verdict: "inconclusive", decision: "hold", metricsError: "prometheus timeout" })
        assert.deepStrictEqual(entry.gate!.windows, [])
        assert.isString(entry.gate!.queries["p99"])
      }).pipe(Effect.provide(env(new MetricsSourceError({ message: "prometheus timeout" }))))
    }))

  it.effect("--force past a failing gate records decision force on an applied, forced entry", () =>
    Effect.gen(function*() {
      const result = yield* promote({ ...meta, force: true, policy: { requiredPasses: 1 } })
      assert.strictEqual(result.outcome, "forced")
      const entry = yield* latest
      assert.deepInclude(entry, { outcome: "applied", forced: true })
      assert.deepInclude(entry.gate, { verdict: "fail", decision: "force" })
    }).pipe(Effect.provide(env([{ ...healthy, errorRatio: 0.5 }]))))

  it.effect("each evaluation counts by verdict and sets the last-evaluation gauges", () =>
    Effect.gen(function*() {
      yield* promote({ ...meta, policy: { requiredPasses: 1 } }).pipe(Effect.provide(env([{ ...healthy, errorRatio: 0.01 }])))
      yield* promote({ ...meta, policy: { requiredPasses: 1 } }).pipe(Effect.provide(env([healthy])))
      const text = yield* PrometheusMetrics.format()
      assert.match(text, /^stage_validation_gate_evaluations_total\{verdict="fail"\} 1$/m)
      assert.match(text, /^stage_validation_gate_evaluations_total\{verdict="pass"\} 1$/m)
      assert.match(text, /^stage_validation_gate_last_verdict\{verdict="pass"\} 1$/m)
      assert.match(text, /^stage_validation_gate_last_verdict\{verdict="fail"\} 0$/m)
      assert.match(text, /^stage_validation_gate_last_value\{criterion="errorRatio"\} 0$/m)
      assert.match(text, /^stage_validation_gate_last_value\{criterion="requests"\} 20000$/m)
      assert.match(text, /^stage_validation_gate_last_evaluation_timestamp_seconds \d/m)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))
})
