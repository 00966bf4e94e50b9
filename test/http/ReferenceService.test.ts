/**
 * The reference service over loopback, against a scratch database on the real PostgreSQL: the
 * seeds' matrix (simulate, strategies, companies × off / warn / enforce, + shadow, + 10 %
 * enforcement, + enforceWriteOnly), the handler seeing the normalised payload, request ids,
 * /api/deprecations, health, metrics.
 */
import { execFileSync } from "node:child_process"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { isInEnforcedSet } from "../../src/rollout/Bucketing.ts"
import { type RunningService, pool, request, stageHeadersOf, startService } from "./support/Service.ts"

/** The metric family of a sample line (histogram suffixes folded). */
const family = (line: string) => /^([a-zA-Z_:][\w:]*?)(?:_bucket|_sum|_count)?[{ ]/.exec(line)?.[1]

let service: RunningService
const VALID = ["pre-seed", "seed", "series-a", "series-b", "series-c", "series-c+"]

beforeAll(async () => {
  service = await startService({ prefix: "ref" })
})
afterAll(async () => {
  await service?.close()
})

const simulate = (stageDistribution: unknown, headers: Record<string, string> = {}) =>
  request(`${service.url}/api/monte-carlo/simulate`, { body: { fundId: 1, runs: 200, seed: 7, stageDistribution }, headers })
let strategyCounter = 0
const strategy = (stageDistribution: unknown, method = "POST") =>
  request(`${service.url}/api/portfolio/strategies`, {
    method,
    body: { fundId: 1, name: `strategy-${++strategyCounter}`, stageDistribution }
  })
const companies = (stage: string) => request(`${service.url}/api/funds/1/companies?stage=${encodeURIComponent(stage)}`)

const INVALID = [{ stage: "invalid", weight: 1.0 }]

type Scenario = "off" | "warn" | "enforce" | "shadow"
const documents: Record<Scenario, Parameters<RunningService["setDocument"]>[0]> = {
  off: { defaultMode: "off", dryRun: false, enforcementPercent: 100, enforceWriteOnly: false },
  warn: { defaultMode: "warn", dryRun: false, enforcementPercent: 100, enforceWriteOnly: false },
  enforce: { defaultMode: "enforce", dryRun: false, enforcementPercent: 100, enforceWriteOnly: false },
  shadow: { defaultMode: "warn", dryRun: true, enforcementPercent: 100, enforceWriteOnly: false }
}

describe("the seeds' matrix: three endpoints × modes", () => {
  for (const scenario of ["off", "warn", "enforce", "shadow"] as const) {
    describe(scenario, () => {
      beforeAll(() => service.setDocument(documents[scenario]))

      it("simulate with an invalid stage", async () => {
        const r = await simulate(INVALID)
        const h = stageHeadersOf(r.headers)
        if (scenario === "enforce") {
          assert.strictEqual(r.status, 400)
          assert.deepStrictEqual(r.json, {
            error: "INVALID_STAGE_DISTRIBUTION",
            details: { invalid: ["invalid"], suggestions: { invalid: [] }, validStages: VALID }
          })
          assert.isUndefined(h["x-stage-would-reject"])
        } else {
          assert.strictEqual(r.status, 200)
          assert.strictEqual(r.json.unclassifiedWeight, 1)
          assert.strictEqual(h["x-stage-would-reject"], scenario === "shadow" ? "true" : undefined)
        }
        if (scenario === "off") assert.deepStrictEqual(h, {})
        else assert.isString(h["x-stage-recommendation"])
      })

      it("simulate with aliases is normalised, with deprecation headers unless off", async () => {
        const r = await simulate([{ stage: "Series A", weight: 0.6 }, { stage: "growth", weight: 0.4 }])
        assert.strictEqual(r.status, 200)
        assert.deepStrictEqual(r.json.distribution, [{ stage: "series-a", weight: 0.6 }, { stage: "series-c+", weight: 0.4 }])
        const h = stageHeadersOf(r.headers)
        if (scenario === "off") {
          assert.deepStrictEqual(h, {})
        } else {
          assert.strictEqual(h["x-stage-deprecated-variants"], "Series A,growth")
          assert.match(h["deprecation"]!, /^@\d+$/)
          assert.match(h["link"]!, /rel="deprecation"/)
          assert.isUndefined(h["x-stage-would-reject"])
        }
      })

      it("strategies with an invalid stage", async () => {
        const r = await strategy([{ stage: "Series A", weight: 0.5 }, { stage: "bridge", weight: 0.5 }])
        if (scenario === "enforce") {
          assert.strictEqual(r.status, 400)
          assert.strictEqual(r.json.error, "INVALID_STAGE_DISTRIBUTION")
          assert.deepStrictEqual(r.json.details.invalid, ["bridge"])
        } else {
          assert.strictEqual(r.status, 201)
          // stored as the handler saw it: canonical entries, then the unrecognised one as sent
          assert.deepStrictEqual(r.json.stageDistribution, [{ stage: "series-a", weight: 0.5 }, { stage: "bridge", weight: 0.5 }])
          assert.strictEqual(r.headers.get("x-stage-would-reject") ?? undefined, scenario === "shadow" ? "true" : undefined)
        }
      })

      it("companies filtered by an invalid stage", async () => {
        const r = await companies("serie a")
        if (scenario === "enforce") {
          assert.strictEqual(r.status, 400)
          assert.strictEqual(r.json.error, "INVALID_STAGE")
          assert.deepStrictEqual(r.json.details.invalid, ["serie a"])
          assert.include(r.json.details.suggestions["serie a"], "series-a")
        } else {
          assert.strictEqual(r.status, 200)
          assert.deepStrictEqual(r.json.items, [])
          assert.strictEqual(r.headers.get("x-stage-would-reject") ?? undefined, scenario === "shadow" ? "true" : undefined)
        }
      })

      it("companies filtered by an alias: normalised filter over messy stored stages", async () => {
        const r = await companies("Series A")
        assert.strictEqual(r.status, 200)
        assert.deepStrictEqual(r.json.filter, ["series-a"])
        assert.deepStrictEqual(r.json.items.map((c: { name: string }) => c.name), ["Acme Robotics", "Cobalt Data"])
        assert.deepStrictEqual(r.json.items.map((c: { stage: string }) => c.stage), ["Series A", "series-a"])
      })

      it("/api/deprecations reports the mode", async () => {
        const r = await request(`${service.url}/api/deprecations`)
        assert.strictEqual(r.json.items[0].current_mode, documents[scenario].defaultMode)
        assert.include(r.json.items[0].deprecated_variants, "growth")
        assert.deepStrictEqual(r.json.items[0].canonical_stages, VALID)
      })
    })
  }
})

describe("rollout shapes", () => {
  it("10 % enforcement, default key: 200 invalid requests with one fixed X-Request-Id are rejected in about 10 % of cases", async () => {
    await service.setDocument({ ...documents.enforce, enforcementPercent: 10 })
    const statuses = await pool(Array.from({ length: 200 }, () => () => simulate(INVALID, { "x-request-id": "one-fixed-id" }).then((r) => r.status)), 8)
    const rejected = statuses.filter((s) => s === 400).length
    console.info(`[bucketing] reference service, fixed X-Request-Id, 10 %: ${rejected} of 200 rejected`)
    assert.isTrue(rejected >= 4 && rejected <= 50, `rejected ${rejected} of 200 (expected 2 %–25 %)`)
    assert.isTrue(statuses.every((s) => s === 400 || s === 200))
  })

  it("10 % enforcement rejects 10 % ± 2 of 2,000 requests; with x-request-id opted in as the stickiness header, exactly the bucketed ids", async () => {
    await service.setDocument({ ...documents.enforce, enforcementPercent: 10 })
    const ids = Array.from({ length: 2000 }, (_, i) => `req-${i}-${(i * 2654435761 >>> 0).toString(36)}`)
    const free = await pool(ids.map((id) => () => simulate(INVALID, { "x-request-id": id }).then((r) => r.status)), 24)
    const rejected = free.filter((s) => s === 400).length
    assert.isTrue(Math.abs(rejected / 2000 - 0.1) <= 0.02, `rejected ${rejected} of 2000`)

    await service.setDocument({ ...documents.enforce, enforcementPercent: 10, stickinessHeader: "x-request-id" })
    const statuses = await pool(ids.map((id) => () => simulate(INVALID, { "x-request-id": id }).then((r) => r.status)), 24)
    const doc = service.store.current()
    ids.forEach((id, i) => assert.strictEqual(statuses[i] === 400, isInEnforcedSet(doc, id), id))
    const { stickinessHeader: _dropped, version: _version, ...rest } = doc
    await service.run(service.store.set({ document: rest, expectedVersion: doc.version, actor: "test", reason: "drop the opt-in", source: "cli", force: true }))
  })

  it("enforceWriteOnly: strategies rejected, simulate only warned", async () => {
    await service.setDocument({ ...documents.warn, enforceWriteOnly: true })
    const write = await strategy(INVALID)
    assert.strictEqual(write.status, 400)
    const read = await simulate(INVALID)
    assert.strictEqual(read.status, 200)
    assert.isString(read.headers.get("x-stage-recommendation"))
    assert.isNull(read.headers.get("x-stage-would-reject"))
  })
})

describe("the handler sees the normalised payload", () => {
  beforeAll(() => service.setDocument(documents.enforce))

  it("strategies: stored canonical, merged, in canonical order", async () => {
    const r = await strategy({ "growth": 0.2, "Series A": 0.3, "series_a": 0.1, "Pre-Seed": 0.4 })
    assert.strictEqual(r.status, 201)
    assert.deepStrictEqual(r.json.stageDistribution, [
      { stage: "pre-seed", weight: 0.4 },
      { stage: "series-a", weight: 0.4 },
      { stage: "series-c+", weight: 0.2 }
    ])
    const listed = await request(`${service.url}/api/portfolio/strategies?fundId=1`)
    assert.deepStrictEqual(listed.json.items.find((s: { id: number }) => s.id === r.json.id).stageDistribution, r.json.stageDistribution)
  })

  it("allocations: the stage is stored canonical; PATCH changes it", async () => {
    const created = await request(`${service.url}/api/allocations`, { body: { fundId: 1, companyId: 1, stage: "Seed Round", amount: 250000 } })
    assert.strictEqual(created.status, 201)
    assert.strictEqual(created.json.stage, "seed")
    const patched = await request(`${service.url}/api/allocations`, { method: "PATCH", body: { id: created.json.id, fundId: 1, stage: "SeriesB" } })
    assert.strictEqual(patched.status, 200)
    assert.strictEqual(patched.json.stage, "series-b")
    assert.strictEqual(patched.json.amount, 250000)
    const rejected = await request(`${service.url}/api/allocations`, { method: "PUT", body: { id: created.json.id, fundId: 1, stage: "angel", amount: 1 } })
    assert.strictEqual(rejected.status, 400)
    assert.strictEqual(rejected.json.error, "INVALID_STAGE")
  })

  it("PUT upserts and PATCH needs an existing strategy", async () => {
    const put = await request(`${service.url}/api/portfolio/strategies`, { method: "PUT", body: { fundId: 2, name: "Balanced", stageDistribution: { seed: 1 } } })
    assert.strictEqual(put.status, 200)
    assert.deepStrictEqual(put.json.stageDistribution, [{ stage: "seed", weight: 1 }])
    const missing = await request(`${service.url}/api/portfolio/strategies`, { method: "PATCH", body: { fundId: 2, name: "nope", stageDistribution: { seed: 1 } } })
    assert.strictEqual(missing.status, 404)
  })

  it("same seed, same simulation", async () => {
    const a = await simulate([{ stage: "seed", weight: 1 }])
    const b = await simulate([{ stage: "Seed", weight: 1 }])
    assert.deepStrictEqual(a.json.tvpi, b.json.tvpi)
  })
})

describe("boundary details", () => {
  beforeAll(() => service.setDocument(documents.warn))

  it("echoes a sane x-request-id and replaces an insane one", async () => {
    assert.strictEqual((await simulate(INVALID, { "x-request-id": "abc-123" })).headers.get("x-request-id"), "abc-123")
    const replaced = (await simulate(INVALID, { "x-request-id": "has space" })).headers.get("x-request-id")!
    assert.match(replaced, /^[0-9a-f-]{36}$/)
    assert.match((await request(`${service.url}/api/funds/1/companies`)).headers.get("x-request-id")!, /^[0-9a-f-]{36}$/)
  })

  it("a stage string with CR/LF is echoed percent-encoded: no split header, no 500", async () => {
    const r = await simulate([{ stage: "Series\r\nA", weight: 0.5 }, { stage: "seed\r\nSet-Cookie: pwned=1", weight: 0.5 }])
    assert.strictEqual(r.status, 200)
    assert.strictEqual(r.headers.get("x-stage-deprecated-variants"), "Series%0D%0AA")
    assert.isNull(r.headers.get("set-cookie"))
    const invalid = await simulate([{ stage: "x\r\nX-Injected: 1", weight: 1 }])
    assert.strictEqual(invalid.status, 200)
    assert.isNull(invalid.headers.get("x-injected"))
  })

  it("logs offenders as structured lines, with the request id and a UA hash", async () => {
    const before = service.offenders.length
    await simulate([{ stage: "bogus-stage", weight: 1 }], { "x-request-id": "offender-1", "user-agent": "secret-agent/1.0" })
    const line = service.offenders.slice(before).find((l) => l.requestId === "offender-1")!
    assert.deepStrictEqual(line.unknownStages, ["bogus-stage"])
    assert.strictEqual(line.endpoint, "/api/monte-carlo/simulate")
    assert.match(line.uaHash, /^[0-9a-f]{12}$/)
    assert.isFalse(JSON.stringify(line).includes("secret-agent"))
  })

  it("malformed JSON and oversized bodies get JSON errors", async () => {
    const bad = await request(`${service.url}/api/monte-carlo/simulate`, { body: "{\"fundId\": 1," })
    assert.strictEqual(bad.status, 400)
    assert.strictEqual(bad.json.error, "INVALID_JSON")
    const huge = await request(`${service.url}/api/monte-carlo/simulate`, { body: JSON.stringify({ pad: "x".repeat(9 * 1024 * 1024) }) })
    assert.strictEqual(huge.status, 413)
    assert.strictEqual(huge.json.error, "PAYLOAD_TOO_LARGE")
  })

  it("missing fields are the handler's 400, not a stage error", async () => {
    const r = await request(`${service.url}/api/monte-carlo/simulate`, { body: { fundId: 1, runs: 10 } })
    assert.strictEqual(r.status, 400)
    assert.strictEqual(r.json.error, "INVALID_REQUEST")
    const runs = await request(`${service.url}/api/monte-carlo/simulate`, { body: { fundId: 1, runs: 100001, stageDistribution: { seed: 1 } } })
    assert.strictEqual(runs.status, 400)
  })

  it("healthz, readyz", async () => {
    assert.deepStrictEqual((await request(`${service.url}/healthz`)).json, { status: "ok" })
    const ready = await request(`${service.url}/readyz`)
    assert.strictEqual(ready.status, 200)
    assert.deepStrictEqual(ready.json.checks, { modeStore: "ok", database: "ok" })
  })

  it("/metrics has the catalogue's series and passes promtool when present", async () => {
    const r = await request(`${service.url}/metrics`)
    assert.strictEqual(r.status, 200)
    for (const name of [
      "stage_validation_validations_total",
      "stage_validation_duration_seconds_bucket",
      "stage_warn_unknown_total",
      "stage_validation_mode",
      "stage_validation_webhook_total"
    ]) assert.include(r.text, name)
    assert.match(r.text, /stage_validation_validations_total\{endpoint="\/api\/monte-carlo\/simulate",mode="enforce",result="rejected"\} [1-9]/)
    // no label-less series beside a family's labelled ones (e.g. a bare `stage_validation_webhook_total 0`)
    const samples = r.text.split("\n").filter((l) => l.length > 0 && !l.startsWith("#"))
    const labelled = new Set(samples.filter((l) => l.includes("{") && !/_bucket\{le=/.test(l)).map(family))
    assert.deepStrictEqual(samples.filter((l) => !l.includes("{") && labelled.has(family(l))), [])
    let promtool: string | undefined
    try {
      promtool = execFileSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" }).trim()
    } catch {
      promtool = undefined
    }
    if (promtool === undefined || promtool === "") {
      assert.notStrictEqual(process.env["CI"], "true", "promtool is required in CI")
      return
    }
    const out = execFileSync(promtool, ["check", "metrics"], { input: r.text, encoding: "utf8" })
    assert.strictEqual(out.trim(), "")
  })
})
