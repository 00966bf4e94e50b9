/**
 * The reference service's options: what it can be told, its defaults, and how they are read from
 * the environment (`resolveServiceOptions`), including the deliberate `node:http` server
 * timeouts.
 *
 * @since 0.3.0
 */
import { Config, Effect, Option } from "effect"
import type { OffenderLogSink } from "../observability/OffenderLog.ts"
import type { BackfillState } from "../rollout/BackfillStatus.ts"
import type { StageValidationConfig } from "../rollout/Config.ts"
import { unsyncedPolicyFromEnv } from "../rollout/ModeStore.ts"
import type { UnsyncedPolicy } from "../rollout/ModeStoreService.ts"
import type { OpsSettings } from "../http/ops/OpsConfig.ts"

/**
 * Default port.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_PORT = 3333

/**
 * Default bind address (loopback; set `HOST=0.0.0.0` to expose it).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_HOST = "127.0.0.1"

/**
 * How long in-flight requests get to finish once the service is told to stop (SIGTERM / SIGINT):
 * 5 s, well inside the 30 s an orchestrator such as Kubernetes waits before SIGKILL.
 *
 * @since 0.3.0
 * @category constants
 */
export const SHUTDOWN_GRACE_MS = 5_000

/**
 * Default server timeouts, milliseconds: 10 s to receive a request's headers (a slow-headers
 * client holds a socket no longer), 30 s for the whole request including its body (an 8 MiB body
 * on a slow link fits), and 65 s of keep-alive idle time, longer than the 60 s idle timeout of
 * common load balancers, so the balancer closes an idle connection first and never sends a request
 * on a socket Node is closing.
 *
 * @since 0.3.0
 * @category constants
 */
export const DEFAULT_SERVER_TIMEOUTS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000
} as const

/**
 * Everything the service can be told; `resolveServiceOptions` fills it from the environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReferenceServiceOptions {
  readonly port?: number | undefined
  readonly host?: string | undefined
  /** PostgreSQL URL; undefined → embedded PostgreSQL */
  readonly databaseUrl?: string | undefined
  /** Redis URL; undefined → in-memory mode store and deduplication */
  readonly redisUrl?: string | undefined
  /** Redis key prefix of the mode store (default `stage-validation`) */
  readonly redisPrefix?: string | undefined
  /** boot rollout document; undefined → the rollout env loader */
  readonly initial?: StageValidationConfig | undefined
  /** ops settings; undefined → from the environment, with a generated token when none is set */
  readonly ops?: OpsSettings | undefined
  /**
   * Fixed answer of the finalisation guard's `BackfillStatus`; by default the guard asks the
   * service's own database for the migration record of `portfolio_companies.stage`.
   */
  readonly backfill?: BackfillState | undefined
  /** false → stage routes without the boundary (the benchmark's baseline) */
  readonly boundary?: boolean | undefined
  readonly offenderSamplePercent?: number | undefined
  readonly offenderSink?: OffenderLogSink | undefined
  /** disable the per-request HTTP access log (default true: the boundary logs what matters) */
  readonly disableHttpLogger?: boolean | undefined
  /**
   * What a Redis-backed instance decides before it has read the shared document (default
   * `cautious`: not ready, at most warn); `STAGE_VALIDATION_UNSYNCED`
   */
  readonly unsynced?: UnsyncedPolicy | undefined
  /** time to receive a request's headers, ms (default 10,000); `HTTP_HEADERS_TIMEOUT_MS` */
  readonly headersTimeoutMs?: number | undefined
  /** time to receive a whole request, ms (default 30,000; at least the headers timeout); `HTTP_REQUEST_TIMEOUT_MS` */
  readonly requestTimeoutMs?: number | undefined
  /** keep-alive idle time, ms (default 65,000); `HTTP_KEEP_ALIVE_TIMEOUT_MS` */
  readonly keepAliveTimeoutMs?: number | undefined
}

const nonEmpty = (s: string | undefined) => (s === undefined || s.length === 0 ? undefined : s)

/** An optional environment variable; unreadable counts as absent. @internal */
export const optionalString = (name: string) =>
  Config.String(name).pipe(Config.option, Config.map(Option.getOrUndefined), Effect.orElseSucceed(() => undefined))

// A timeout in milliseconds from the environment: an integer from 1 ms to one hour, else the
// default with a warning.
const timeoutFromEnv = Effect.fnUntraced(function*(name: string, fallback: number) {
  const raw = yield* optionalString(name)
  if (raw === undefined || raw.trim() === "") return fallback
  const value = Number(raw.trim())
  if (/^[0-9]{1,7}$/.test(raw.trim()) && value >= 1 && value <= 3_600_000) return value
  yield* Effect.logWarning({ event: "stage_validation.invalid_env", field: name, value: raw.slice(0, 100), fallback })
  return fallback
})

