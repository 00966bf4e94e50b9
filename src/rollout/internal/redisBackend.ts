/**
 * The Redis backend of the `ModeStore`: the document as JSON under `<prefix>:document`, the audit
 * history as a list `<prefix>:history` capped with LTRIM, invalidation on `<prefix>:changes`.
 *
 * Writes are one Lua script (compare the stored version, SET, LPUSH + LTRIM the audit entry,
 * PUBLISH the new document), so a compare-and-set is atomic. Reads never block the hot path:
 * a background fiber refreshes the in-process value every `refreshInterval` with a `readTimeout`,
 * and a subscriber applies published documents immediately. On failure the process keeps its last
 * known value (or the boot value) and counts `stage_validation_mode_fetch_failures_total`; a
 * stored or published document that fails decoding is rejected whole and counted in
 * `stage_validation_mode_documents_rejected_total`. The first successful read marks the instance
 * synced.
 *
 * @internal
 */
import { Deferred, Duration, Effect, Metric, Queue, Schedule } from "effect"
import { Redis } from "effect/persistence"
import { decodeAuditEntry, encodeAuditEntry } from "../AuditLog.ts"
import { ModeStoreError } from "../ModeStoreError.ts"
import { modeFetchFailuresTotal } from "../../observability/metrics.ts"
import type { Backend, CasResult, Loaded } from "./backend.ts"
import type { makeLineage } from "./lineage.ts"
import type { LocalState } from "./localState.ts"
import { type RedisHolder, retryInBackground } from "../RedisConnection.ts"
import { effectiveTimeout } from "./storeTimeout.ts"
import {
  agreedVersionOf,
  decodeDocument,
  decodeDocumentJson,
  encodeDocument,
  makeRejections,
  rejectedError
} from "./redisDocument.ts"

/** @internal */
export interface RedisKeys {
  readonly document: string
  readonly history: string
  readonly channel: string
}

/** @internal */
export const redisKeys = (prefix: string): RedisKeys => ({
  document: `${prefix}:document`,
  history: `${prefix}:history`,
  channel: `${prefix}:changes`
})

/** @internal */
export interface RedisSettings {
  readonly keys: RedisKeys
  readonly refreshInterval: Duration.Duration
  readonly readTimeout: Duration.Duration
  readonly writeTimeout: Duration.Duration
  readonly historyLimit: number
  readonly seedIfEmpty: boolean
}

// KEYS: document, history. ARGV: expected version, next document, audit entry, history limit,
// version assumed when the document is missing or unreadable, channel, the stored value being
// repaired ('' for none): a rejected document the client saw, which counts as `missingVersion`
// whatever `version` it claims (a rejected document's version is never trusted), and the
// expected lineage ('' for the legacy lineage: a document without one; a missing or repaired
// document counts as the expected lineage).
const casScript = Redis.script(
  (
    documentKey: string,
    historyKey: string,
    expected: number,
    next: string,
    entry: string,
    limit: number,
    missingVersion: number,
    channel: string,
    replacing: string,
    lineage: string
  ) => [documentKey, historyKey, expected, next, entry, limit, missingVersion, channel, replacing, lineage],
  {
    numberOfKeys: 2,
    lua: `
local cur = redis.call('GET', KEYS[1])
local v = tonumber(ARGV[5])
local lineage = ARGV[8]
if cur and not (ARGV[7] ~= '' and cur == ARGV[7]) then
  local ok, decoded = pcall(cjson.decode, cur)
  if ok and type(decoded) == 'table' and type(decoded.version) == 'number' then
    v = decoded.version
    if type(decoded.lineage) == 'string' then lineage = decoded.lineage else lineage = '' end
  end
end
if v ~= tonumber(ARGV[1]) or lineage ~= ARGV[8] then
  if cur then return {0, cur} end
  return {0}
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('LPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
redis.call('PUBLISH', ARGV[6], ARGV[2])
return {1}
`
  }
).withReturnType<ReadonlyArray<number | string>>()

const appendScript = Redis.script(
  (historyKey: string, entry: string, limit: number) => [historyKey, entry, limit],
  {
    numberOfKeys: 1,
    lua: `
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return 1
`
  }
).withReturnType<number>()


const unavailable = (message: string, cause?: unknown) =>
  new ModeStoreError({ reason: { _tag: "Unavailable", message }, ...(cause !== undefined ? { cause } : {}) })

