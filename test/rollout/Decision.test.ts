import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import {
  DEFAULT_DOCUMENT,
  DEV_CONFIG,
  getValidationDecision,
  operationOf,
  PRODUCTION_CONFIG,
  type StageValidationConfig,
  StageValidationConfig as ConfigSchema
} from "../../src/rollout/index.ts"
import { defaultOperation, endpointModeOf, matchRouteTemplate } from "../../src/rollout/Routes.ts"

const STRATEGIES = "/api/portfolio/strategies"
const SIMULATE = "/api/monte-carlo/simulate"
const COMPANIES = "/api/funds/:fundId/companies"

// The seeds' phases, as the env would set them (seed 001)
const phase = (overrides: Partial<StageValidationConfig>): StageValidationConfig => ({
  defaultMode: "warn",
  endpointMode: {},
  enforceWriteOnly: false,
  enforcementPercent: 100,
  dryRun: false,
  ...overrides
})
const PHASE_2_5 = phase({ enforceWriteOnly: true }) // ENFORCE_WRITE_ONLY=true, MODE=warn
const PHASE_2_7 = phase({ dryRun: true }) // DRY_RUN=true, MODE=warn, ENFORCE_WRITE_ONLY=false
const PHASE_3_AT_10 = phase({ defaultMode: "enforce", enforcementPercent: 10 }) // MODE=enforce, PERCENT=10

// Deterministic UUID-v4-shaped ids (xorshift32), so the acceptance figures are reproducible.
const uuids = (count: number, seed = 0x9e3779b9): ReadonlyArray<string> => {
  let x = seed | 0
  const next = () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0).toString(16).padStart(8, "0")
  }
  return Array.from({ length: count }, () => {
    const h = next() + next() + next() + next()
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
  })
}

describe("acceptance: the seeds' phases", () => {
  it("phase 2.5 rejects invalid POST /api/portfolio/strategies and only warns on POST /api/monte-carlo/simulate", () => {
    const write = getValidationDecision(PHASE_2_5, { method: "POST", path: STRATEGIES, requestId: "r-1" })
    assert.deepStrictEqual({ ...write }, {
      mode: "enforce",
      operation: "write",
      shouldEmitHeaders: true,
      shouldEnforce: true,
      shouldReject: true,
      shouldEmitWouldReject: false,
      isDryRun: false
    })
    const simulate = getValidationDecision(PHASE_2_5, { method: "POST", path: SIMULATE, requestId: "r-1" })
    assert.deepStrictEqual({ ...simulate }, {
      mode: "warn",
      operation: "read",
      shouldEmitHeaders: true,
      shouldEnforce: false,
      shouldReject: false,
      shouldEmitWouldReject: false,
      isDryRun: false
    })
    const companies = getValidationDecision(PHASE_2_5, { method: "GET", path: "/api/funds/42/companies", requestId: "r" })
    assert.strictEqual(companies.mode, "warn")
    assert.isFalse(companies.shouldReject)
  })

  it("phase 2.7 (dry-run) never rejects and flags would-reject on every endpoint", () => {
    for (const [method, path] of [["POST", STRATEGIES], ["POST", SIMULATE], ["GET", "/api/funds/1/companies"]]) {
      for (let i = 0; i < 200; i++) {
        const d = getValidationDecision(PHASE_2_7, { method: method!, path: path!, requestId: `req-${i}` })
        assert.isFalse(d.shouldReject)
        assert.isTrue(d.shouldEmitWouldReject)
        assert.isTrue(d.isDryRun)
        assert.strictEqual(d.mode, "enforce")
        assert.isTrue(d.shouldEmitHeaders)
      }
    }
  })

  it("phase 3 at 10 % enforces 10 % ± 1 of 20,000 distinct request ids", () => {
    let enforced = 0
    const ids = uuids(20_000)
    assert.strictEqual(new Set(ids).size, 20_000)
    for (const requestId of ids) {
      const d = getValidationDecision(PHASE_3_AT_10, { method: "POST", path: STRATEGIES, requestId })
      if (d.shouldReject) enforced++
      assert.strictEqual(d.shouldEnforce, d.mode === "enforce")
    }
    const share = (enforced / 20_000) * 100
    assert.isAtLeast(share, 9)
    assert.isAtMost(share, 11)
  })

  it("the same request id gets the same decision (stable bucketing)", () => {
    const ids = Array.from({ length: 500 }, (_, i) => `stable-${i}`)
    const first = ids.map((requestId) => getValidationDecision(PHASE_3_AT_10, { method: "POST", path: STRATEGIES, requestId }))
    const again = ids.map((requestId) => getValidationDecision(PHASE_3_AT_10, { method: "POST", path: STRATEGIES, requestId }))
    assert.deepStrictEqual(first, again)
    assert.isAbove(first.filter((d) => d.shouldEnforce).length, 0)
  })
})

