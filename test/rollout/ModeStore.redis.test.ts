/**
 * ModeStore against the real Redis on 127.0.0.1:6379. Without Redis these tests fail (they never
 * skip): the reachability check runs first and every test talks to Redis.
 */
import { NodeRedis } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Fiber, Layer, Logger, Metric, Stream } from "effect"
import { modeDocumentsRejectedTotal, modeFetchFailuresTotal } from "../../src/observability/index.ts"
import {
  BACKFILL_PENDING,
  BackfillStatus,
  DEFAULT_DOCUMENT,
  ModeStore,
  type RedisConnectionModeStoreOptions,
  type StageValidationConfig
} from "../../src/rollout/index.ts"
import { assertRedisReachable, rawCommand, REDIS_URL, RedisProxy, uniquePrefix, waitUntil } from "./redisHarness.ts"

const meta = { actor: "ops@example.com", reason: "redis test", source: "api" as const }
const backfill = BackfillStatus.layerMemory(BACKFILL_PENDING)

// Every test starts with the reachability check, so a missing Redis fails each test at once with
// an actionable message (a failing beforeAll would only mark the tests skipped).
const redisStore = (options: Partial<RedisConnectionModeStoreOptions> & { readonly prefix: string }) =>
  Effect.promise(assertRedisReachable).pipe(Effect.andThen(Effect.map(
    Layer.build(
      ModeStore.layerRedis({ initial: DEFAULT_DOCUMENT, redis: { url: REDIS_URL }, ...options }).pipe(
        Layer.provide(backfill)
      )
    ),
    Context.get(ModeStore)
  )))

// The stores log every audit entry and outage; keep the test output readable.
const quiet = Logger.layer([])

const failures = Effect.map(Metric.value(modeFetchFailuresTotal), (s) => s.count)
const rejected = Effect.map(Metric.value(modeDocumentsRejectedTotal), (s) => s.count)

/** Waits until the store has read the shared document (seeded or not). */
const synced = (store: ModeStore["Service"], version = 1) =>
  waitUntil(() => store.current().version >= version, 5_000, `store reaches version ${version}`)

const cleanup = (prefix: string) =>
  Effect.promise(() => rawCommand("DEL", `${prefix}:document`, `${prefix}:history`)).pipe(Effect.ignore)

