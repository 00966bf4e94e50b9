/**
 * Every route of the reference service, as one layer over an `HttpRouter`:
 *
 * | method | path | stage data | operation |
 * |---|---|---|---|
 * | POST | /api/monte-carlo/simulate | body `stageDistribution` | read |
 * | GET | /api/portfolio/strategies | — | read |
 * | POST, PUT, PATCH | /api/portfolio/strategies | body `stageDistribution` | write |
 * | GET | /api/funds/:fundId/companies | query `stage` | read |
 * | POST, PUT, PATCH | /api/allocations | body `stage` | write |
 * | GET | /api/deprecations, /healthz, /readyz, /metrics | — | — |
 * | GET, PUT | /_ops/stage-validation/mode | — (ops auth) | — |
 * | POST | /_ops/stage-validation/toggle, /_ops/stage-validation/auto-downgrade | — (ops auth) | — |
 *
 * With `boundary: false` the stage routes run behind `withStageParsingOnly` instead of the
 * boundary (the benchmark's baseline). Each route has a safety net turning a defect into a JSON
 * 500 with the request id, so no route answers an empty body.
 *
 * @since 0.1.0
 */
import { Cause, Effect, Layer } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { PrometheusMetrics } from "effect/observability"
import { SqlClient } from "effect/sql"
import { ModeStore } from "../rollout/ModeStore.ts"
import { type ListedRoute, deprecationsHandler } from "../http/Deprecations.ts"
import { healthzHandler, modeStoreReadiness, readyzHandler } from "../http/Health.ts"
import { autoDowngradeHandler } from "../http/ops/AutoDowngrade.ts"
import { getModeHandler, putModeHandler, toggleHandler } from "../http/ops/ModeApi.ts"
import { REQUEST_ID_HEADER, resolveRequestId } from "../http/RequestId.ts"
import * as StageLocation from "../http/StageLocation.ts"
import { withStageParsingOnly } from "./StageParsingOnly.ts"
import { type StageRoute, withStageValidation } from "../http/StageValidation.ts"
import {
  companiesHandler,
  createAllocationHandler,
  listStrategiesHandler,
  simulateHandler,
  updateAllocationHandler,
  writeStrategyHandler
} from "./Handlers.ts"

/**
 * Request-body limit of the service's stage routes: 64 KiB. Their bodies are a few small fields
 * plus a stage (at most 64 characters) or a distribution (at most 64 entries), a few KiB at most.
 *
 * @since 0.3.0
 * @category constants
 */
export const SERVICE_MAX_BODY_BYTES = 64 * 1024

/**
 * The stage declarations of the service's routes.
 *
 * @since 0.1.0
 * @category constants
 */
export const SERVICE_STAGE_ROUTES = {
  simulate: {
    endpoint: "/api/monte-carlo/simulate",
    location: StageLocation.bodyDistribution("stageDistribution"),
    maxBodyBytes: SERVICE_MAX_BODY_BYTES
  },
  strategies: {
    endpoint: "/api/portfolio/strategies",
    location: StageLocation.bodyDistribution("stageDistribution"),
    maxBodyBytes: SERVICE_MAX_BODY_BYTES
  },
  companies: { endpoint: "/api/funds/:fundId/companies", location: StageLocation.queryStage("stage") },
  allocations: { endpoint: "/api/allocations", location: StageLocation.bodyStage("stage"), maxBodyBytes: SERVICE_MAX_BODY_BYTES }
} as const satisfies Record<string, StageRoute>

/**
 * Every validated (method, route) pair, as `/api/deprecations` lists them.
 *
 * @since 0.1.0
 * @category constants
 */
export const SERVICE_LISTED_ROUTES: ReadonlyArray<ListedRoute> = [
  { method: "POST", ...SERVICE_STAGE_ROUTES.simulate },
  { method: "POST", ...SERVICE_STAGE_ROUTES.strategies },
  { method: "PUT", ...SERVICE_STAGE_ROUTES.strategies },
  { method: "PATCH", ...SERVICE_STAGE_ROUTES.strategies },
  { method: "GET", ...SERVICE_STAGE_ROUTES.companies },
  { method: "POST", ...SERVICE_STAGE_ROUTES.allocations },
  { method: "PUT", ...SERVICE_STAGE_ROUTES.allocations },
  { method: "PATCH", ...SERVICE_STAGE_ROUTES.allocations }
]

/**
 * A route's safety net: a defect (a bug) becomes a JSON 500 with the request id instead of an
 * empty body. Handlers have no typed failures; interruption passes through.
 */