describe("resolution order", () => {
  it("an endpoint override wins over the default mode, for templates and concrete paths", () => {
    const config = phase({ defaultMode: "off", endpointMode: { [STRATEGIES]: "enforce", [COMPANIES]: "warn" } })
    assert.strictEqual(getValidationDecision(config, { method: "POST", path: STRATEGIES, requestId: "r" }).mode, "enforce")
    assert.strictEqual(getValidationDecision(config, { method: "GET", path: COMPANIES, requestId: "r" }).mode, "warn")
    assert.strictEqual(
      getValidationDecision(config, { method: "GET", path: "/api/funds/42/companies", requestId: "r" }).mode,
      "warn"
    )
    assert.strictEqual(getValidationDecision(config, { method: "GET", path: "/api/other", requestId: "r" }).mode, "off")
  })

  it("off emits no headers and never rejects, whatever else is set", () => {
    const config = phase({ defaultMode: "off", enforceWriteOnly: true, dryRun: true })
    const d = getValidationDecision(config, { method: "POST", path: STRATEGIES, requestId: "r" })
    assert.deepStrictEqual({ ...d }, {
      mode: "off",
      operation: "write",
      shouldEmitHeaders: false,
      shouldEnforce: false,
      shouldReject: false,
      shouldEmitWouldReject: false,
      isDryRun: false
    })
  })

  it("enforceWriteOnly caps reads at warn even when the mode is enforce, also in shadow mode", () => {
    const config = phase({ defaultMode: "enforce", enforceWriteOnly: true, dryRun: true })
    const read = getValidationDecision(config, { method: "GET", path: "/api/funds/1/companies", requestId: "r" })
    assert.strictEqual(read.mode, "warn")
    assert.isFalse(read.shouldEnforce)
    const write = getValidationDecision(config, { method: "PUT", path: STRATEGIES, requestId: "r" })
    assert.isTrue(write.shouldEmitWouldReject)
    assert.isFalse(write.shouldReject)
  })

  it("outside the enforced set, an enforce decision warns (real and shadow)", () => {
    const real = phase({ defaultMode: "enforce", enforcementPercent: 0.01 })
    const shadow = phase({ defaultMode: "warn", dryRun: true, enforcementPercent: 0.01 })
    const ids = Array.from({ length: 3000 }, (_, i) => `id-${i}`)
    const realOut = ids.map((requestId) => getValidationDecision(real, { method: "POST", path: "/x", requestId }))
    const shadowOut = ids.map((requestId) => getValidationDecision(shadow, { method: "POST", path: "/x", requestId }))
    assert.isTrue(realOut.some((d) => d.mode === "warn" && !d.shouldEnforce && d.shouldEmitHeaders))
    assert.isTrue(shadowOut.some((d) => d.mode === "warn" && d.isDryRun && !d.shouldEmitWouldReject))
    assert.isBelow(realOut.filter((d) => d.shouldEnforce).length, 10)
  })

  it("the stickiness key replaces the request id in bucketing", () => {
    const config = phase({ defaultMode: "enforce", enforcementPercent: 50 })
    for (const fund of ["fund-1", "fund-2", "fund-3", "fund-4"]) {
      const decisions = Array.from({ length: 50 }, (_, i) =>
        getValidationDecision(config, { method: "POST", path: STRATEGIES, requestId: `r-${i}`, stickinessKey: fund })
          .shouldEnforce)
      assert.isTrue(decisions.every((d) => d === decisions[0]), fund)
    }
    // an empty stickiness key falls back to the request id
    const byId = Array.from({ length: 200 }, (_, i) =>
      getValidationDecision(config, { method: "POST", path: STRATEGIES, requestId: `r-${i}`, stickinessKey: "" })
        .shouldEnforce)
    assert.isTrue(byId.includes(true) && byId.includes(false))
  })

  it("returns frozen, shared decision objects (no allocation per call)", () => {
    const a = getValidationDecision(PHASE_2_5, { method: "POST", path: STRATEGIES, requestId: "a" })
    const b = getValidationDecision(PHASE_2_5, { method: "POST", path: STRATEGIES, requestId: "b" })
    assert.strictEqual(a, b)
    assert.isTrue(Object.isFrozen(a))
  })
})

