import { assert, describe, it } from "@effect/vitest"
import {
  BLOCKING_ALERTS,
  DEFAULT_GATE_CRITERIA,
  evaluatePromotionGate,
  evaluatePromotionWindows,
  formatGateTable,
  type MetricsSnapshot
} from "../../src/rollout/index.ts"

const healthy: MetricsSnapshot = {
  requests: 50_000,
  wouldRejectRatio: 0.001,
  validatorP99Seconds: 0.0004,
  errorRatio: 0.0002,
  unknownStageRatio: 0.002,
  activeAlerts: []
}

describe("evaluatePromotionGate", () => {
  it("passes when every criterion holds, with one table row per criterion", () => {
    const r = evaluatePromotionGate(healthy)
    assert.strictEqual(r.verdict, "pass")
    assert.deepStrictEqual(r.table.map((row) => [row.criterion, row.status]), [
      ["requests", "pass"],
      ["wouldRejectRatio", "pass"],
      ["validatorP99Seconds", "pass"],
      ["errorRatio", "pass"],
      ["unknownStageRatio", "pass"],
      ["activeAlerts", "pass"]
    ])
    assert.deepStrictEqual(r.table[2], {
      criterion: "validatorP99Seconds",
      comparison: "<",
      threshold: 0.001,
      measured: 0.0004,
      status: "pass"
    })
  })

  it("uses the seeds' defaults: 0.5 % would-reject, 1 ms p99, 0.1 % errors, 0.5 % unknown, the four alerts", () => {
    assert.strictEqual(DEFAULT_GATE_CRITERIA.maxWouldRejectRatio, 0.005)
    assert.strictEqual(DEFAULT_GATE_CRITERIA.maxValidatorP99Seconds, 0.001)
    assert.strictEqual(DEFAULT_GATE_CRITERIA.maxErrorRatio, 0.001)
    assert.strictEqual(DEFAULT_GATE_CRITERIA.maxUnknownStageRatio, 0.005)
    assert.deepStrictEqual([...BLOCKING_ALERTS].sort(), [
      "EnforceGateUnknownRateHigh",
      "RedisModeFetchFailing",
      "StageValidationBlastRadius",
      "StageValidatorLatencyRegression"
    ])
  })

  it("fails on each breached threshold (thresholds are strict: equal fails)", () => {
    const cases: ReadonlyArray<readonly [Partial<MetricsSnapshot>, string]> = [
      [{ wouldRejectRatio: 0.005 }, "wouldRejectRatio"],
      [{ validatorP99Seconds: 0.0015 }, "validatorP99Seconds"],
      [{ errorRatio: 0.002 }, "errorRatio"],
      [{ unknownStageRatio: 0.01 }, "unknownStageRatio"]
    ]
    for (const [change, criterion] of cases) {
      const r = evaluatePromotionGate({ ...healthy, ...change })
      assert.strictEqual(r.verdict, "fail", criterion)
      assert.strictEqual(r.table.find((row) => row.criterion === criterion)?.status, "fail", criterion)
      assert.strictEqual(r.reasons.length, 1)
    }
  })

  it("fails while a named alert fires; other alerts do not block", () => {
    const firing = evaluatePromotionGate({ ...healthy, activeAlerts: ["RedisModeFetchFailing", "DiskAlmostFull"] })
    assert.strictEqual(firing.verdict, "fail")
    assert.include(firing.reasons[0]!, "RedisModeFetchFailing")
    assert.deepStrictEqual(firing.table.at(-1)?.measured, ["RedisModeFetchFailing"])
    assert.strictEqual(evaluatePromotionGate({ ...healthy, activeAlerts: ["DiskAlmostFull"] }).verdict, "pass")
  })

  it("a missing or invalid metric fails — it never passes by silence", () => {
    for (const key of Object.keys(healthy) as Array<keyof MetricsSnapshot>) {
      const snapshot: Record<string, unknown> = { ...healthy }
      delete snapshot[key]
      const r = evaluatePromotionGate(snapshot as MetricsSnapshot)
      assert.strictEqual(r.verdict, "fail", key)
      assert.strictEqual(r.table.find((row) => row.criterion === key)?.status, "missing", key)
    }
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -0.1]) {
      assert.strictEqual(evaluatePromotionGate({ ...healthy, errorRatio: bad }).verdict, "fail")
    }
    assert.strictEqual(evaluatePromotionGate({}).verdict, "fail")
  })

  it("too little traffic is inconclusive, never a pass, even with breaches; a missing metric still fails", () => {
    assert.strictEqual(evaluatePromotionGate({ ...healthy, requests: 999 }).verdict, "inconclusive")
    assert.strictEqual(evaluatePromotionGate({ ...healthy, requests: 0 }).verdict, "inconclusive")
    const lowAndBad = evaluatePromotionGate({ ...healthy, requests: 10, errorRatio: 0.5 })
    assert.strictEqual(lowAndBad.verdict, "inconclusive")
    assert.strictEqual(lowAndBad.table[0]?.status, "insufficient")
    assert.strictEqual(evaluatePromotionGate({ ...healthy, requests: 10, errorRatio: undefined }).verdict, "fail")
    assert.strictEqual(evaluatePromotionGate({ ...healthy, requests: 1_000 }).verdict, "pass")
  })

  it("criteria are configurable", () => {
    const strict = { ...DEFAULT_GATE_CRITERIA, maxValidatorP99Seconds: 0.0001, minRequests: 10 }
    assert.strictEqual(evaluatePromotionGate(healthy, strict).verdict, "fail")
    assert.strictEqual(evaluatePromotionGate({ ...healthy, requests: 20, validatorP99Seconds: 0.00005 }, strict).verdict, "pass")
  })

  it("formats a table for the CLI", () => {
    const text = formatGateTable(evaluatePromotionGate({ ...healthy, errorRatio: undefined }).table)
    const lines = text.split("\n")
    assert.strictEqual(lines.length, 7)
    assert.match(lines[0]!, /^criterion\s+threshold\s+measured\s+status$/)
    assert.match(lines[4]!, /^errorRatio\s+< 0\.001\s+—\s+missing$/)
  })
})

describe("evaluatePromotionWindows (N consecutive passes)", () => {
  it("needs N passing windows", () => {
    assert.strictEqual(evaluatePromotionWindows([healthy, healthy, healthy], DEFAULT_GATE_CRITERIA, 3).verdict, "pass")
    assert.strictEqual(evaluatePromotionWindows([healthy, healthy], DEFAULT_GATE_CRITERIA, 3).verdict, "inconclusive")
    assert.strictEqual(evaluatePromotionWindows([], DEFAULT_GATE_CRITERIA, 1).verdict, "inconclusive")
  })
  it("any failing window fails, any low-traffic window makes it inconclusive", () => {
    const failing = evaluatePromotionWindows([healthy, { ...healthy, errorRatio: 0.01 }, healthy], DEFAULT_GATE_CRITERIA, 3)
    assert.strictEqual(failing.verdict, "fail")
    assert.include(failing.reasons[0]!, "window 2")
    const quiet = evaluatePromotionWindows([healthy, healthy, { ...healthy, requests: 3 }], DEFAULT_GATE_CRITERIA, 3)
    assert.strictEqual(quiet.verdict, "inconclusive")
    assert.strictEqual(quiet.windows.length, 3)
  })
  it("only the newest N windows count", () => {
    const r = evaluatePromotionWindows([healthy, healthy, { ...healthy, errorRatio: 0.5 }], DEFAULT_GATE_CRITERIA, 2)
    assert.strictEqual(r.verdict, "pass")
  })
})
