/**
 * The Prometheus metrics source against a fake Prometheus HTTP API on 127.0.0.1: the queries it
 * sends, how answers become gate snapshots, and that every failure (unreachable, slow, an error
 * answer, garbage) is a typed MetricsSourceError on which the gate never passes.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import {
  gateQueries,
  layerPrometheusMetricsSourceFetch,
  type PrometheusMetricsSourceOptions
} from "../../src/rollout/PrometheusMetricsSource.ts"
import { PrometheusQueryError } from "../../src/rollout/PrometheusQueryError.ts"
import {
  BACKFILL_PENDING,
  BackfillStatus,
  BLOCKING_ALERTS,
  DEFAULT_DOCUMENT,
  MetricsSource,
  ModeStore,
  promote,
  type StageValidationConfig
} from "../../src/rollout/index.ts"
import { type RecordedQuery, type Reply, rules, startFakePrometheus, vector } from "./fakePrometheus.ts"

const healthyAnswers = (q: RecordedQuery): Reply => {
  if (q.path === "/api/v1/rules") return rules(BLOCKING_ALERTS)
  const query = q.params["query"] ?? ""
  if (query.startsWith("histogram_quantile")) return vector([{ value: "0.00042" }])
  if (query.startsWith("max_over_time(ALERTS")) return vector([])
  if (query.includes(`result="would_reject"`)) return vector([{ value: "20" }])
  if (query.includes("stage_validation_errors_total")) return vector([{ value: "1" }])
  if (query.includes("stage_warn_unknown_total")) return vector([{ value: "30" }])
  if (query.includes("stage_validation_validations_total")) return vector([{ value: "10000" }])
  return { kind: "json", status: 400, body: { status: "error", errorType: "bad_data", error: "unexpected query" } }
}

const firingAnswers = (q: RecordedQuery): Reply =>
  (q.params["query"] ?? "").startsWith("max_over_time(ALERTS")
    ? vector([
      { metric: { alertname: "StageValidationBlastRadius", job: "svc" }, value: "1" },
      { metric: { alertname: "StageValidationBlastRadius", job: "svc2" }, value: "1" },
      { metric: { alertname: "EnforceGateUnknownRateHigh", job: "svc" }, value: "1" }
    ])
    : healthyAnswers(q)

/** Runs `snapshots` against a fake Prometheus answering with `handler`. */
const snapshotsFrom = (
  handler: (q: RecordedQuery) => Reply,
  request = { windows: 3, windowSeconds: 600 },
  options: Partial<PrometheusMetricsSourceOptions> = {}
) =>
  Effect.acquireUseRelease(
    Effect.promise(() => startFakePrometheus(handler)),
    (fake) =>
      MetricsSource.use((m) => m.snapshots(request)).pipe(
        Effect.result,
        Effect.map((result) => ({ result, requests: fake.requests })),
        Effect.provide(layerPrometheusMetricsSourceFetch({ url: fake.url, ...options }))
      ),
    (fake) => Effect.promise(() => fake.close())
  )

describe("gateQueries", () => {
  it("aggregates every input over the window, optionally for one job", () => {
    const q = gateQueries(600)
    assert.strictEqual(q.requests, "sum(increase(stage_validation_validations_total[600s]))")
    assert.strictEqual(q.wouldReject, `sum(increase(stage_validation_validations_total{result="would_reject"}[600s]))`)
    assert.strictEqual(q.errors, "sum(increase(stage_validation_errors_total[600s]))")
    assert.strictEqual(q.unknown, "sum(increase(stage_warn_unknown_total[600s]))")
    assert.strictEqual(q.p99, "histogram_quantile(0.99, sum by (le) (increase(stage_validation_duration_seconds_bucket[600s])))")
    assert.strictEqual(q.alerts, `max_over_time(ALERTS{alertstate="firing"}[600s])`)
    const j = gateQueries(30, `api "eu"`)
    assert.strictEqual(j.wouldReject, `sum(increase(stage_validation_validations_total{job="api \\"eu\\"",result="would_reject"}[30s]))`)
    assert.strictEqual(j.alerts, `max_over_time(ALERTS{job="api \\"eu\\"",alertstate="firing"}[30s])`)
  })
})