describe("ModeStore.layerRedis (real Redis)", () => {
  it.live("Redis answers on 127.0.0.1:6379", () => Effect.promise(assertRedisReachable))

  it.live("seeds an empty Redis from the boot document (audited, source env); a second instance adopts it", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("seed")
      const boot: StageValidationConfig = { ...DEFAULT_DOCUMENT, enforcementPercent: 42 }
      const a = yield* redisStore({ prefix, initial: boot, refreshInterval: "200 millis" })
      yield* synced(a)
      assert.strictEqual(a.current().enforcementPercent, 42)
      const b = yield* redisStore({ prefix, initial: DEFAULT_DOCUMENT, refreshInterval: "200 millis" })
      yield* synced(b)
      assert.strictEqual(b.current().enforcementPercent, 42)
      const history = yield* a.history()
      assert.strictEqual(history.length, 1)
      assert.strictEqual(history[0]?.action, "seed")
      assert.strictEqual(history[0]?.source, "env")
      yield* cleanup(prefix)
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("two instances converge in < 1 s after a set (pub/sub, not the 5 s refresh)", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("converge")
      const a = yield* redisStore({ prefix })
      const b = yield* redisStore({ prefix })
      yield* synced(a)
      yield* synced(b)
      for (const [writer, reader, percent] of [[a, b, 25], [b, a, 50], [a, b, 75]] as const) {
        const { document } = yield* writer.set({
          ...meta,
          document: { ...writer.current(), enforcementPercent: percent },
          expectedVersion: writer.current().version
        })
        assert.strictEqual(writer.current(), document)
        const elapsed = yield* waitUntil(
          () => reader.current().version === document.version,
          1_000,
          "the other instance sees the change"
        )
        assert.isBelow(elapsed, 1_000)
        assert.strictEqual(reader.current().enforcementPercent, percent)
      }
      yield* cleanup(prefix)
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("compare-and-set is atomic across instances: one writer wins, the other gets a VersionConflict", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("cas")
      const a = yield* redisStore({ prefix })
      const b = yield* redisStore({ prefix })
      yield* synced(a)
      yield* synced(b)
      const version = a.current().version
      const [ra, rb] = yield* Effect.all([
        Effect.result(a.set({ ...meta, document: { enforcementPercent: 10 }, expectedVersion: version })),
        Effect.result(b.set({ ...meta, document: { enforcementPercent: 20 }, expectedVersion: version }))
      ], { concurrency: 2 })
      const outcomes = [ra, rb].map((r) => r._tag)
      assert.deepStrictEqual([...outcomes].sort(), ["Failure", "Success"])
      const loser = ra._tag === "Failure" ? ra.failure : rb._tag === "Failure" ? rb.failure : undefined
      assert.strictEqual(loser?._tag, "ModeStoreError")
      if (loser?._tag === "ModeStoreError") assert.strictEqual(loser.reason._tag, "VersionConflict")
      yield* waitUntil(() => a.current().version === version + 1 && b.current().version === version + 1, 1_000, "both")
      assert.strictEqual(a.current().enforcementPercent, b.current().enforcementPercent)
      yield* cleanup(prefix)
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("the audit history is a Redis list capped with LTRIM (1,000 by default)", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("history")
      const a = yield* redisStore({ prefix })
      yield* synced(a)
      yield* Effect.forEach(
        Array.from({ length: 1_010 }, (_, i) => i),
        (i) => a.audit({ ...meta, reason: `dup ${i}`, action: "downgrade", outcome: "duplicate" }),
        { concurrency: 16, discard: true }
      )
      assert.strictEqual(yield* Effect.promise(() => rawCommand("LLEN", `${prefix}:history`)), ":1000")
      const newest = yield* a.history(3)
      assert.strictEqual(newest.length, 3)
      assert.isTrue(newest.every((e) => e.outcome === "duplicate"))
      assert.strictEqual((yield* a.history(5_000)).length, 1_000)

      const small = uniquePrefix("history-small")
      const s = yield* redisStore({ prefix: small, historyLimit: 3 })
      yield* synced(s)
      for (let p = 1; p <= 5; p++) {
        yield* s.modify({ ...meta, reason: `step ${p}`, update: (d) => ({ ...d, enforcementPercent: p }) })
      }
      assert.deepStrictEqual((yield* s.history()).map((e) => e.reason), ["step 5", "step 4", "step 3"])
      yield* cleanup(prefix)
      yield* cleanup(small)
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("Redis stops answering: reads keep serving the last value, the failure counter rises, writes fail typed; recovery picks up a value set meanwhile", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("blackhole")
      const proxy = new RedisProxy()
      yield* Effect.acquireRelease(Effect.promise(() => proxy.start()), () => Effect.promise(() => proxy.stop()))
      const a = yield* redisStore({ prefix, redis: { url: proxy.url }, refreshInterval: "150 millis" })
      const b = yield* redisStore({ prefix })
      yield* synced(a)
      yield* synced(b)
      const served = a.current()
      const before = yield* failures

      proxy.setMode("blackhole")
      yield* Effect.sleep("1 second")
      // the hot path is untouched
      assert.strictEqual(a.current(), served)
      assert.strictEqual(yield* a.get, served)
      const afterOutage = yield* failures
      assert.isAtLeast(afterOutage - before, 3, "refreshes time out at 100 ms and are counted")
      const write = yield* Effect.flip(
        a.set({ ...meta, document: { enforcementPercent: 1 }, expectedVersion: served.version, reason: "during outage" })
      )
      assert.strictEqual(write._tag, "ModeStoreError")
      if (write._tag === "ModeStoreError") assert.strictEqual(write.reason._tag, "Unavailable")

      // another instance changes the document meanwhile
      const { document } = yield* b.set({ ...meta, document: { enforcementPercent: 33 }, expectedVersion: served.version })
      assert.strictEqual(a.current(), served)

      proxy.setMode("forward")
      yield* waitUntil(() => a.current().version === document.version, 5_000, "recovered instance picks up the new value")
      assert.strictEqual(a.current().enforcementPercent, 33)
      yield* cleanup(prefix)
    }).pipe(Effect.scoped, Effect.provide(quiet), Effect.provideService(Metric.MetricRegistry, new Map())))

  it.live("a dropped connection (refused): nothing fails, the counter rises, reconnection catches up", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("dropped")
      const proxy = new RedisProxy()
      yield* Effect.acquireRelease(Effect.promise(() => proxy.start()), () => Effect.promise(() => proxy.stop()))
      const a = yield* redisStore({ prefix, redis: { url: proxy.url }, refreshInterval: "150 millis" })
      const b = yield* redisStore({ prefix })
      yield* synced(a)
      yield* synced(b)
      const served = a.current()
      const before = yield* failures

      proxy.setMode("down")
      yield* Effect.sleep("700 millis")
      assert.strictEqual(a.current(), served)
      assert.isAtLeast((yield* failures) - before, 2)
      const { document } = yield* b.set({ ...meta, document: { dryRun: true }, expectedVersion: served.version })

      proxy.setMode("forward")
      yield* waitUntil(() => a.current().version === document.version, 5_000, "reconnected instance catches up")
      assert.isTrue(a.current().dryRun)
      // and pub/sub works again on the new connection
      const next = yield* b.set({ ...meta, document: { dryRun: false }, expectedVersion: document.version })
      yield* waitUntil(() => a.current().version === next.document.version, 2_000, "pub/sub after reconnection")
      yield* cleanup(prefix)
    }).pipe(Effect.scoped, Effect.provide(quiet), Effect.provideService(Metric.MetricRegistry, new Map())))

  it.live("booting while Redis is unreachable never fails: the boot value is served until Redis answers", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("boot-down")
      yield* Effect.promise(assertRedisReachable)
      yield* Effect.promise(() =>
        rawCommand("SET", `${prefix}:document`, JSON.stringify({ ...DEFAULT_DOCUMENT, enforcementPercent: 64, version: 7 }))
      )
      const proxy = new RedisProxy()
      yield* Effect.acquireRelease(Effect.promise(() => proxy.start("down")), () => Effect.promise(() => proxy.stop()))
      const boot: StageValidationConfig = { ...DEFAULT_DOCUMENT, enforcementPercent: 5 }
      const a = yield* redisStore({ prefix, initial: boot, redis: { url: proxy.url }, refreshInterval: "100 millis" })
      assert.strictEqual(a.current().enforcementPercent, 5)
      yield* Effect.sleep("400 millis")
      assert.strictEqual(a.current().enforcementPercent, 5)
      assert.isAtLeast(yield* failures, 2)
      const write = yield* Effect.flip(a.set({ ...meta, document: {}, expectedVersion: 0 }))
      assert.strictEqual(write._tag, "ModeStoreError")

      proxy.setMode("forward")
      yield* waitUntil(() => a.current().version === 7, 5_000, "syncs once Redis answers")
      assert.strictEqual(a.current().enforcementPercent, 64)
      yield* cleanup(prefix)
    }).pipe(Effect.scoped, Effect.provide(quiet), Effect.provideService(Metric.MetricRegistry, new Map())))

  it.live("shutting down while Redis does not answer completes promptly", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("shutdown")
      const proxy = new RedisProxy()
      yield* Effect.acquireRelease(Effect.promise(() => proxy.start()), () => Effect.promise(() => proxy.stop()))
      const started = Date.now()
      yield* Effect.gen(function*() {
        const a = yield* redisStore({ prefix, redis: { url: proxy.url }, refreshInterval: "100 millis" })
        yield* synced(a)
        proxy.setMode("blackhole")
        yield* Effect.sleep("300 millis") // refreshes now hang on the socket until they time out
      }).pipe(Effect.scoped)
      assert.isBelow(Date.now() - started, 4_000)
      yield* cleanup(prefix)
    }).pipe(Effect.scoped, Effect.provide(quiet), Effect.provideService(Metric.MetricRegistry, new Map())))

  it.live("an unreadable stored document is rejected whole: never served, counted once, and repaired from the agreed version", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("corrupt")
      yield* Effect.promise(assertRedisReachable)
      yield* Effect.promise(() => rawCommand("SET", `${prefix}:document`, "{\"enforcementPercent\": 900, \"version\": 3}"))
      const a = yield* redisStore({ prefix, refreshInterval: "100 millis" })
      yield* Effect.sleep("350 millis")
      assert.strictEqual(a.current().version, 0)
      assert.strictEqual(a.current().enforcementPercent, 100)
      assert.strictEqual(yield* rejected, 1, "one rejected document, however many refreshes saw it")
      assert.isFalse(a.sync().synced)
      assert.match(a.sync().reason ?? "", /rejected/)
      const refreshed = yield* Effect.flip(a.refresh)
      assert.strictEqual(refreshed._tag, "ModeStoreError")
      assert.deepInclude(refreshed.reason, { _tag: "InvalidDocument", storedVersion: 3 })
      // its claimed version is not trusted: an operator repairs it with the version they know
      const conflict = yield* Effect.flip(a.set({ ...meta, document: { enforcementPercent: 10 }, expectedVersion: 3 }))
      assert.deepStrictEqual(conflict._tag === "ModeStoreError" ? conflict.reason : undefined, {
        _tag: "VersionConflict",
        expected: 3,
        actual: 0
      })
      const { document } = yield* a.set({ ...meta, document: { enforcementPercent: 10 }, expectedVersion: 0 })
      assert.strictEqual(document.version, 1)
      assert.strictEqual(a.current(), document)
      assert.isTrue(a.sync().synced)
      // and a document that is not JSON at all is replaced the same way, even by the same content
      yield* Effect.promise(() => rawCommand("SET", `${prefix}:document`, "not json"))
      const repaired = yield* a.modify({ ...meta, update: (d) => d })
      assert.strictEqual(repaired.document.version, 2)
      assert.isDefined(repaired.entry)
      assert.strictEqual((yield* a.refresh).version, 2)
      assert.strictEqual(yield* rejected, 2)
      yield* cleanup(prefix)
    }).pipe(Effect.scoped, Effect.provide(quiet), Effect.provideService(Metric.MetricRegistry, new Map())))
})

