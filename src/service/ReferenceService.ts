/**
 * The reference service (`stage-normalization serve`, `npm start`): the stage boundary, the ops
 * routes and real handlers over PostgreSQL, wired the way a host would wire them.
 *
 * - HTTP on `HOST`:`PORT` (default 127.0.0.1:3333);
 * - PostgreSQL at `DATABASE_URL` (`postgres://…`, or `pglite:///dir` for a persisted embedded
 *   one), else an embedded in-memory PostgreSQL (PGlite), through the migration module's
 *   `layerFromUrl`; schema and demo data created on start, idempotently;
 * - the rollout document in memory, or shared through Redis when `REDIS_URL` is set (then the
 *   webhook's deduplication keys live there too); the boot document from the rollout's env loader
 *   (`STAGE_VALIDATION_PRESET`, `STAGE_VALIDATION_MODE`, `STAGE_VALIDATION_DRY_RUN`,
 *   `ENFORCE_WRITE_ONLY`, `ENFORCEMENT_PERCENT`);
 * - ops credentials from `STAGE_VALIDATION_OPS_TOKEN` / `STAGE_VALIDATION_WEBHOOK_SECRETS`; with
 *   no token set, a random one is generated and written to a 0600 file whose path is printed (and
 *   which is removed on shutdown);
 * - offender-log sampling from `STAGE_VALIDATION_OFFENDER_SAMPLE_PERCENT` (default 10);
 * - with Redis, the unsynced policy from `STAGE_VALIDATION_UNSYNCED` (default `cautious`: until
 *   the shared document is read, `/readyz` answers 503 and decisions are at most warn);
 * - deliberate server timeouts (`HTTP_HEADERS_TIMEOUT_MS`, `HTTP_REQUEST_TIMEOUT_MS`,
 *   `HTTP_KEEP_ALIVE_TIMEOUT_MS`; defaults {@link DEFAULT_SERVER_TIMEOUTS}).
 *
 * It prints its URL and three example `curl` commands (stdout)
 * once it listens, and when interrupted lets in-flight requests finish for up to
 * `SHUTDOWN_GRACE_MS`, then closes the HTTP server, the database and Redis (the `serve` command
 * turns SIGINT / SIGTERM into that interruption and exits 0).
 *
 * @since 0.1.0
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpServer } from "@effect/platform-node"
import type { PgClient } from "@effect/sql-pg"
import { Console, Context, Effect, Layer } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import type { SqlClient } from "effect/sql"
import { layerFromUrl } from "../migration/database/Database.ts"
import { registerMetricCatalogue } from "../observability/MetricCatalogue.ts"
import { backfillStatusFromPostgres } from "../migration/verify/BackfillStatusPostgres.ts"
import { BackfillStatus } from "../rollout/BackfillStatus.ts"
import { loadStageValidationEnv, type OpsSecretError } from "../rollout/EnvConfig.ts"
import { ModeStore } from "../rollout/ModeStore.ts"
import { registerEndpointSeries } from "../http/BoundaryMetrics.ts"
import { registerWebhookSeries } from "../http/ops/AutoDowngrade.ts"
import { loadOpsSettings, OpsConfig } from "../http/ops/OpsConfig.ts"
import { WebhookDeduplication } from "../http/ops/WebhookDeduplication.ts"
import { StageBoundary } from "../http/StageBoundary.ts"
import { ensureServiceSchema } from "./ServiceSchema.ts"
import { SERVICE_STAGE_ROUTES, serviceRoutes } from "./ServiceRoutes.ts"
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  optionalString,
  type ReferenceServiceOptions,
  resolveServiceOptions,
  serverTimeouts,
  SHUTDOWN_GRACE_MS
} from "./ServiceOptions.ts"

export {
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_SERVER_TIMEOUTS,
  type ReferenceServiceOptions,
  resolveServiceOptions,
  serverTimeouts,
  SHUTDOWN_GRACE_MS
} from "./ServiceOptions.ts"

/**
 * Where a generated ops token was written (`undefined` when a token was configured).
 *
 * @since 0.1.0
 * @category services
 */
export class GeneratedOpsToken extends Context.Service<GeneratedOpsToken, {
  readonly path: string | undefined
  readonly token: string | undefined
}>()("stage-normalization/http/GeneratedOpsToken") {}