const safe = <E, R>(handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.catchDefect(handler, (defect) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const requestId = resolveRequestId(request.headers[REQUEST_ID_HEADER])
      yield* Effect.logError("stage_validation.service_defect").pipe(
        Effect.annotateLogs({ event: "stage_validation.service", requestId, cause: Cause.pretty(Cause.die(defect)) })
      )
      return HttpServerResponse.jsonUnsafe(
        { error: "INTERNAL", message: "unexpected error", requestId },
        { status: 500, headers: { [REQUEST_ID_HEADER]: requestId } }
      )
    }))

/** Every other path or method: a JSON 404 (the router's own 404 has an empty body). */
const notFound = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
  const requestId = resolveRequestId(request.headers[REQUEST_ID_HEADER])
  return HttpServerResponse.jsonUnsafe(
    { error: "NOT_FOUND", message: `no route for ${request.method} ${request.url.split("?")[0]!.slice(0, 200)}` },
    { status: 404, headers: { [REQUEST_ID_HEADER]: requestId } }
  )
})

const routeList = (options: { readonly boundary?: boolean | undefined }) => {
  const validate = options.boundary === false ? withStageParsingOnly : withStageValidation
  const readiness = readyzHandler<ModeStore | SqlClient.SqlClient>([
    modeStoreReadiness,
    { name: "database", check: Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      return yield* sql`SELECT 1`
    }) }
  ])
  const simulate = simulateHandler.pipe(validate(SERVICE_STAGE_ROUTES.simulate))
  const strategy = (kind: "insert" | "upsert" | "update") =>
    writeStrategyHandler(kind).pipe(validate(SERVICE_STAGE_ROUTES.strategies))
  const companies = companiesHandler.pipe(validate(SERVICE_STAGE_ROUTES.companies))
  const allocations = createAllocationHandler.pipe(validate(SERVICE_STAGE_ROUTES.allocations))
  const allocationUpdate = (kind: "put" | "patch") =>
    updateAllocationHandler(kind).pipe(validate(SERVICE_STAGE_ROUTES.allocations))
  return [
    HttpRouter.route("GET", "/healthz", healthzHandler),
    HttpRouter.route("GET", "/readyz", safe(readiness)),
    HttpRouter.route("GET", "/api/deprecations", safe(deprecationsHandler(SERVICE_LISTED_ROUTES))),
    HttpRouter.route("POST", "/api/monte-carlo/simulate", safe(simulate)),
    HttpRouter.route("GET", "/api/portfolio/strategies", safe(listStrategiesHandler)),
    HttpRouter.route("POST", "/api/portfolio/strategies", safe(strategy("insert"))),
    HttpRouter.route("PUT", "/api/portfolio/strategies", safe(strategy("upsert"))),
    HttpRouter.route("PATCH", "/api/portfolio/strategies", safe(strategy("update"))),
    HttpRouter.route("GET", "/api/funds/:fundId/companies", safe(companies)),
    HttpRouter.route("POST", "/api/allocations", safe(allocations)),
    HttpRouter.route("PUT", "/api/allocations", safe(allocationUpdate("put"))),
    HttpRouter.route("PATCH", "/api/allocations", safe(allocationUpdate("patch"))),
    HttpRouter.route("GET", "/_ops/stage-validation/mode", safe(getModeHandler)),
    HttpRouter.route("PUT", "/_ops/stage-validation/mode", safe(putModeHandler)),
    HttpRouter.route("POST", "/_ops/stage-validation/toggle", safe(toggleHandler)),
    HttpRouter.route("POST", "/_ops/stage-validation/auto-downgrade", safe(autoDowngradeHandler))
  ] as const
}

/**
 * Every (method, path template) the service answers, `/metrics` included; `docs/openapi.yaml`
 * documents exactly these (a test checks it).
 *
 * @example
 * ```ts
 * import { SERVICE_ROUTE_TABLE } from "./ServiceRoutes.ts" // internal: not part of the package's API
 * SERVICE_ROUTE_TABLE.some((r) => r.method === "POST" && r.path === "/api/monte-carlo/simulate") // => true
 * ```
 * @since 0.1.0
 * @category constants
 */
export const SERVICE_ROUTE_TABLE: ReadonlyArray<{ readonly method: string; readonly path: string }> = [
  ...routeList({}).map((route) => ({ method: route.method, path: route.path })),
  { method: "GET", path: "/metrics" }
]

/**
 * The routes layer.
 *
 * @example
 * ```ts
 * import { serviceRoutes } from "./ServiceRoutes.ts" // internal: not part of the package's API
 * const Routes = serviceRoutes({ boundary: true })
 * ```
 * @since 0.1.0
 * @category layers
 */
export const serviceRoutes = (options: { readonly boundary?: boolean | undefined } = {}) =>
  Layer.mergeAll(
    HttpRouter.addAll([...routeList(options), HttpRouter.route("*", "*", notFound)]),
    PrometheusMetrics.layerHttp({ path: "/metrics" })
  )
