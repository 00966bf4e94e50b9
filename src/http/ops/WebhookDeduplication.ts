/**
 * `WebhookDeduplication`: the "seen this delivery" store of the Alertmanager webhook. `claim`
 * records a key for a TTL and says whether it was new; `release` forgets it again (used when
 * applying the downgrade failed, so that Alertmanager's retry is not mistaken for a duplicate).
 *
 * - `layerMemory`: a map with expiry, for one process and tests;
 * - `layerRedis`: `SET <prefix><sha256(key)> 1 NX EX <ttl>` on the shared Redis, so several
 *   instances behind a load balancer apply a delivery once. Keys are hashed, so an arbitrarily
 *   long `groupKey` costs a fixed 64 characters;
 * - `layerRedisUrl`: the same over its own connection, made in the background and retried: the
 *   layer never fails, and until Redis answers `claim` fails (the webhook answers 503 and
 *   Alertmanager retries).
 *
 * The TTL (default 600 s) must exceed the signature tolerance (300 s): a replay inside the
 * tolerance window must still find its key.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import { Clock, Context, Deferred, Effect, Layer, Schema } from "effect"
import { Redis } from "effect/persistence"
import { connectInBackground, type RedisHolder } from "../../rollout/RedisConnection.ts"
import type { MissingPeerDependencyError } from "../../shared/PeerDependency.ts"

/**
 * Default TTL of a claimed key, seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_DEDUPLICATION_TTL_SECONDS = 600

/**
 * The store could not be reached; the webhook answers 503 so that Alertmanager retries.
 *
 * @since 0.1.0
 * @category errors
 */
export class DeduplicationUnavailable extends Schema.TaggedError<DeduplicationUnavailable>(
  "stage-normalization/http/DeduplicationUnavailable"
)("DeduplicationUnavailable", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { WebhookDeduplication } from "stage-normalization/http"
 * const program = Effect.gen(function*() {
 *   const dedup = yield* WebhookDeduplication
 *   const first = yield* dedup.claim("g|firing|a:t1", 600)
 *   const second = yield* dedup.claim("g|firing|a:t1", 600)
 *   return [first, second]
 * }).pipe(Effect.provide(WebhookDeduplication.layerMemory))
 * // Effect.runPromise(program) => [true, false]
 * ```
 * @since 0.1.0
 * @category services
 */
export class WebhookDeduplication extends Context.Service<WebhookDeduplication, {
  /** true when the key was not seen within its TTL (and is now recorded) */
  readonly claim: (key: string, ttlSeconds: number) => Effect.Effect<boolean, DeduplicationUnavailable>
  readonly release: (key: string) => Effect.Effect<void, DeduplicationUnavailable>
}>()("stage-normalization/http/WebhookDeduplication") {
  /**
   * In-process store (one instance; tests).
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layerMemory: Layer.Layer<WebhookDeduplication> = Layer.sync(WebhookDeduplication, () => {
    const seen = new Map<string, number>()
    const sweep = (now: number) => {
      if (seen.size < 1024) return
      for (const [k, expires] of seen) if (expires <= now) seen.delete(k)
    }
    return WebhookDeduplication.of({
      claim: (key, ttlSeconds) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          sweep(now)
          const expires = seen.get(key)
          if (expires !== undefined && expires > now) return false
          seen.set(key, now + ttlSeconds * 1000)
          return true
        }),
      release: (key) => Effect.sync(() => void seen.delete(key))
    })
  })

  /**
   * Redis store: needs `Redis.Redis` (e.g. `NodeRedis.layer({ url })`).
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layerRedis = (
    options?: { readonly prefix?: string | undefined; readonly timeout?: number | undefined }
  ): Layer.Layer<WebhookDeduplication, never, Redis.Redis> =>
    Layer.effect(
      WebhookDeduplication,
      Redis.Redis.use((redis) => Effect.succeed(makeRedisDeduplication(() => redis, options)))
    )

  /**
   * Redis store over its own connection to `url`, connected in the background (see the module
   * notes). Needs the optional peers `@effect/platform-node` and `redis`; without them the layer
   * fails with `MissingPeerDependencyError`.
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layerRedisUrl = (
    url: string,
    options?: { readonly prefix?: string | undefined; readonly timeout?: number | undefined }
  ): Layer.Layer<WebhookDeduplication, MissingPeerDependencyError> =>
    Layer.effect(
      WebhookDeduplication,
      Effect.gen(function*() {
        const holder: RedisHolder = { redis: undefined, connected: yield* Deferred.make<Redis.Redis["Service"]>() }
        yield* connectInBackground(holder, { url }, "WebhookDeduplication.layerRedisUrl", {
          event: "stage_validation.webhook_redis_connect_failed",
          message: "could not connect to Redis for webhook deduplication; retrying"
        })
        return makeRedisDeduplication(() => holder.redis, options)
      })
    )
}

const unavailable = (cause: unknown) =>
  new DeduplicationUnavailable({ message: "the deduplication store (Redis) is unavailable", cause })

const makeRedisDeduplication = (
  get: () => Redis.Redis["Service"] | undefined,
  options?: { readonly prefix?: string | undefined; readonly timeout?: number | undefined }
): WebhookDeduplication["Service"] => {
  const prefix = options?.prefix ?? "stage-validation:webhook:"
  const timeout = options?.timeout ?? 1000
  const keyOf = (key: string) => prefix + createHash("sha256").update(key, "utf8").digest("hex")
  const run = <A>(f: (redis: Redis.Redis["Service"]) => Effect.Effect<A, Redis.RedisError>) =>
    Effect.suspend(() => {
      const redis = get()
      if (redis === undefined) return Effect.fail(unavailable("not connected"))
      return f(redis).pipe(
        Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.fail(unavailable("timeout")) }),
        Effect.mapError((e) => (e instanceof DeduplicationUnavailable ? e : unavailable(e)))
      )
    })
  return WebhookDeduplication.of({
    claim: (key, ttlSeconds) =>
      run((redis) =>
        redis.send<string | null>("SET", keyOf(key), "1", "NX", "EX", String(Math.max(1, Math.ceil(ttlSeconds))))
      ).pipe(Effect.map((reply) => reply === "OK")),
    release: (key) => run((redis) => redis.send<number>("DEL", keyOf(key))).pipe(Effect.asVoid)
  })
}