describe("operations and routes", () => {
  it("methods: GET/HEAD/OPTIONS read, the rest write, case-insensitively", () => {
    assert.strictEqual(defaultOperation("GET"), "read")
    assert.strictEqual(defaultOperation("head"), "read")
    assert.strictEqual(defaultOperation("Options"), "read")
    assert.strictEqual(defaultOperation("DELETE"), "write")
    assert.strictEqual(defaultOperation("post"), "write")
    assert.strictEqual(defaultOperation("PROPFIND"), "write")
  })

  it("the seeds' table: POST /api/monte-carlo/simulate is a read", () => {
    assert.strictEqual(operationOf(DEFAULT_DOCUMENT, "POST", SIMULATE), "read")
    assert.strictEqual(operationOf(DEFAULT_DOCUMENT, "post", SIMULATE + "/"), "read")
    assert.strictEqual(operationOf(DEFAULT_DOCUMENT, "POST", STRATEGIES), "write")
    assert.strictEqual(operationOf(DEFAULT_DOCUMENT, "PATCH", "/api/allocations"), "write")
    assert.strictEqual(operationOf(DEFAULT_DOCUMENT, "GET", "/api/funds/9/companies"), "read")
    // overrides are per method: DELETE on the simulate route is still a write
    assert.strictEqual(operationOf(DEFAULT_DOCUMENT, "DELETE", SIMULATE), "write")
  })

  it("a per-route override can turn a GET into a write", () => {
    const config = Schema.decodeUnknownSync(ConfigSchema)({
      enforceWriteOnly: true,
      operationOverrides: { "GET /api/jobs/:id/run": "write" }
    })
    const d = getValidationDecision(config, { method: "GET", path: "/api/jobs/7/run", requestId: "r" })
    assert.strictEqual(d.operation, "write")
    assert.isTrue(d.shouldReject)
  })

  it("mode and operation are matched independently: a mode override never reclassifies a route", () => {
    const config = Schema.decodeUnknownSync(ConfigSchema)({
      enforceWriteOnly: true,
      endpointMode: { "/api/monte-carlo/:action": "enforce" },
      operationOverrides: { "POST /api/monte-carlo/simulate": "read" }
    })
    const d = getValidationDecision(config, { method: "POST", path: "/api/monte-carlo/simulate", requestId: "r" })
    assert.strictEqual(d.operation, "read")
    assert.strictEqual(d.mode, "warn")
    assert.strictEqual(endpointModeOf(config, "/api/monte-carlo/simulate"), "enforce")
    assert.strictEqual(endpointModeOf(config, "/api/other"), undefined)
  })

  it("matches concrete paths against templates, most specific first, ignoring query and trailing slash", () => {
    const config = phase({
      endpointMode: {
        "/api/funds/:fundId/companies": "warn",
        "/api/funds/special/companies": "enforce",
        "/api/funds/*": "off",
        "/api/:any/:id/companies": "enforce"
      }
    })
    assert.strictEqual(matchRouteTemplate(config, "/api/funds/42/companies"), "/api/funds/:fundId/companies")
    assert.strictEqual(matchRouteTemplate(config, "/api/funds/special/companies"), "/api/funds/special/companies")
    assert.strictEqual(matchRouteTemplate(config, "/api/funds/42/companies/?x=1#top"), "/api/funds/:fundId/companies")
    assert.strictEqual(matchRouteTemplate(config, "/api/funds/42/other/deep"), "/api/funds/*")
    assert.strictEqual(matchRouteTemplate(config, "/api/deals/42/companies"), "/api/:any/:id/companies")
    assert.isUndefined(matchRouteTemplate(config, "/api/deals//companies")) // empty parameter
    assert.isUndefined(matchRouteTemplate(config, "/api/deals/42/companies/extra"))
    assert.isUndefined(matchRouteTemplate(config, "api/funds/42/companies"))
    assert.isUndefined(matchRouteTemplate(config, "/other"))
  })

  it("compiles templates once per config object, so a changed config is seen", () => {
    const a = phase({ endpointMode: { "/api/x/:id": "enforce" } })
    const b = { ...a, endpointMode: { "/api/x/:id": "off" as const } }
    assert.strictEqual(getValidationDecision(a, { method: "POST", path: "/api/x/1", requestId: "r" }).mode, "enforce")
    assert.strictEqual(getValidationDecision(b, { method: "POST", path: "/api/x/1", requestId: "r" }).mode, "off")
  })

  it("presets decide as the seeds describe", () => {
    const dev = getValidationDecision(DEV_CONFIG, { method: "POST", path: STRATEGIES, requestId: "r" })
    assert.isTrue(dev.shouldEmitWouldReject)
    assert.isFalse(dev.shouldReject)
    const prodRead = getValidationDecision(PRODUCTION_CONFIG, { method: "POST", path: SIMULATE, requestId: "r" })
    assert.strictEqual(prodRead.mode, "warn")
    let prodRejects = 0
    for (let i = 0; i < 5000; i++) {
      if (getValidationDecision(PRODUCTION_CONFIG, { method: "POST", path: STRATEGIES, requestId: `p-${i}` }).shouldReject) {
        prodRejects++
      }
    }
    assert.approximately(prodRejects / 5000, 0.1, 0.02)
  })
})