const writeGeneratedToken = (token: string): string | undefined => {
  try {
    const dir = join(tmpdir(), "stage-normalization")
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const path = join(dir, `ops-token-${process.pid}`)
    writeFileSync(path, token + "\n", { mode: 0o600 })
    return path
  } catch {
    return undefined
  }
}

const opsLayer = (options: ReferenceServiceOptions): Layer.Layer<OpsConfig | GeneratedOpsToken, OpsSecretError> => {
  if (options.ops !== undefined) {
    return Layer.mergeAll(
      Layer.succeed(OpsConfig, OpsConfig.of(options.ops)),
      Layer.succeed(GeneratedOpsToken, GeneratedOpsToken.of({ path: undefined, token: undefined }))
    )
  }
  return Layer.effectContext(Effect.gen(function*() {
    const configured = yield* optionalString("STAGE_VALIDATION_OPS_TOKEN")
    let generated: { path: string | undefined; token: string | undefined } = { path: undefined, token: undefined }
    if (configured === undefined || configured.trim().length === 0) {
      const token = randomBytes(32).toString("base64url")
      generated = { path: writeGeneratedToken(token), token }
      const path = generated.path
      // the token lives as long as the service: removed on shutdown
      if (path !== undefined) yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(path, { force: true })))
    }
    const settings = yield* loadOpsSettings({ fallbackToken: generated.token })
    return Context.make(OpsConfig, settings).pipe(Context.add(GeneratedOpsToken, GeneratedOpsToken.of(generated)))
  }))
}

// Once the server is closing, a connection whose response has just finished is closed instead of
// kept alive (65 s): the drain ends with the last in-flight request, not with the grace period.
const drainingServer = (options: ReferenceServiceOptions) => {
  const server = createServer(serverTimeouts(options))
  server.on("request", (_request, response) =>
    response.once("finish", () => {
      if (!server.listening) setImmediate(() => server.closeIdleConnections())
    }))
  return server
}

/**
 * The services behind the routes: database (+ schema), mode store, boundary, ops settings and
 * webhook deduplication.
 *
 * @since 0.1.0
 * @category layers
 */
export const serviceLayer = (options: ReferenceServiceOptions) => {
  const database = Layer.effectDiscard(ensureServiceSchema).pipe(
    Layer.provideMerge(layerFromUrl(options.databaseUrl, { applicationName: "stage-normalization-serve", maxConnections: 10 }))
  )
  const initial = options.initial !== undefined
    ? Effect.succeed(options.initial)
    : Effect.map(loadStageValidationEnv, (result) => result.document)
  // The finalisation guard reads the migration record of the service's own companies table: once
  // `migrate --apply` and `verify` pass there, enforcing reads needs no `force`.
  const backfill = options.backfill !== undefined
    ? BackfillStatus.layerMemory(options.backfill)
    : BackfillStatus.layerCheck(backfillStatusFromPostgres({ table: "portfolio_companies", column: "stage" })).pipe(Layer.provide(database))
  const modeStore = Layer.unwrap(Effect.map(initial, (document) =>
    options.redisUrl === undefined
      ? ModeStore.layerMemory(document)
      : ModeStore.layerRedis({
        initial: document,
        redis: { url: options.redisUrl },
        unsynced: options.unsynced ?? "cautious",
        ...(options.redisPrefix !== undefined ? { prefix: options.redisPrefix } : {})
      }))).pipe(Layer.provide(backfill))
  const boundary = StageBoundary.layerEffect(
    ModeStore.use((store) => Effect.succeed(store.current)),
    { offenderSamplePercent: options.offenderSamplePercent, offenderSink: options.offenderSink }
  ).pipe(Layer.provideMerge(modeStore))
  const dedup = options.redisUrl === undefined
    ? WebhookDeduplication.layerMemory
    : WebhookDeduplication.layerRedisUrl(options.redisUrl, {
      prefix: `${options.redisPrefix ?? "stage-validation"}:webhook:`
    })
  const series = Layer.effectDiscard(Effect.gen(function*() {
    yield* registerMetricCatalogue
    const context = yield* Effect.context<never>()
    for (const route of Object.values(SERVICE_STAGE_ROUTES)) registerEndpointSeries(context, route.endpoint)
    yield* registerWebhookSeries
  }))
  return Layer.mergeAll(database, boundary, dedup, opsLayer(options), series)
}

