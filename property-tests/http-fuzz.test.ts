/**
 * Fuzzing the reference service over loopback with fast-check: at least 5,000 generated request
 * bodies and query strings (`__proto__` and friends, numbers as strings, NaN-like strings,
 * 100,000-entry arrays, deep nesting, CR/LF and zero-width characters in stage strings, broken
 * JSON, broken percent-encoding) across every rollout shape. Every answer must be below 500 and
 * JSON; the server must stay up and no prototype may be polluted.
 *
 * Reproduce a failure with FUZZ_SEED=<seed printed in the failure message>.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { OPS_TOKEN, pool, type RunningService, startService } from "../test/http/support/Service.ts"

let service: RunningService
beforeAll(async () => {
  service = await startService({ prefix: "fuzz", offenderSamplePercent: 0 })
})
afterAll(async () => {
  await service?.close()
})

const SEED = Number(process.env["FUZZ_SEED"] ?? Date.now() % 2_147_483_647)
const REQUESTS = Number(process.env["FUZZ_REQUESTS"] ?? 6000)

const nastyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf",
    "Series A", "series-a", "growth", "late-stage", "seed\r\n", "Series\r\nA", "seed\u200b", "\u200bseed", "s\u0000eed",
    "SERIES\tB", "ѕeed", "", " ", "\ud800", "😀", "NaN", "Infinity", "-0", "1e309", "null", "undefined", "0x10", "1", "0.5"
  ),
  fc.tuple(fc.constantFrom("Series A", "seed", "growth"), fc.constantFrom("\r\n", "\n", "\u200b", "\u2028", "\ufeff", "%0D%0A"))
    .map(([a, b]) => a + b + "X-Injected: 1")
)

const weird = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom("1", "1e3", "NaN", "Infinity", "-Infinity", "-0", "0x1F", " 42 ", "1e309", "", "true"),
  fc.constant(null),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.constantFrom(1, 1000, 100001, 0, -1, 2 ** 31, 2 ** 53, 1e308)
)

const entry = fc.record({ stage: fc.oneof(nastyString, weird), weight: weird }, { requiredKeys: [] })
const distribution = fc.oneof(
  fc.array(entry, { maxLength: 12 }),
  fc.dictionary(nastyString, weird, { maxKeys: 8 }),
  fc.constant([{ stage: "Series A", weight: 0.5 }, { stage: "growth", weight: 0.5 }]),
  fc.constant([{ stage: "invalid", weight: 1 }]),
  weird,
  nastyString
)

const stageName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("pre-seed", "seed", "series-a", "series-b", "series-c", "series-c+", "Series A", "growth", "Pre Seed Round", "SeriesB") },
  { weight: 2, arbitrary: nastyString }
)
/** Plausible distributions: 1–6 entries whose weights sum to 1. */
const plausible = fc.array(stageName, { minLength: 1, maxLength: 6 }).map((stages) =>
  stages.map((stage, _i, all) => ({ stage, weight: 1 / all.length }))
)
const often = <A, B>(good: fc.Arbitrary<A>, bad: fc.Arbitrary<B>) =>
  fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: bad as fc.Arbitrary<A | B> })

const body = fc.record({
  fundId: often(fc.constantFrom(1, 2, 3), weird),
  runs: often(fc.constantFrom(1, 10, 50), weird),
  seed: often(fc.integer({ min: 0, max: 2 ** 32 - 1 }), weird),
  companies: often(fc.integer({ min: 1, max: 30 }), weird),
  name: often(fc.stringMatching(/^[A-Za-z][A-Za-z0-9 -]{0,30}$/), fc.oneof(nastyString, weird)),
  stage: often(stageName, weird),
  amount: often(fc.integer({ min: 0, max: 10_000_000 }), weird),
  companyId: often(fc.integer({ min: 1, max: 21 }), weird),
  id: often(fc.integer({ min: 1, max: 40 }), weird),
  stageDistribution: fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 2, arbitrary: distribution })
}, { requiredKeys: ["fundId", "runs", "name", "stage", "amount", "stageDistribution"] })

const protoBody = fc.tuple(nastyString, distribution).map(([s, d]) =>
  `{"__proto__":{"polluted":true,"stage":${JSON.stringify(s)}},"constructor":{"prototype":{"polluted":true}},` +
  `"fundId":1,"runs":5,"stage":${JSON.stringify(s)},"stageDistribution":${JSON.stringify(d) ?? "null"}}`
)

const deep = fc.integer({ min: 100, max: 20000 }).map((depth) =>
  `{"fundId":1,"runs":5,"stageDistribution":${"[".repeat(depth)}${"]".repeat(depth)}}`
)

const brokenJson = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom("{", "{\"fundId\":1,", "[1,2", "{\"a\":}", "nul", "\u0000", "{\"stageDistribution\":[{\"stage\":\"seed\",\"weight\":1}]", "\"just a string\"", "123", "null", "[]")
)

const huge = fc.constantFrom("valid", "unknown", "mixed").map((kind) => {
  const entries = Array.from({ length: 100_000 }, (_, i) =>
    kind === "valid"
      ? { stage: i % 2 === 0 ? "seed" : "Series A", weight: 0.00001 }
      : kind === "unknown"
      ? { stage: `unknown-${i}`, weight: 0.00001 }
      : { stage: i % 3 === 0 ? "growth" : `u${i % 50}`, weight: "0.00001" })
  return JSON.stringify({ fundId: 1, runs: 5, name: `huge-${kind}`, stageDistribution: entries })
})