/** @internal */
export const makeRedisBackend = (
  holder: RedisHolder,
  settings: RedisSettings,
  rejections: ReturnType<typeof makeRejections> = makeRejections(settings.keys.channel)
): Backend => {
  const { keys } = settings
  const use = <A>(
    timeout: Duration.Duration,
    f: (redis: Redis.Redis["Service"]) => Effect.Effect<A, Redis.RedisError | ModeStoreError>
  ): Effect.Effect<A, ModeStoreError> =>
    Effect.flatMap(effectiveTimeout(timeout), (wait) => {
      const redis = holder.redis
      if (redis === undefined) return Effect.fail(unavailable("not connected to Redis"))
      return f(redis).pipe(
        Effect.timeoutOrElse({
          duration: wait,
          orElse: () => Effect.fail(unavailable(`Redis did not answer within ${Duration.format(wait)}`))
        }),
        Effect.catchTag("RedisError", (error) => Effect.fail(unavailable(String(error.cause), error.cause)))
      )
    })

  return {
    load: use(settings.readTimeout, (redis) =>
      Effect.flatMap(redis.send<string | null>("GET", keys.document), (json): Effect.Effect<Loaded, Redis.RedisError> => {
        if (json === null) return Effect.succeed({ _tag: "Missing" })
        const result = decodeDocumentJson(json)
        if (result._tag === "Success") {
          rejections.accepted()
          return Effect.succeed({ _tag: "Valid", document: result.success })
        }
        const error = rejectedError(json, result.failure.message)
        return rejections.rejected(json, error, "read").pipe(
          Effect.andThen(redis.send<ReadonlyArray<string>>("LRANGE", keys.history, "0", "49")),
          Effect.map((lines): Loaded => ({ _tag: "Rejected", raw: json, error, agreedVersion: agreedVersionOf(lines) }))
        )
      })),
    compareAndSet: (expected, missingVersion, next, entry, replacing) =>
      use(settings.writeTimeout, (redis) =>
        Effect.flatMap(
          redis.eval(casScript)(
            keys.document,
            keys.history,
            expected.version,
            encodeDocument(next),
            encodeAuditEntry(entry),
            settings.historyLimit,
            missingVersion,
            keys.channel,
            replacing ?? "",
            expected.lineage
          ),
          (reply): Effect.Effect<CasResult> => {
            if (reply[0] === 1) return Effect.succeed({ ok: true } as const)
            const current = reply[1]
            if (typeof current !== "string") return Effect.succeed({ ok: false, current: undefined } as const)
            return decodeDocument(current).pipe(
              Effect.map((doc) => ({ ok: false, current: doc } as const)),
              Effect.orElseSucceed(() => ({ ok: false, current: undefined } as const))
            )
          }
        )),
    append: (entry) =>
      use(
        settings.writeTimeout,
        (redis) => Effect.asVoid(redis.eval(appendScript)(keys.history, encodeAuditEntry(entry), settings.historyLimit))
      ),
    history: (limit) =>
      limit === 0 ? Effect.succeed([]) : use(settings.writeTimeout, (redis) =>
        Effect.map(
          redis.send<ReadonlyArray<string>>("LRANGE", keys.history, "0", String(limit - 1)),
          (lines) => lines.flatMap((line) => {
            const entry = decodeAuditEntry(line)
            return entry === undefined ? [] : [entry]
          })
        ))
  }
}

/** How long the first read waits for the first connection (node-redis' default connect timeout here). */
const FIRST_CONNECTION_GRACE = Duration.seconds(1)

/**
 * Starts the background synchronisation in the current scope: the periodic refresh (from the
 * first connection, or one refresh interval — at most a second — after the start, counting
 * failures while not connected) and, once connected, the subscriber.
 *
 * @internal
 */
export const startSync = Effect.fnUntraced(function*(
  local: LocalState,
  backend: Backend,
  holder: RedisHolder,
  settings: RedisSettings,
  rejections: ReturnType<typeof makeRejections>,
  lineage: ReturnType<typeof makeLineage>
) {
  let consecutiveFailures = 0

  const refreshOnce = Effect.gen(function*() {
    const result = yield* Effect.result(backend.load)
    if (result._tag === "Failure") {
      consecutiveFailures++
      yield* Metric.update(modeFetchFailuresTotal, 1)
      local.notSynced(`the shared rollout store did not answer: ${result.failure.message}`)
      if (consecutiveFailures === 1 || consecutiveFailures % 60 === 0) {
        yield* Effect.logWarning({
          event: "stage_validation.mode_fetch_failed",
          message: local.isSynced
            ? "could not read the shared rollout document; serving the last known value"
            : local.policy === "cautious"
            ? "could not read the shared rollout document yet; not ready, serving the boot document capped at warn"
            : "could not read the shared rollout document yet; serving the boot document",
          error: result.failure.message,
          consecutiveFailures,
          synced: local.isSynced,
          servingVersion: local.current.version
        })
      }
      return
    }
    if (consecutiveFailures > 0) {
      yield* Effect.logInfo({
        event: "stage_validation.mode_fetch_recovered",
        failuresBeforeRecovery: consecutiveFailures
      })
      consecutiveFailures = 0
    }
    const loaded = result.success
    switch (loaded._tag) {
      case "Valid":
        yield* lineage.observe(loaded.document)
        break
      case "Missing":
        // nothing stored: an instance holding an agreed document restores it, a booting one seeds
        // the boot document (a new lineage), or (not seeding) the boot document is what every
        // instance serves; either way the store answered
        yield* lineage.onMissing.pipe(Effect.ignore)
        break
      case "Rejected":
        // counted and logged by the backend; nothing adopted, the version does not move
        local.notSynced(`the shared rollout document was rejected: ${loaded.error.message}`)
        break
    }
  })

  // The first read waits for the first connection (up to a refresh interval, at most
  // FIRST_CONNECTION_GRACE): a read before the client has even connected is no failure, and would
  // log a false alarm at every start.
  yield* Deferred.await(holder.connected).pipe(
    Effect.timeoutOrElse({
      duration: Duration.min(settings.refreshInterval, FIRST_CONNECTION_GRACE),
      orElse: () => Effect.void
    }),
    Effect.andThen(refreshOnce.pipe(Effect.repeat(Schedule.spaced(settings.refreshInterval)))),
    Effect.forkScoped
  )

  const subscribeOnce = Effect.gen(function*() {
    const redis = yield* Deferred.await(holder.connected)
    const queue = yield* redis.subscribe(settings.keys.channel)
    yield* refreshOnce // catch up with anything published before the subscription
    while (true) {
      const message = yield* Queue.take(queue)
      const doc = yield* Effect.result(decodeDocument(message.message))
      if (doc._tag === "Success") {
        rejections.accepted()
        yield* lineage.observe(doc.success)
      } else {
        yield* rejections.rejected(message.message, doc.failure, "publish")
      }
    }
  }).pipe(Effect.scoped)

  yield* retryInBackground(
    subscribeOnce,
    "stage_validation.mode_subscription_failed",
    "rollout change subscription failed; resubscribing (the periodic refresh still runs)"
  )
})
