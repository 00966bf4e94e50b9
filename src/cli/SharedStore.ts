/**
 * The shared rollout store as the CLI opens it: the `ModeStore` over one Redis connection, never
 * seeding (the document every service instance follows must already be there), with the
 * finalisation guard's view of the backfill — the migration record in PostgreSQL when a database
 * is given, else "not verified" (raising read enforcement then needs `--force`). Used by `promote`
 * and by `mode` / `status` when they talk to Redis directly.
 *
 * @since 0.2.0
 */
import { NodeRedis } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { Redis } from "effect/persistence"
import { connect as connectTcp, type Socket } from "node:net"
import { connect as connectTls } from "node:tls"
import { layerFromUrl } from "../migration/database/Database.ts"
import type { MigrationError } from "../migration/MigrationError.ts"
import { backfillStatusFromPostgres } from "../migration/verify/BackfillStatusPostgres.ts"
import { BACKFILL_PENDING, BackfillStatus } from "../rollout/BackfillStatus.ts"
import { DEFAULT_DOCUMENT } from "../rollout/Config.ts"
import { ModeStore } from "../rollout/ModeStore.ts"
import type { MissingPeerDependencyError } from "../shared/PeerDependency.ts"
import { CliInputError } from "./CliInputError.ts"

/**
 * The store's default key prefix (`<prefix>:document`, `<prefix>:history`, `<prefix>:changes`).
 *
 * @example
 * ```ts
 * import { DEFAULT_STORE_PREFIX } from "./SharedStore.ts" // internal: not part of the package's API
 * `${DEFAULT_STORE_PREFIX}:document` // => "stage-validation:document"
 * ```
 * @since 0.2.0
 * @category constants
 */
export const DEFAULT_STORE_PREFIX = "stage-validation"

/**
 * The finalisation guard's view of the historical data: with a database URL the migration's own
 * record of `table.column` (latest run succeeded, verified, nothing non-canonical left); without
 * one, "not verified", so raising read enforcement needs `--force`.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { backfillLayer } from "./SharedStore.ts" // internal: not part of the package's API
 * const guard = backfillLayer(Option.none(), "portfolio_companies", "stage", "stage-normalization mode")
 * ```
 * @since 0.2.0
 * @category layers
 */
export const backfillLayer = (
  databaseUrl: Option.Option<string>,
  table: string,
  column: string,
  applicationName: string
): Layer.Layer<BackfillStatus, MigrationError | MissingPeerDependencyError> =>
  Option.isSome(databaseUrl)
    ? BackfillStatus.layerCheck(backfillStatusFromPostgres({ table, column })).pipe(
      Layer.provide(layerFromUrl(databaseUrl.value, { maxConnections: 1, applicationName }))
    )
    : BackfillStatus.layerMemory(BACKFILL_PENDING)

/**
 * The shared store over one Redis connection (the `Redis` service is exposed too, to check that
 * the document exists). The boot document is never served nor written: `seedIfEmpty` is off.
 * Reads may take 2 s and writes 5 s (an operator's command across a network, not the hot path).
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { backfillLayer, sharedStoreLayer } from "./SharedStore.ts" // internal: not part of the package's API
 * const store = sharedStoreLayer("redis://127.0.0.1:6379", "stage-validation", backfillLayer(Option.none(), "t", "c", "cli"))
 * ```
 * @since 0.2.0
 * @category layers
 */
export const sharedStoreLayer = <E>(url: string, prefix: string, backfill: Layer.Layer<BackfillStatus, E>) =>
  ModeStore.layerRedisFrom({
    initial: DEFAULT_DOCUMENT, // never served nor written: the shared document must exist (checked first)
    prefix,
    seedIfEmpty: false,
    readTimeout: "2 seconds",
    writeTimeout: "5 seconds"
  }).pipe(
    Layer.provide(backfill),
    Layer.provideMerge(NodeRedis.layer({ url, socket: { connectTimeout: 5_000 } }))
  )

/**
 * Fails with a `CliInputError` (exit 2) when Redis holds no rollout document under `prefix`: the
 * wrong Redis or the wrong prefix, never something to create from the CLI.
 *
 * @example
 * ```ts
 * import { requireSharedDocument } from "./SharedStore.ts" // internal: not part of the package's API
 * const check = requireSharedDocument("redis://127.0.0.1:6379", "stage-validation") // Effect<void, CliInputError | RedisError, Redis>
 * ```
 * @since 0.2.0
 * @category checks
 */
export const requireSharedDocument = (url: string, prefix: string) =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    const exists = yield* redis.send<number>("EXISTS", `${prefix}:document`)
    if (exists !== 1) {
      return yield* new CliInputError({
        message: `no rollout document at ${prefix}:document in ${url} — is this the Redis (and prefix) the services use?`
      })
    }
  })

/**
 * The message of a Redis connection failure (node-redis leaves `message` empty on some errors).
 *
 * @example
 * ```ts
 * import { redisFailureMessage } from "./SharedStore.ts" // internal: not part of the package's API
 * redisFailureMessage("redis://127.0.0.1:1", { message: "", cause: new Error("connect ECONNREFUSED") })
 * // => "cannot use the shared rollout store at redis://127.0.0.1:1: Error: connect ECONNREFUSED"
 * ```
 * @since 0.2.0
 * @category errors
 */
export const redisFailureMessage = (url: string, e: { readonly message: string; readonly cause?: unknown }): string =>
  `cannot use the shared rollout store at ${url}: ${e.message || String(e.cause ?? "connection failed")}`

/**
 * Whether a Redis answers at all, before a client is made: one `PING` on a raw connection (TLS for
 * `rediss://`), any reply within `timeoutMs` counts (`-NOAUTH` too: the server is there). A Redis
 * that accepts connections and never answers (a partition, a stuck proxy) would otherwise leave the
 * node-redis client waiting for its handshake with no timeout. Fails with a `CliInputError`.
 *
 * @example
 * ```ts
 * import { probeRedis } from "./SharedStore.ts" // internal: not part of the package's API
 * const reachable = probeRedis("redis://127.0.0.1:6379", 5_000) // Effect<void, CliInputError>
 * ```
 * @since 0.2.0
 * @category checks
 */
export const probeRedis = (url: string, timeoutMs: number): Effect.Effect<void, CliInputError> =>
  Effect.callback<void, CliInputError>((resume) => {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      resume(Effect.fail(new CliInputError({ message: `--redis-url ${JSON.stringify(url)} is not a URL` })))
      return
    }
    const tls = parsed.protocol === "rediss:"
    const options = { host: parsed.hostname || "127.0.0.1", port: Number(parsed.port || 6379) }
    const socket: Socket = tls ? connectTls({ ...options, servername: options.host }) : connectTcp(options)
    let done = false
    const finish = (error: string | undefined) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resume(error === undefined ? Effect.void : Effect.fail(new CliInputError({ message: redisFailureMessage(url, { message: error }) })))
    }
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs} ms`), timeoutMs)
    socket.once(tls ? "secureConnect" : "connect", () => socket.write("PING\r\n"))
    socket.once("data", () => finish(undefined))
    socket.once("error", (e) => finish(e.message))
    socket.once("close", () => finish("the connection was closed without an answer"))
    return Effect.sync(() => finish("interrupted"))
  })