/**
 * The whole service on a Node HTTP server: routes, services, server. Exposes the `HttpServer`
 * (its address), the `ModeStore` and the database client, which tests use.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { referenceServiceLayer } from "./ReferenceService.ts" // internal: not part of the package's API
 * const Service = referenceServiceLayer({ port: 0, databaseUrl: "postgres://postgres@127.0.0.1:5432/test" })
 * // Layer.launch(Service)
 * ```
 * @since 0.1.0
 * @category layers
 */
export const referenceServiceLayer = (options: ReferenceServiceOptions) =>
  HttpRouter.serve(serviceRoutes({ boundary: options.boundary }), {
    disableLogger: options.disableHttpLogger ?? true,
    disableListenLog: true
  }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(() => drainingServer(options), {
      port: options.port ?? DEFAULT_PORT,
      host: options.host ?? DEFAULT_HOST,
      gracefulShutdownTimeout: SHUTDOWN_GRACE_MS
    })),
    Layer.provideMerge(serviceLayer(options))
  ) as Layer.Layer<
    | HttpServer.HttpServer
    | ModeStore
    | OpsConfig
    | GeneratedOpsToken
    | SqlClient.SqlClient
    | PgClient.PgClient,
    unknown
  >

/**
 * The start-up banner: URL, three example requests, where the ops token is.
 *
 * @since 0.1.0
 * @category constructors
 */
export const startupBanner = (url: string, options: {
  readonly database: string
  readonly store: string
  readonly mode: string
  readonly tokenPath: string | undefined
  readonly tokenGenerated: boolean
}): string =>
  [
    `stage-normalization reference service listening on ${url}`,
    `  database: ${options.database}   rollout store: ${options.store}   default mode: ${options.mode}`,
    options.tokenGenerated
      ? options.tokenPath !== undefined
        ? `  ops token: generated for this run, in ${options.tokenPath} (set STAGE_VALIDATION_OPS_TOKEN to choose one)`
        : `  ops token: generated for this run but could not be written to a file; set STAGE_VALIDATION_OPS_TOKEN`
      : `  ops token: from STAGE_VALIDATION_OPS_TOKEN`,
    "",
    "Try:",
    `  curl -i -X POST ${url}/api/monte-carlo/simulate -H 'Content-Type: application/json' \\`,
    `    -d '{"fundId":1,"runs":1000,"stageDistribution":[{"stage":"Series A","weight":0.6},{"stage":"seed","weight":0.4}]}'`,
    `  curl -s '${url}/api/funds/1/companies?stage=series-a'`,
    `  curl -s ${url}/api/deprecations | jq '.items[0].current_mode'`,
    ""
  ].join("\n")

/**
 * Runs the service until interrupted, printing the banner once it listens.
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { runReferenceService } from "./ReferenceService.ts" // internal: not part of the package's API
 * // NodeRuntime.runMain(runReferenceService({}))
 * ```
 * @since 0.1.0
 * @category running
 */
export const runReferenceService = Effect.fn("stage-normalization/serve")(
  function*(overrides: ReferenceServiceOptions = {}) {
    const options = yield* resolveServiceOptions(overrides)
    const banner = Layer.effectDiscard(Effect.gen(function*() {
      const server = yield* HttpServer.HttpServer
      const store = yield* ModeStore
      const generated = yield* GeneratedOpsToken
      const url = HttpServer.formatAddress(server.address)
      yield* Console.log(startupBanner(url, {
        database: options.databaseUrl === undefined ? "embedded PostgreSQL (in memory)" : "DATABASE_URL",
        store: options.redisUrl === undefined ? "memory" : "Redis (REDIS_URL)",
        mode: store.current().defaultMode + (store.current().dryRun ? " (dry run)" : ""),
        tokenPath: generated.path,
        tokenGenerated: generated.token !== undefined
      }))
    }))
    return yield* Layer.launch(banner.pipe(Layer.provide(referenceServiceLayer(options))))
  }
)
