/**
 * `WebhookDeduplication`: the "handled this delivery" store of the Alertmanager webhook.
 *
 * The protocol is **check → act → commit**: `seen` says whether a delivery key was recorded as
 * handled; the webhook then acts (the downgrade) and only after the action committed does
 * `commit` record the key for the TTL. Nothing is recorded before the action, so a delivery that
 * timed out or failed half-way — even one whose Redis command landed after its client gave up —
 * never makes the retry a `duplicate`: the retry acts again. That is safe because the action is
 * idempotent (the downgrade changes nothing when nothing enforces, and labels a repeat within its
 * cooldown); two instances receiving the same delivery at once both act, and one of them finds
 * nothing left to do. (A claim taken before the action, as in 0.2, let a slow Redis record a key
 * whose downgrade never happened, and every retry then answered `duplicate`.)
 *
 * - `layerMemory`: a map with expiry, for one process and tests;
 * - `layerRedis`: `EXISTS` / `SET <prefix><sha256(key)> 1 EX <ttl>` on the shared Redis, so
 *   several instances behind a load balancer recognise a delivery another one handled. Keys are
 *   hashed, so an arbitrarily long `groupKey` costs a fixed 64 characters;
 * - `layerRedisUrl`: the same over its own connection, made in the background and retried: the
 *   layer never fails, and until Redis answers `seen` and `commit` fail (the webhook then acts
 *   anyway: see `AutoDowngrade`).
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
 * Default TTL of a committed key, seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_DEDUPLICATION_TTL_SECONDS = 600

/**
 * The store could not be reached (or not in time).
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
 *   const before = yield* dedup.seen("g|firing|a:t1")
 *   yield* dedup.commit("g|firing|a:t1", 600) // after the delivery was handled
 *   const after = yield* dedup.seen("g|firing|a:t1")
 *   return [before, after]
 * }).pipe(Effect.provide(WebhookDeduplication.layerMemory))
 * // Effect.runPromise(program) => [false, true]
 * ```
 * @since 0.1.0
 * @category services
 */
export class WebhookDeduplication extends Context.Service<WebhookDeduplication, {
  /** true when the key was committed as handled within its TTL */
  readonly seen: (key: string) => Effect.Effect<boolean, DeduplicationUnavailable>
  /** records the key as handled for `ttlSeconds`; call it only after the action committed */
  readonly commit: (key: string, ttlSeconds: number) => Effect.Effect<void, DeduplicationUnavailable>
}>()("stage-normalization/http/WebhookDeduplication") {
  /**
   * In-process store (one instance; tests).
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layerMemory: Layer.Layer<WebhookDeduplication> = Layer.sync(WebhookDeduplication, () => {
    // bounded: expired keys are swept, and past 10,000 live keys the oldest are forgotten (a
    // forgotten key only means a redelivery acts again, which is idempotent)
    const handled = new Map<string, number>()
    const sweep = (now: number) => {
      if (handled.size < 1024) return
      for (const [k, expires] of handled) if (expires <= now) handled.delete(k)
      for (const k of handled.keys()) {
        if (handled.size < 10_000) break
        handled.delete(k)
      }
    }
    return WebhookDeduplication.of({
      seen: (key) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const expires = handled.get(key)
          return expires !== undefined && expires > now
        }),
      commit: (key, ttlSeconds) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          sweep(now)
          handled.delete(key) // re-inserted last: the newest
          handled.set(key, now + ttlSeconds * 1000)
        })
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
    seen: (key) => run((redis) => redis.send<number>("EXISTS", keyOf(key))).pipe(Effect.map((n) => n === 1)),
    commit: (key, ttlSeconds) =>
      run((redis) => redis.send<string | null>("SET", keyOf(key), "1", "EX", String(Math.max(1, Math.ceil(ttlSeconds)))))
        .pipe(Effect.asVoid)
  })
}