describe("PrometheusMetricsSource", () => {
  it.live("turns one instant query per input and window into snapshots, newest first", () =>
    Effect.gen(function*() {
      const { result, requests } = yield* snapshotsFrom(healthyAnswers)
      assert.strictEqual(result._tag, "Success")
      if (result._tag !== "Success") return
      const snapshots = result.success
      assert.strictEqual(snapshots.length, 3)
      const first = snapshots[0]!
      assert.strictEqual(first.requests, 10000)
      assert.strictEqual(first.wouldRejectRatio, 0.002)
      assert.strictEqual(first.errorRatio, 0.0001)
      assert.strictEqual(first.unknownStageRatio, 0.003)
      assert.strictEqual(first.validatorP99Seconds, 0.00042)
      assert.deepStrictEqual(first.activeAlerts, [])
      // one rules listing, six queries per window, each window ending 600 s before the previous
      assert.strictEqual(requests.filter((r) => r.path === "/api/v1/rules").length, 1)
      const queries = requests.filter((r) => r.path === "/api/v1/query")
      assert.strictEqual(queries.length, 18)
      const times = [...new Set(queries.map((r) => Number(r.params["time"])))].sort((a, b) => b - a)
      assert.strictEqual(times.length, 3)
      assert.closeTo(times[0]! - times[1]!, 600, 0.001)
      assert.closeTo(times[1]! - times[2]!, 600, 0.001)
      assert.closeTo(times[0]!, Date.now() / 1000, 30)
      assert.strictEqual(Date.parse(first.windowEnd!) / 1000, Math.round(times[0]! * 1000) / 1000)
    }))

  it.live("a numerator counter that does not exist yet counts as 0 once there is traffic", () =>
    Effect.gen(function*() {
      const { result } = yield* snapshotsFrom((q) => {
        const query = q.params["query"] ?? ""
        if (q.path === "/api/v1/query" && !query.startsWith("histogram") && !query.includes("ALERTS") &&
          (query.includes("would_reject") || query.includes("errors_total") || query.includes("unknown"))) return vector([])
        return healthyAnswers(q)
      }, { windows: 1, windowSeconds: 600 })
      assert.strictEqual(result._tag, "Success")
      if (result._tag !== "Success") return
      const s = result.success[0]!
      assert.strictEqual(s.wouldRejectRatio, 0)
      assert.strictEqual(s.errorRatio, 0)
      assert.strictEqual(s.unknownStageRatio, 0)
    }))

  it.live("no validations series, or no traffic: requests and ratios unknown, never 0/0 = 0", () =>
    Effect.gen(function*() {
      const absent = yield* snapshotsFrom((q) => {
        const query = q.params["query"] ?? ""
        if (query.startsWith("histogram_quantile")) return vector([{ value: "NaN" }])
        if (query.includes("stage_validation_validations_total")) return vector([])
        return healthyAnswers(q)
      }, { windows: 1, windowSeconds: 600 })
      assert.strictEqual(absent.result._tag, "Success")
      if (absent.result._tag !== "Success") return
      const a = absent.result.success[0]!
      assert.isUndefined(a.requests)
      assert.isUndefined(a.wouldRejectRatio)
      assert.isUndefined(a.errorRatio)
      assert.isUndefined(a.unknownStageRatio)
      assert.isUndefined(a.validatorP99Seconds)

      const idle = yield* snapshotsFrom((q) => {
        const query = q.params["query"] ?? ""
        if (query.startsWith("histogram_quantile")) return vector([{ value: "NaN" }])
        if (query.includes("stage_validation_validations_total")) return vector([{ value: "0" }])
        return healthyAnswers(q)
      }, { windows: 1, windowSeconds: 600 })
      assert.strictEqual(idle.result._tag, "Success")
      if (idle.result._tag !== "Success") return
      const i = idle.result.success[0]!
      assert.strictEqual(i.requests, 0)
      assert.isUndefined(i.wouldRejectRatio)
      assert.isUndefined(i.validatorP99Seconds)
    }))

  it.live("reports firing alerts by name, and 'unknown' when Prometheus does not evaluate the blocking rules", () => {
    const warnings: Array<unknown> = []
    return Effect.gen(function*() {
      const loaded = yield* snapshotsFrom(firingAnswers, { windows: 1, windowSeconds: 600 })
      assert.strictEqual(loaded.result._tag, "Success")
      if (loaded.result._tag === "Success") {
        assert.deepStrictEqual(loaded.result.success[0]!.activeAlerts, ["EnforceGateUnknownRateHigh", "StageValidationBlastRadius"])
      }
      const notLoaded = yield* snapshotsFrom(
        (q) => (q.path === "/api/v1/rules" ? rules(["SomethingElse"]) : healthyAnswers(q)),
        { windows: 1, windowSeconds: 600 }
      )
      assert.strictEqual(notLoaded.result._tag, "Success")
      if (notLoaded.result._tag === "Success") assert.isUndefined(notLoaded.result.success[0]!.activeAlerts)
      // the missing rules are a warning in the log (captured here, so a green run prints nothing)
      assert.isTrue(warnings.some((m) => JSON.stringify(m).includes("stage_validation.gate_alert_rules_missing")), JSON.stringify(warnings))
    }).pipe(Effect.provide(Logger.layer([Logger.make(({ logLevel, message }) => void (logLevel === "Warn" && warnings.push(message)))])))
  })

  it.live("scopes every query to one job", () =>
    Effect.gen(function*() {
      const { requests } = yield* snapshotsFrom(healthyAnswers, { windows: 1, windowSeconds: 60 }, { job: "checkout" })
      const queries = requests.filter((r) => r.path === "/api/v1/query").map((r) => r.params["query"] ?? "")
      assert.strictEqual(queries.length, 6)
      for (const q of queries) assert.include(q, `job="checkout"`)
    }))
})

