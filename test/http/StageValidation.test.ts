/**
 * The Effect middleware in isolation (no socket: `HttpRouter.toWebHandler`): metrics recorded in
 * the request's registry, the stickiness header as the bucketing key, absent fields, and a
 * validator failure counted in `stage_validation_errors_total` and answered with a JSON 500.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Logger, Metric } from "effect"
import { HttpRouter, HttpServer, HttpServerResponse } from "effect/http"
import { NormalizedStages } from "../../src/http/NormalizedStages.ts"
import { StageBoundary } from "../../src/http/StageBoundary.ts"
import * as StageLocation from "../../src/http/StageLocation.ts"
import { withStageValidation } from "../../src/http/StageValidation.ts"
import { validationErrorsTotal, validationsTotal, warnUnknownTotal } from "../../src/observability/metrics.ts"
import { isInEnforcedSet } from "../../src/rollout/Bucketing.ts"
import { DEFAULT_DOCUMENT, type RolloutDocument } from "../../src/rollout/Config.ts"

const echo = Effect.map(NormalizedStages, (s) => HttpServerResponse.jsonUnsafe({ stages: s.stages, result: s.result ?? null, body: s.body ?? null }))

/** Log lines the boundary writes (captured, so a green run prints nothing). */
const logged: Array<{ readonly level: string; readonly message: unknown }> = []
const capturingLogger = Logger.layer([Logger.make(({ logLevel, message }) => void logged.push({ level: logLevel, message }))])

const handlerFor = (current: () => RolloutDocument, registry: Map<string, unknown>) => {
  const route = HttpRouter.add(
    "POST",
    "/allocations",
    echo.pipe(withStageValidation({ endpoint: "/api/allocations", location: StageLocation.bodyStage("stage") }))
  ).pipe(
    HttpRouter.provideRequest(StageBoundary.layer({ current, offenderSamplePercent: 0 })),
    HttpRouter.provideRequest(Layer.succeed(Metric.MetricRegistry, registry as never)),
    HttpRouter.provideRequest(capturingLogger),
    Layer.provide(HttpServer.layerServices)
  )
  return HttpRouter.toWebHandler(route, { disableLogger: true })
}

const post = (h: ReturnType<typeof handlerFor>, body: unknown, headers: Record<string, string> = {}) =>
  h.handler(new Request("http://test/allocations", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", ...headers } }))

describe("withStageValidation", () => {
  it("counts into the request's registry", async () => {
    const registry = new Map<string, unknown>()
    const h = handlerFor(() => ({ ...DEFAULT_DOCUMENT, defaultMode: "warn" }), registry)
    try {
      await post(h, { stage: "Series A" })
      await post(h, { stage: "nope" })
      await post(h, { stage: "nope" })
      const context = Context.make(Metric.MetricRegistry, registry as never) as Context.Context<never>
      const value = (result: string) => Metric.withAttributes(validationsTotal, { endpoint: "/api/allocations", mode: "warn", result }).valueUnsafe(context).count
      assert.strictEqual(value("normalized"), 1)
      assert.strictEqual(value("invalid"), 2)
      assert.strictEqual(Metric.withAttributes(warnUnknownTotal, { endpoint: "/api/allocations" }).valueUnsafe(context).count, 2)
    } finally {
      await h.dispose()
    }
  })

  it("buckets on the stickiness header when the document names one", async () => {
    const doc = { ...DEFAULT_DOCUMENT, defaultMode: "enforce" as const, enforcementPercent: 50, stickinessHeader: "x-fund-id" }
    const h = handlerFor(() => doc, new Map())
    try {
      for (const fund of ["1", "2", "3", "4", "5", "6", "7", "8"]) {
        const statuses = new Set<number>()
        for (let i = 0; i < 5; i++) statuses.add((await post(h, { stage: "nope" }, { "x-fund-id": fund, "x-request-id": `r${i}` })).status)
        assert.strictEqual(statuses.size, 1, `fund ${fund} is sticky`)
        assert.strictEqual([...statuses][0] === 400, isInEnforcedSet(doc, fund))
      }
    } finally {
      await h.dispose()
    }
  })

  it("an absent field is handed through, unvalidated", async () => {
    const h = handlerFor(() => ({ ...DEFAULT_DOCUMENT, defaultMode: "enforce" }), new Map())
    try {
      const r = await post(h, { amount: 1 })
      assert.strictEqual(r.status, 200)
      assert.deepStrictEqual(await r.json(), { stages: { _tag: "Absent" }, result: null, body: { amount: 1 } })
    } finally {
      await h.dispose()
    }
  })

  it("a validator failure is counted and answered with a JSON 500", async () => {
    const registry = new Map<string, unknown>()
    const h = handlerFor(() => {
      throw new Error("broken rollout source")
    }, registry)
    try {
      const r = await post(h, { stage: "seed" }, { "x-request-id": "boom-1" })
      assert.strictEqual(r.status, 500)
      assert.deepStrictEqual(await r.json(), { error: "VALIDATION_ERROR", message: "the stage validator failed" })
      assert.strictEqual(r.headers.get("x-request-id"), "boom-1")
      const context = Context.make(Metric.MetricRegistry, registry as never) as Context.Context<never>
      assert.strictEqual(Metric.withAttributes(validationErrorsTotal, { endpoint: "/api/allocations" }).valueUnsafe(context).count, 1)
      assert.isTrue(
        logged.some((l) => l.level === "Error" && JSON.stringify(l.message).includes("stage_validation.validator_error")),
        JSON.stringify(logged)
      )
    } finally {
      await h.dispose()
    }
  })

  it("adds its headers to a copy: a response the handler shares between requests stays as it was", async () => {
    // one response object for every request, with a Link of the handler's own
    const shared = HttpServerResponse.jsonUnsafe({ ok: true }, { headers: { link: "<https://app.example/>; rel=\"help\"", "x-app": "1" } })
    const before = { ...shared.headers }
    const route = HttpRouter.add(
      "POST",
      "/allocations",
      Effect.succeed(shared).pipe(withStageValidation({ endpoint: "/api/allocations", location: StageLocation.bodyStage("stage") }))
    ).pipe(
      HttpRouter.provideRequest(StageBoundary.layer({ current: () => ({ ...DEFAULT_DOCUMENT, defaultMode: "warn" }), offenderSamplePercent: 0 })),
      Layer.provide(HttpServer.layerServices)
    )
    const h = HttpRouter.toWebHandler(route, { disableLogger: true })
    try {
      const alias = await post(h, { stage: "Series A" }, { "x-request-id": "r-alias" })
      assert.strictEqual(alias.headers.get("x-stage-deprecated-variants"), "Series A")
      assert.strictEqual(alias.headers.get("x-request-id"), "r-alias")
      assert.strictEqual(alias.headers.get("x-app"), "1")
      assert.match(alias.headers.get("link") ?? "", /rel="deprecation"/) // the boundary's Link replaces the handler's, as before
      const clean = await post(h, { stage: "seed" }, { "x-request-id": "r-clean" })
      assert.strictEqual(clean.headers.get("x-stage-deprecated-variants"), null)
      assert.strictEqual(clean.headers.get("link"), "<https://app.example/>; rel=\"help\"")
      assert.strictEqual(clean.headers.get("x-request-id"), "r-clean")
      assert.deepStrictEqual({ ...shared.headers }, before)
    } finally {
      await h.dispose()
    }
  })
})
