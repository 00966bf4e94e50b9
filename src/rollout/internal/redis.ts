/**
 * The Redis connection of the `ModeStore` (and of the webhook's deduplication store): a
 * node-redis client connected in the background, forever retrying, held in a {@link RedisHolder}
 * once it exists. The document protocol over it is in `redisBackend.ts`.
 *
 * @internal
 */
import type { NodeRedis } from "@effect/platform-node"
import { Cause, Context, Deferred, Duration, Effect, Layer } from "effect"
import { Redis } from "effect/persistence"
import { importPeers } from "../../shared/PeerDependency.ts"

/**
 * Runs `effect` in the background for the life of the scope, again one second after each end or
 * failure (logged as one structured warning): the Redis connection and the change subscription
 * must come back by themselves after an outage.
 *
 * @internal
 */
export const retryInBackground = <A, E, R>(effect: Effect.Effect<A, E, R>, event: string, message: string) =>
  effect.pipe(
    Effect.catchCause((cause) => Effect.logWarning({ event, message, cause: Cause.pretty(cause) })),
    Effect.andThen(Effect.sleep(Duration.seconds(1))),
    Effect.forever,
    Effect.forkScoped
  )

/** Holds the Redis service once a connection exists. @internal */
export interface RedisHolder {
  redis: Redis.Redis["Service"] | undefined
  readonly connected: Deferred.Deferred<Redis.Redis["Service"]>
}

/**
 * node-redis client options, passed to `createClient` as they are (`url`, `socket`, `username`,
 * `password`, `database`, …). Declared here rather than imported from `redis`, so that the
 * rollout entry's types do not require the optional peer.
 *
 * @example
 * ```ts
 * import type { RedisClientOptions } from "stage-normalization/rollout"
 * const options: RedisClientOptions = { url: "redis://127.0.0.1:6379", socket: { connectTimeout: 2_000 } }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface RedisClientOptions {
  readonly url?: string | undefined
  readonly socket?: {
    readonly connectTimeout?: number | undefined
    readonly reconnectStrategy?: false | number | ((retries: number, cause: Error) => false | Error | number) | undefined
    readonly [option: string]: unknown
  } | undefined
  readonly [option: string]: unknown
}

/**
 * `@effect/platform-node`'s NodeRedis (over node-redis), loaded when a Redis layer is built.
 *
 * @internal
 */
export const loadNodeRedis = (feature: string) =>
  importPeers(feature, ["@effect/platform-node", "redis"], () => import("@effect/platform-node/NodeRedis"))

/**
 * Connects a node-redis client in the background, forever retrying: the store serves its boot
 * value until Redis answers, and a Redis outage at boot never fails the host. Commands fail fast
 * while disconnected (`disableOfflineQueue`), and the client reconnects with a capped backoff
 * instead of giving up. The webhook's deduplication store connects the same way (with its own
 * `failure` log line). Fails only when the optional peers (`@effect/platform-node`, `redis`) are
 * not installed.
 *
 * @internal
 */
export const connectInBackground = Effect.fnUntraced(function*(
  holder: RedisHolder,
  options: RedisClientOptions,
  feature: string,
  failure: { readonly event: string; readonly message: string } = {
    event: "stage_validation.redis_connect_failed",
    message: "could not connect to Redis; serving the boot rollout document and retrying"
  }
) {
  const NodeRedisModule: typeof NodeRedis = yield* loadNodeRedis(feature)
  const socket = options.socket ?? {}
  const layer = NodeRedisModule.layer({
    disableOfflineQueue: true,
    ...options,
    socket: {
      connectTimeout: 1_000,
      ...socket,
      reconnectStrategy: socket.reconnectStrategy ??
        ((retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), 1_000) + Math.floor(Math.random() * 100))
    }
  } as NonNullable<Parameters<typeof NodeRedis.layer>[0]>)
  const connectOnce = Effect.gen(function*() {
    const context = yield* Layer.build(layer)
    const redis = Context.get(context, Redis.Redis)
    const { client } = Context.get(context, NodeRedisModule.NodeRedis)
    holder.redis = redis
    // Runs before NodeRedis' own `close()`, which waits for in-flight replies: against a Redis
    // that stopped answering that would hang shutdown, so give it a second, then destroy.
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        holder.redis = undefined
        if (!client.isOpen) return Effect.void
        return Effect.promise(() => client.close()).pipe(
          Effect.timeoutOrElse({ duration: Duration.seconds(1), orElse: () => Effect.sync(() => client.destroy()) }),
          Effect.ignoreCause
        )
      })
    )
    yield* Deferred.succeed(holder.connected, redis)
    return yield* Effect.never
  }).pipe(Effect.scoped)
  yield* retryInBackground(connectOnce, failure.event, failure.message)
})