const reasonOf = (result: { readonly _tag: string; readonly failure?: unknown }) => {
  assert.strictEqual(result._tag, "Failure")
  const failure = result.failure as { _tag: string; cause: unknown }
  assert.strictEqual(failure._tag, "MetricsSourceError")
  assert.instanceOf(failure.cause, PrometheusQueryError)
  return (failure.cause as PrometheusQueryError).reason
}

describe("PrometheusMetricsSource failures", () => {
  it.live("an unreachable Prometheus is a typed Unreachable failure", () =>
    Effect.gen(function*() {
      // a port that was just free: nothing listens there
      const port = yield* Effect.promise(() =>
        new Promise<number>((resolve) => {
          const s = createServer()
          s.listen(0, "127.0.0.1", () => {
            const p = (s.address() as AddressInfo).port
            s.close(() => resolve(p))
          })
        })
      )
      const result = yield* MetricsSource.use((m) => m.snapshots({ windows: 1, windowSeconds: 600 })).pipe(
        Effect.result,
        Effect.provide(layerPrometheusMetricsSourceFetch({ url: `http://127.0.0.1:${port}` }))
      )
      const reason = reasonOf(result as never)
      assert.strictEqual(reason._tag, "Unreachable")
    }))

  it.live("a Prometheus that does not answer in time is a Timeout", () =>
    Effect.gen(function*() {
      const started = Date.now()
      const { result } = yield* snapshotsFrom(() => ({ kind: "hang" }), { windows: 1, windowSeconds: 600 }, {
        timeout: "300 millis"
      })
      const reason = reasonOf(result as never)
      assert.strictEqual(reason._tag, "Timeout")
      assert.isBelow(Date.now() - started, 5_000)
    }))

  it.live("an error answer is QueryFailed with Prometheus' errorType", () =>
    Effect.gen(function*() {
      const { result } = yield* snapshotsFrom((q) =>
        q.path === "/api/v1/rules"
          ? rules(BLOCKING_ALERTS)
          : { kind: "json", status: 422, body: { status: "error", errorType: "execution", error: "query timed out" } }
      )
      const reason = reasonOf(result as never)
      assert.strictEqual(reason._tag, "QueryFailed")
      if (reason._tag === "QueryFailed") {
        assert.strictEqual(reason.status, 422)
        assert.strictEqual(reason.errorType, "execution")
      }
    }))

  it.live("something that is not a query result is BadResponse; a 503 page is QueryFailed", () =>
    Effect.gen(function*() {
      const garbage = yield* snapshotsFrom(() => ({ kind: "raw", status: 200, body: "<html>login</html>" }))
      assert.strictEqual(reasonOf(garbage.result as never)._tag, "BadResponse")
      const matrix = yield* snapshotsFrom((q) =>
        q.path === "/api/v1/rules"
          ? rules(BLOCKING_ALERTS)
          : { kind: "json", body: { status: "success", data: { resultType: "matrix", result: [] } } }
      )
      assert.strictEqual(reasonOf(matrix.result as never)._tag, "BadResponse")
      const unavailable = yield* snapshotsFrom(() => ({ kind: "raw", status: 503, body: "Service Unavailable" }))
      assert.strictEqual(reasonOf(unavailable.result as never)._tag, "QueryFailed")
    }))

  it.live("promote never advances on an unreachable Prometheus", () =>
    Effect.gen(function*() {
      const initial: StageValidationConfig = { ...DEFAULT_DOCUMENT, defaultMode: "enforce", enforceWriteOnly: true, enforcementPercent: 10 }
      const result = yield* promote({ actor: "ops", reason: "ramp", source: "cli" }).pipe(
        Effect.provide(Layer.mergeAll(
          ModeStore.layerMemory(initial).pipe(Layer.provide(BackfillStatus.layerMemory(BACKFILL_PENDING))),
          layerPrometheusMetricsSourceFetch({ url: "http://127.0.0.1:1", timeout: "500 millis" })
        )),
        Effect.provide(Logger.layer([]))
      )
      assert.strictEqual(result.outcome, "held")
      assert.notStrictEqual(result.verdict, "pass")
      assert.strictEqual(result.document.enforcementPercent, 10)
    }))
})
