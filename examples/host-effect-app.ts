/**
 * Embedding stage validation in an Effect HTTP service.
 *
 * A host service with one route of its own, `POST /api/forecasts`, whose JSON body carries a stage
 * distribution. The library supplies the rest: a `ModeStore` (in memory here; `layerRedis` shares
 * it between instances), the `StageBoundary` reading the store's in-process document, the
 * `withStageValidation` middleware on the route (the handler sees canonical stages through
 * `NormalizedStages`) and the metric catalogue on `GET /metrics`.
 *
 * The program starts on 127.0.0.1 (port from `PORT`, else an ephemeral one), sends itself a valid
 * alias and an invalid stage in warn, switches the live mode store to write enforcement (seed phase
 * 2.5, no restart), sends the invalid stage again (now a 400), prints the responses and the
 * stage-validation lines of `/metrics`, and exits 0. CI runs it against the built package.
 *
 *   node examples/host-effect-app.ts
 */
import { createServer } from "node:http"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, References } from "effect"
import { HttpRouter, HttpServer, HttpServerResponse } from "effect/http"
import { PrometheusMetrics } from "effect/observability"
import { NormalizedStages, StageBoundary, StageLocation, withStageValidation } from "stage-normalization/http"
import { registerMetricCatalogue } from "stage-normalization/observability"
import { BACKFILL_PENDING, BackfillStatus, DEFAULT_DOCUMENT, ModeStore } from "stage-normalization/rollout"

const ENDPOINT = "/api/forecasts"

// The host's handler: it only ever sees canonical stages.
const createForecast = Effect.gen(function*() {
  const { requestId, decision, stages } = yield* NormalizedStages
  const entries = stages._tag === "Distribution" ? stages.entries : []
  return HttpServerResponse.jsonUnsafe({ requestId, mode: decision.mode, stages: entries }, { status: 201 })
})

const Routes = HttpRouter.add(
  "POST",
  ENDPOINT,
  createForecast.pipe(withStageValidation({ endpoint: ENDPOINT, location: StageLocation.bodyDistribution("stageDistribution") }))
)

// Boot document: warn everywhere (seed phase 2.1). Nothing is migrated yet, so the finalisation
// guard refuses read enforcement until BackfillStatus says otherwise.
const StoreLive = ModeStore.layerMemory({ ...DEFAULT_DOCUMENT, defaultMode: "warn" }).pipe(
  Layer.provide(BackfillStatus.layerMemory(BACKFILL_PENDING))
)

const BoundaryLive = StageBoundary.layerEffect(
  ModeStore.use((store) => Effect.succeed(store.current)),
  { offenderSamplePercent: 0 }
).pipe(Layer.provideMerge(StoreLive))

const port = Number(process.env["PORT"] ?? 0)

const ServerLive = HttpRouter.serve(
  Layer.mergeAll(Routes, PrometheusMetrics.layerHttp({ path: "/metrics" })),
  { disableLogger: true, disableListenLog: true }
).pipe(
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" })),
  Layer.provideMerge(BoundaryLive),
  Layer.provideMerge(Layer.effectDiscard(registerMetricCatalogue))
)

const post = (url: string, stageDistribution: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(url + ENDPOINT, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ fundId: 1, stageDistribution })
    })
    const headers = [...response.headers].filter(([name]) => name.startsWith("x-stage") || name === "deprecation")
    return { status: response.status, headers: Object.fromEntries(headers), body: await response.json() as unknown }
  })

const show = (label: string, result: { status: number; headers: object; body: unknown }) =>
  Console.log(`${label}\n  ${result.status} ${JSON.stringify(result.headers)}\n  ${JSON.stringify(result.body)}`)

const program = Effect.gen(function*() {
  const server = yield* HttpServer.HttpServer
  const store = yield* ModeStore
  const url = HttpServer.formatAddress(server.address)
  yield* Console.log(`host service on ${url}, mode ${store.current().defaultMode}`)

  const alias = yield* post(url, [{ stage: "Series A", weight: 0.6 }, { stage: "seed", weight: 0.4 }])
  yield* show("warn, valid alias:", alias)
  const warned = yield* post(url, [{ stage: "series-z", weight: 1 }])
  yield* show("warn, invalid stage:", warned)

  // Live change, as `PUT /_ops/stage-validation/mode` or `promote` would make it.
  const { document } = yield* store.modify({
    actor: "example",
    reason: "phase 2.5: enforce writes",
    source: "api",
    update: (doc) => ({ ...doc, defaultMode: "enforce", enforceWriteOnly: true })
  })
  yield* Console.log(`mode store now v${document.version}: ${document.defaultMode}, enforceWriteOnly ${document.enforceWriteOnly}`)
  const rejected = yield* post(url, [{ stage: "series-z", weight: 1 }])
  yield* show("enforce, invalid stage:", rejected)

  const metrics = yield* Effect.promise(() => fetch(url + "/metrics").then((r) => r.text()))
  const lines = metrics.split("\n").filter((l) => l.startsWith("stage_validation_validations_total{") && l.includes(ENDPOINT))
  yield* Console.log(`/metrics:\n  ${lines.join("\n  ")}`)

  const ok = alias.status === 201 && warned.status === 201 && rejected.status === 400 && lines.length > 0
  if (!ok) return yield* Effect.die(new Error("unexpected responses"))
  yield* Console.log("ok")
})

// The mode store logs every change as a structured audit line; keep this demo's output short.
program.pipe(Effect.provide(ServerLive), Effect.provideService(References.MinimumLogLevel, "Warn"), NodeRuntime.runMain)