/**
 * Reads the options from the environment (`PORT`, `HOST`, `DATABASE_URL`, `REDIS_URL`,
 * `STAGE_VALIDATION_REDIS_PREFIX`, `STAGE_VALIDATION_UNSYNCED`,
 * `STAGE_VALIDATION_OFFENDER_SAMPLE_PERCENT`, `HTTP_HEADERS_TIMEOUT_MS`,
 * `HTTP_REQUEST_TIMEOUT_MS`, `HTTP_KEEP_ALIVE_TIMEOUT_MS`); explicit `overrides` win. Invalid
 * values fall back to the defaults with a warning.
 *
 * @since 0.1.0
 * @category config
 */
export const resolveServiceOptions = Effect.fnUntraced(function*(overrides: ReferenceServiceOptions = {}) {
  const port = yield* optionalString("PORT")
  const host = yield* optionalString("HOST")
  const databaseUrl = yield* optionalString("DATABASE_URL")
  const redisUrl = yield* optionalString("REDIS_URL")
  const redisPrefix = yield* optionalString("STAGE_VALIDATION_REDIS_PREFIX")
  const sample = yield* optionalString("STAGE_VALIDATION_OFFENDER_SAMPLE_PERCENT")
  const parsedPort = port === undefined ? undefined : /^[0-9]{1,5}$/.test(port) && Number(port) <= 65535 ? Number(port) : NaN
  if (Number.isNaN(parsedPort)) yield* Effect.logWarning({ event: "stage_validation.invalid_env", field: "PORT", value: port, fallback: DEFAULT_PORT })
  const parsedSample = sample === undefined ? undefined : Number(sample)
  const sampleOk = parsedSample === undefined || (Number.isFinite(parsedSample) && parsedSample >= 0 && parsedSample <= 100)
  if (!sampleOk) {
    yield* Effect.logWarning({ event: "stage_validation.invalid_env", field: "STAGE_VALIDATION_OFFENDER_SAMPLE_PERCENT", value: sample, fallback: 10 })
  }
  const headersTimeoutMs = overrides.headersTimeoutMs ??
    (yield* timeoutFromEnv("HTTP_HEADERS_TIMEOUT_MS", DEFAULT_SERVER_TIMEOUTS.headersTimeoutMs))
  const requestTimeoutMs = overrides.requestTimeoutMs ??
    (yield* timeoutFromEnv("HTTP_REQUEST_TIMEOUT_MS", DEFAULT_SERVER_TIMEOUTS.requestTimeoutMs))
  const keepAliveTimeoutMs = overrides.keepAliveTimeoutMs ??
    (yield* timeoutFromEnv("HTTP_KEEP_ALIVE_TIMEOUT_MS", DEFAULT_SERVER_TIMEOUTS.keepAliveTimeoutMs))
  return {
    unsynced: overrides.unsynced ?? (yield* unsyncedPolicyFromEnv),
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs,
    port: overrides.port ?? (parsedPort !== undefined && !Number.isNaN(parsedPort) ? parsedPort : DEFAULT_PORT),
    host: overrides.host ?? nonEmpty(host) ?? DEFAULT_HOST,
    databaseUrl: overrides.databaseUrl ?? nonEmpty(databaseUrl),
    redisUrl: overrides.redisUrl ?? nonEmpty(redisUrl),
    redisPrefix: overrides.redisPrefix ?? nonEmpty(redisPrefix),
    initial: overrides.initial,
    ops: overrides.ops,
    backfill: overrides.backfill,
    boundary: overrides.boundary,
    offenderSamplePercent: overrides.offenderSamplePercent ?? (sampleOk ? parsedSample : undefined),
    offenderSink: overrides.offenderSink,
    disableHttpLogger: overrides.disableHttpLogger
  } satisfies ReferenceServiceOptions
})


/**
 * The `node:http` server options the service sets deliberately instead of Node's defaults (60 s
 * headers, 300 s request, 5 s keep-alive): {@link DEFAULT_SERVER_TIMEOUTS} unless told
 * otherwise. A headers timeout above the request timeout is lowered to it (Node refuses the
 * pair), and the timeouts are checked every second rather than Node's 30 s, so they hold to
 * about a second.
 *
 * @example
 * ```ts
 * import { serverTimeouts } from "./ServiceOptions.ts" // internal: not part of the package's API
 * serverTimeouts({}).keepAliveTimeout // => 65000
 * serverTimeouts({ headersTimeoutMs: 50_000, requestTimeoutMs: 20_000 }).headersTimeout // => 20000
 * ```
 * @since 0.3.0
 * @category config
 */
export const serverTimeouts = (options: Pick<
  ReferenceServiceOptions,
  "headersTimeoutMs" | "requestTimeoutMs" | "keepAliveTimeoutMs"
>) => {
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_SERVER_TIMEOUTS.requestTimeoutMs
  return {
    headersTimeout: Math.min(options.headersTimeoutMs ?? DEFAULT_SERVER_TIMEOUTS.headersTimeoutMs, requestTimeout),
    requestTimeout,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_SERVER_TIMEOUTS.keepAliveTimeoutMs,
    connectionsCheckingInterval: 1_000
  } as const
}

