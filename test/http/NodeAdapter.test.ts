/**
 * The plain-Node adapter on a raw `node:http` server: the same decisions, headers, 400 bodies
 * and normalised payloads as the Effect boundary in the reference service (both read the same
 * rollout document), metrics recorded, bodies from a prior parser honoured, never a throw.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Context, Metric } from "effect"
import express from "express"
import { createStageValidationHandler, type StageValidatedRequest } from "../../src/http/NodeAdapter.ts"
import * as StageLocation from "../../src/http/StageLocation.ts"
import type { OffenderLogLine } from "../../src/observability/OffenderLog.ts"
import { validationsTotal } from "../../src/observability/metrics.ts"
import { request, type RunningService, stageHeadersOf, startService } from "./support/Service.ts"

let service: RunningService
let server: Server
let base: string
const registry = new Map()
const metricsContext = Context.make(Metric.MetricRegistry, registry) as Context.Context<never>
const offenders: Array<OffenderLogLine> = []

const routes = {
  "/api/monte-carlo/simulate": StageLocation.bodyDistribution("stageDistribution"),
  "/api/portfolio/strategies": StageLocation.bodyDistribution("stageDistribution"),
  "/api/funds/:fundId/companies": StageLocation.queryStage("stage"),
  "/api/allocations": StageLocation.bodyStage("stage")
} as const

beforeAll(async () => {
  service = await startService({ prefix: "node" })
  const handlers = Object.fromEntries(Object.entries(routes).map(([endpoint, location]) => [
    endpoint,
    createStageValidationHandler({
      endpoint,
      location,
      current: () => service.store.current(),
      metricsContext,
      offenderSamplePercent: 100,
      offenderSink: (line) => void offenders.push(line)
    })
  ]))
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!
    const endpoint = path.startsWith("/api/funds/") ? "/api/funds/:fundId/companies" : path
    const handler = handlers[endpoint]
    if (handler === undefined) {
      res.statusCode = 404
      return res.end()
    }
    handler(req, res, (error) => {
      const validated = req as StageValidatedRequest
      res.statusCode = error === undefined ? 200 : 500
      res.setHeader("content-type", "application/json")
      res.end(JSON.stringify({ body: validated.body ?? null, validation: validated.stageValidation ?? null }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve))
  await service?.close()
})

type Case = { readonly name: string; readonly method: string; readonly path: string; readonly body?: unknown }
const cases: ReadonlyArray<Case> = [
  { name: "simulate invalid", method: "POST", path: "/api/monte-carlo/simulate", body: { fundId: 1, runs: 10, stageDistribution: [{ stage: "invalid", weight: 1 }] } },
  { name: "simulate aliases", method: "POST", path: "/api/monte-carlo/simulate", body: { fundId: 1, runs: 10, stageDistribution: [{ stage: "Series A", weight: 0.5 }, { stage: "growth", weight: 0.5 }] } },
  { name: "simulate sum off", method: "POST", path: "/api/monte-carlo/simulate", body: { fundId: 1, runs: 10, stageDistribution: { seed: 0.3 } } },
  { name: "strategy invalid", method: "POST", path: "/api/portfolio/strategies", body: { fundId: 1, name: "n", stageDistribution: { "seed": 0.5, "bridge\r\n": 0.5 } } },
  { name: "companies invalid", method: "GET", path: "/api/funds/1/companies?stage=serie%20a" },
  { name: "companies repeated", method: "GET", path: "/api/funds/1/companies?stage=Series%20A&stage=seed" },
  { name: "allocation alias", method: "POST", path: "/api/allocations", body: { fundId: 1, stage: "Series\r\nB", amount: 5 } },
  { name: "allocation non-string", method: "POST", path: "/api/allocations", body: { fundId: 1, stage: 7, amount: 5 } }
]

const documents = {
  off: { defaultMode: "off", dryRun: false, enforcementPercent: 100, enforceWriteOnly: false },
  warn: { defaultMode: "warn", dryRun: false, enforcementPercent: 100, enforceWriteOnly: false },
  enforce: { defaultMode: "enforce", dryRun: false, enforcementPercent: 100, enforceWriteOnly: false },
  shadow: { defaultMode: "warn", dryRun: true, enforcementPercent: 100, enforceWriteOnly: false },
  writeOnly: { defaultMode: "warn", dryRun: false, enforcementPercent: 100, enforceWriteOnly: true },
  // the adapters agree per request id only when both bucket on it: the document's explicit opt-in
  tenPercent: { defaultMode: "enforce", dryRun: false, enforcementPercent: 10, enforceWriteOnly: false, stickinessHeader: "x-request-id" }
} as const

/** Answered by the boundary's 400 (not by a handler's own validation). */
const rejected = (r: { status: number; json: any }) =>
  r.status === 400 && (r.json?.error === "INVALID_STAGE" || r.json?.error === "INVALID_STAGE_DISTRIBUTION")