describe("ModeStore.layerRedisConfig (environment)", () => {
  it.live("boots from the preset and env overrides, connects to REDIS_URL under the configured prefix, streams changes", () =>
    Effect.gen(function*() {
      yield* Effect.promise(assertRedisReachable)
      const prefix = uniquePrefix("config")
      const env = ConfigProvider.fromUnknown({
        REDIS_URL,
        STAGE_VALIDATION_REDIS_PREFIX: prefix,
        STAGE_VALIDATION_PRESET: "production",
        ENFORCEMENT_PERCENT: "25"
      })
      const a = yield* Effect.map(
        Layer.build(
          ModeStore.layerRedisConfig({ refreshInterval: "200 millis" }).pipe(Layer.provide(backfill))
        ),
        Context.get(ModeStore)
      ).pipe(Effect.provideService(ConfigProvider.ConfigProvider, env))
      // unsynced (cautious): the boot document capped at warn, the percentage kept
      assert.strictEqual(a.current().endpointMode["/api/portfolio/strategies"], "warn")
      assert.strictEqual(a.current().enforcementPercent, 25)
      yield* synced(a)
      assert.strictEqual(a.current().endpointMode["/api/portfolio/strategies"], "enforce")
      assert.strictEqual(a.current().enforcementPercent, 25)
      assert.match(yield* Effect.promise(() => rawCommand("EXISTS", `${prefix}:document`)), /^:1$/)

      const b = yield* redisStore({ prefix })
      yield* synced(b)
      const seen = yield* b.changes.pipe(Stream.take(2), Stream.runCollect, Effect.forkScoped)
      yield* Effect.sleep("50 millis")
      const { document } = yield* a.set({ ...meta, document: { ...a.current(), enforcementPercent: 50 }, expectedVersion: a.current().version })
      const docs = yield* Fiber.join(seen)
      assert.deepStrictEqual(docs.map((d) => d.version), [document.version - 1, document.version])
      assert.strictEqual(docs[1]?.enforcementPercent, 50)
      yield* cleanup(prefix)
    }).pipe(Effect.scoped, Effect.provide(quiet)))
})