const wellFormed = (s: string): string =>
  s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd")

const queryValue = fc.oneof(
  stageName.map((s) => encodeURIComponent(wellFormed(s))),
  fc.constantFrom("%", "%E0%A4%A", "%00", "%0D%0AX-Evil:%201", "a%2Cb", "Series+A", "%F0%9F%98%80", "__proto__", "")
)
const query = fc.record({
  fundId: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom("1", "2", "3") },
    { weight: 1, arbitrary: fc.constantFrom("0", "-1", "abc", "1e3", "99999999999", "%2e%2e", "1.5", "__proto__") }
  ),
  params: fc.array(fc.tuple(fc.constantFrom("stage", "stage[]", "__proto__", "constructor", "fundId", "Stage"), queryValue), { maxLength: 6 })
})

type Req = { readonly method: string; readonly path: string; readonly body?: string; readonly headers?: Record<string, string> }

const bodyRoutes: ReadonlyArray<readonly [string, string]> = [
  ["POST", "/api/monte-carlo/simulate"],
  ["POST", "/api/portfolio/strategies"],
  ["PUT", "/api/portfolio/strategies"],
  ["PATCH", "/api/portfolio/strategies"],
  ["POST", "/api/allocations"],
  ["PUT", "/api/allocations"],
  ["PATCH", "/api/allocations"],
  ["POST", "/_ops/stage-validation/auto-downgrade"],
  ["PUT", "/_ops/stage-validation/mode"],
  ["POST", "/_ops/stage-validation/toggle"]
]

const requestArb: fc.Arbitrary<Req> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...bodyRoutes), fc.oneof(body.map((b) => JSON.stringify(b)), protoBody, brokenJson)).map(([[method, path], b]) => ({ method, path, body: b })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...bodyRoutes.slice(0, 5)), deep).map(([[method, path], b]) => ({ method, path, body: b })) },
  {
    weight: 4,
    arbitrary: query.map((q) => ({
      method: "GET",
      path: `/api/funds/${q.fundId}/companies?${q.params.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join("&")}`
    }))
  },
  { weight: 1, arbitrary: fc.constantFrom("GET /api/deprecations", "GET /api/portfolio/strategies?fundId=abc", "GET /api/portfolio/strategies?fundId=1", "GET /readyz")
    .map((s) => ({ method: s.split(" ")[0]!, path: s.split(" ")[1]! })) }
)

const shapes = [
  { defaultMode: "off", dryRun: false, enforcementPercent: 100, enforceWriteOnly: false },
  { defaultMode: "warn", dryRun: false, enforcementPercent: 100, enforceWriteOnly: false },
  { defaultMode: "enforce", dryRun: false, enforcementPercent: 100, enforceWriteOnly: false },
  { defaultMode: "warn", dryRun: true, enforcementPercent: 100, enforceWriteOnly: false },
  { defaultMode: "enforce", dryRun: false, enforcementPercent: 10, enforceWriteOnly: false },
  { defaultMode: "warn", dryRun: false, enforcementPercent: 100, enforceWriteOnly: true }
] as const

const send = async (req: Req) => {
  const headers: Record<string, string> = { ...req.headers }
  if (req.body !== undefined) headers["content-type"] = "application/json"
  if (req.path.startsWith("/_ops/")) headers["authorization"] = `Bearer ${OPS_TOKEN}`
  const response = await fetch(service.url + req.path, { method: req.method, headers, ...(req.body !== undefined ? { body: req.body } : {}) })
  const text = await response.text()
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", text }
}

const check = (req: Req, r: { status: number; contentType: string; text: string }) => {
  const where = `seed ${SEED}: ${req.method} ${req.path} ${req.body === undefined ? "" : req.body.slice(0, 300)}`
  assert.isBelow(r.status, 500, `${where} → ${r.status} ${r.text.slice(0, 300)}`)
  assert.include(r.contentType, "application/json", `${where} → ${r.status} ${r.contentType}`)
  assert.doesNotThrow(() => JSON.parse(r.text), undefined, where)
}

describe("fuzzing the reference service", () => {
  it(`${REQUESTS} generated requests across every rollout shape: never 5xx, always JSON, still up`, { timeout: 120_000 }, async () => {
    const requests = fc.sample(requestArb, { numRuns: REQUESTS, seed: SEED })
    const perShape = Math.ceil(requests.length / shapes.length)
    let sent = 0
    for (let s = 0; s < shapes.length; s++) {
      await service.setDocument(shapes[s]!)
      const batch = requests.slice(s * perShape, (s + 1) * perShape)
      await pool(batch.map((req) => async () => check(req, await send(req))), 16)
      sent += batch.length
    }
    // a few 100,000-entry distributions, in enforce and in warn
    const bigs = fc.sample(huge, { numRuns: 4, seed: SEED })
    for (const [i, b] of bigs.entries()) {
      await service.setDocument(shapes[i % 2 === 0 ? 2 : 1]!)
      for (const path of ["/api/monte-carlo/simulate", "/api/portfolio/strategies"]) {
        const req = { method: "POST", path, body: b }
        check(req, await send(req))
        sent++
      }
    }
    assert.isAtLeast(sent, 5000)
    const health = await send({ method: "GET", path: "/healthz" })
    assert.strictEqual(health.status, 200)
    const ready = await send({ method: "GET", path: "/readyz" })
    assert.strictEqual(ready.status, 200)
    assert.isUndefined(({} as Record<string, unknown>)["polluted"])
    assert.isUndefined((Object.prototype as Record<string, unknown>)["stage"])
  })
})