describe("same behaviour as the Effect boundary", () => {
  for (const [scenario, doc] of Object.entries(documents)) {
    it(scenario, async () => {
      await service.setDocument(doc)
      for (const c of cases) {
        for (const id of ["fixed-id-1", "fixed-id-7", "fixed-id-42"]) {
          const init = { method: c.method, body: c.body, headers: { "x-request-id": id } }
          const [effect, node] = await Promise.all([request(service.url + c.path, init), request(base + c.path, init)])
          const label = `${scenario} / ${c.name} / ${id}`
          assert.strictEqual(rejected(effect), rejected(node), label)
          assert.deepStrictEqual(stageHeadersOf(node.headers), stageHeadersOf(effect.headers), label)
          assert.strictEqual(node.headers.get("x-request-id"), id, label)
          if (rejected(node)) assert.deepStrictEqual(node.json, effect.json, label)
        }
      }
    })
  }
})

describe("the adapter itself", () => {
  it("hands the next handler the rewritten body and the normalised stages", async () => {
    await service.setDocument(documents.enforce)
    const r = await request(`${base}/api/monte-carlo/simulate`, { body: { fundId: 1, stageDistribution: { "Series A": 0.5, "series_a": 0.5 } } })
    assert.strictEqual(r.status, 200)
    assert.deepStrictEqual(r.json.body, { fundId: 1, stageDistribution: [{ stage: "series-a", weight: 1 }] })
    assert.strictEqual(r.json.validation.result, "normalized")
    const q = await request(`${base}/api/funds/1/companies?stage=SeriesB`)
    assert.deepStrictEqual(q.json.validation.stages, { _tag: "Stages", stages: ["series-b"], unrecognized: [] })
    const absent = await request(`${base}/api/funds/1/companies`)
    assert.deepStrictEqual(absent.json.validation.stages, { _tag: "Absent" })
  })

  it("records metrics into its context and logs offenders", async () => {
    await service.setDocument(documents.warn)
    await request(`${base}/api/allocations`, { body: { fundId: 1, stage: "nonsense", amount: 1 }, headers: { "x-request-id": "adapter-off-1" } })
    const count = Metric.withAttributes(validationsTotal, { endpoint: "/api/allocations", mode: "warn", result: "invalid" }).valueUnsafe(metricsContext)
    assert.isAtLeast(count.count, 1)
    assert.isTrue(offenders.some((l) => l.requestId === "adapter-off-1" && l.unknownStages[0] === "nonsense"))
  })

  it("answers JSON errors for bad JSON and oversized bodies", async () => {
    const bad = await request(`${base}/api/allocations`, { body: "{nope" })
    assert.strictEqual(bad.status, 400)
    assert.strictEqual(bad.json.error, "INVALID_JSON")
    const small = createStageValidationHandler({ endpoint: "/x", location: StageLocation.bodyStage(), current: () => service.store.current(), maxBodyBytes: 10 })
    const tiny = createServer((req, res) => small(req, res, () => res.end("next")))
    await new Promise<void>((resolve) => tiny.listen(0, "127.0.0.1", resolve))
    try {
      const r = await request(`http://127.0.0.1:${(tiny.address() as AddressInfo).port}/x`, { body: { stage: "seed", pad: "x".repeat(100) } })
      assert.strictEqual(r.status, 413)
    } finally {
      await new Promise((resolve) => tiny.close(resolve))
    }
  })

  it("in Express: uses the body express.json() parsed, its headers reach the response res.json() writes", async () => {
    await service.setDocument(documents.enforce)
    const app = express()
    app.use(express.json())
    app.post(
      "/api/allocations",
      createStageValidationHandler({ endpoint: "/api/allocations", location: StageLocation.bodyStage(), current: () => service.store.current(), metricsContext }),
      (req, res) => {
        res.set("x-app", "1")
        res.status(201).json({ body: req.body, requestId: (req as StageValidatedRequest).stageValidation?.requestId })
      }
    )
    const listening = app.listen(0, "127.0.0.1")
    await new Promise<void>((resolve) => listening.once("listening", () => resolve()))
    try {
      const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}/api/allocations`
      const r = await request(url, { body: { stage: "Pre Seed Round" }, headers: { "x-request-id": "express-1" } })
      assert.strictEqual(r.status, 201)
      assert.deepStrictEqual(r.json, { body: { stage: "pre-seed" }, requestId: "express-1" })
      assert.strictEqual(r.headers.get("x-stage-deprecated-variants"), "Pre Seed Round")
      assert.strictEqual(r.headers.get("x-request-id"), "express-1")
      assert.strictEqual(r.headers.get("x-app"), "1")
      assert.match(r.headers.get("content-type") ?? "", /^application\/json/)
      const rejected = await request(url, { body: { stage: "series-q" } })
      assert.strictEqual(rejected.status, 400)
      assert.strictEqual((rejected.json as { error: string }).error, "INVALID_STAGE")
    } finally {
      await new Promise((resolve) => listening.close(resolve))
    }
  })
})
