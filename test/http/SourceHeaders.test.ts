/**
 * On a real node:http server (platform-node) without effect's tracer, the Effect boundary reads
 * the request id and the stickiness header from node's own header map — and still from the request's headers when a
 * middleware replaced them or something already built them, so a replaced `x-request-id` is the
 * one echoed. `headersOf` itself: node's map only while it is the request's.
 */
import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer, ManagedRuntime, References } from "effect"
import { Headers, HttpMiddleware, HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import { NormalizedStages } from "../../src/http/NormalizedStages.ts"
import { headersOf } from "../../src/http/SourceHeaders.ts"
import { StageBoundary } from "../../src/http/StageBoundary.ts"
import * as StageLocation from "../../src/http/StageLocation.ts"
import { withStageValidation } from "../../src/http/StageValidation.ts"
import { DEFAULT_DOCUMENT } from "../../src/rollout/Config.ts"

const seen: Array<{ readonly sourceMap: boolean; readonly id: string }> = []

const echo = Effect.gen(function*() {
  const stages = yield* NormalizedStages
  const request = yield* HttpServerRequest.HttpServerRequest
  seen.push({ sourceMap: headersOf(request) === (request.source as { headers: unknown }).headers, id: stages.requestId })
  return HttpServerResponse.jsonUnsafe({ decision: stages.decision.mode })
})

const route = (path: `/${string}`) =>
  HttpRouter.add("POST", path, echo.pipe(withStageValidation({ endpoint: path, location: StageLocation.bodyStage("stage") })))

// A middleware that replaces the request's headers: its x-request-id must win.
const replacing = HttpMiddleware.make((app) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    request.url.startsWith("/replaced")
      ? Effect.provideService(app, HttpServerRequest.HttpServerRequest, request.modify({ headers: Headers.set(request.headers, "x-request-id", "from-middleware") }))
      : app)
)

let runtime: ManagedRuntime.ManagedRuntime<HttpServer.HttpServer, unknown>
let base = ""
beforeAll(async () => {
  const doc = { ...DEFAULT_DOCUMENT, defaultMode: "enforce" as const, enforcementPercent: 50, stickinessHeader: "X-Fund-Id" }
  const app = HttpRouter.serve(Layer.mergeAll(route("/plain"), route("/replaced")), { disableLogger: true, middleware: replacing }).pipe(
    Layer.provide(HttpRouter.layer),
    Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" })),
    Layer.provide(StageBoundary.layer({ current: () => doc, offenderSamplePercent: 0 })),
    // effect's server tracer reads every request's headers (trace context) before any route, so
    // with it the map exists anyway and the boundary just reads it. It runs when a middleware is
    // given or a real tracer is installed (the reference service has neither); off here, so the
    // path where node's map is still the request's is the one tested.
    Layer.provide(Layer.succeed(HttpMiddleware.TracerDisabledWhen)(() => true)),
    // the server's "Listening on" line is not this test's output
    Layer.provide(Layer.succeed(References.MinimumLogLevel)("None"))
  )
  runtime = ManagedRuntime.make(app)
  const server = await runtime.runPromise(HttpServer.HttpServer)
  base = HttpServer.formatAddress(server.address)
})
afterAll(() => runtime.dispose())

const post = (path: string, headers: Record<string, string>, stage = "seed") =>
  fetch(base + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ stage }) })

describe("the Effect boundary's request headers on node:http", () => {
  it("reads x-request-id from node's map and echoes it", async () => {
    seen.length = 0
    const res = await post("/plain", { "X-Request-Id": "client-7" })
    assert.strictEqual(res.headers.get("x-request-id"), "client-7")
    assert.deepStrictEqual(seen, [{ sourceMap: true, id: "client-7" }])
  })

  it("a header a middleware put in place of the client's is the one used", async () => {
    seen.length = 0
    const res = await post("/replaced", { "X-Request-Id": "client-7" })
    assert.strictEqual(res.headers.get("x-request-id"), "from-middleware")
    assert.deepStrictEqual(seen, [{ sourceMap: false, id: "from-middleware" }])
  })

  it("an insane id is replaced, as with effect's map", async () => {
    const res = await post("/plain", { "X-Request-Id": "a b" })
    assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-8/)
  })

  it("buckets on the stickiness header read from node's map (one fund, one decision)", async () => {
    for (const fund of ["1", "2", "3", "4", "5", "6"]) {
      const statuses = new Set<number>()
      for (let i = 0; i < 4; i++) statuses.add((await post("/plain", { "x-fund-id": fund }, "nope")).status)
      assert.strictEqual(statuses.size, 1, `fund ${fund}`)
    }
  })
})

describe("headersOf", () => {
  it("is request.headers off node:http (a web request)", () => {
    const request = HttpServerRequest.fromWeb(new Request("http://x.test/", { headers: { "X-Request-Id": "r-1" } }))
    assert.strictEqual(headersOf(request), request.headers)
  })
})