describe("ModeStore.layerRedisFrom (host's Redis service)", () => {
  it.live("shares the document through an existing NodeRedis layer", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("from")
      yield* Effect.promise(assertRedisReachable)
      const layer = ModeStore.layerRedisFrom({ initial: DEFAULT_DOCUMENT, prefix }).pipe(
        Layer.provide([NodeRedis.layer({ url: REDIS_URL }), backfill])
      )
      const a = yield* Effect.map(Layer.build(layer), Context.get(ModeStore))
      const b = yield* redisStore({ prefix })
      yield* synced(a)
      const { document } = yield* a.set({ ...meta, document: { defaultMode: "off" }, expectedVersion: a.current().version })
      yield* waitUntil(() => b.current().version === document.version, 1_000, "b sees a's change")
      assert.strictEqual(b.current().defaultMode, "off")
      assert.strictEqual((yield* a.refresh).version, document.version)
      yield* cleanup(prefix)
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("an invalid boot document fails layerRedisFrom and layerRedis with a typed InvalidDocument", () =>
    Effect.gen(function*() {
      yield* Effect.promise(assertRedisReachable)
      const initial = { ...DEFAULT_DOCUMENT, enforcementSalt: "same", samplingSalt: "same" }
      const prefix = uniquePrefix("invalid-boot")
      const from = yield* Effect.flip(Layer.build(
        ModeStore.layerRedisFrom({ initial, prefix }).pipe(Layer.provide([NodeRedis.layer({ url: REDIS_URL }), backfill]))
      ))
      const own = yield* Effect.flip(Layer.build(
        ModeStore.layerRedis({ initial, prefix, redis: { url: REDIS_URL } }).pipe(Layer.provide(backfill))
      ))
      for (const error of [from, own]) {
        assert.strictEqual(error._tag, "ModeStoreError")
        if (error._tag === "ModeStoreError") assert.strictEqual(error.reason._tag, "InvalidDocument")
        assert.include(error.message, "enforcementSalt and samplingSalt must differ")
      }
      // nothing was seeded from the invalid document
      assert.strictEqual(yield* Effect.promise(() => rawCommand("EXISTS", `${prefix}:document`)), ":0")
    }).pipe(Effect.scoped, Effect.provide(quiet)))
})
