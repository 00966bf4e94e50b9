/**
 * Fail-safe edges of the shared ModeStore, against the real Redis on 127.0.0.1:6379 (outages are
 * simulated with the harness' fault proxy, never by stopping the machine's Redis):
 *
 * - unsynced means cautious: until an instance has read the shared document it is not synced
 *   and serves its boot document capped at warn (gauge and log say so); it follows the shared
 *   document once the store answers; `unsynced: "boot-document"` keeps the old behaviour; once
 *   synced, an outage keeps the last agreed document;
 * - a poisoned document is rejected whole: content and version untouched, counted and logged,
 *   and the next compare-and-set with the real version succeeds — also from an instance that
 *   booted while the poison was stored (it continues from the history's agreed version).
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Logger, Metric } from "effect"
import { modeDocumentsRejectedTotal, modeStoreSyncedGauge, validationModeGauge } from "../../src/observability/index.ts"
import {
  BACKFILL_VERIFIED,
  BackfillStatus,
  DEFAULT_DOCUMENT,
  getValidationDecision,
  ModeStore,
  type RedisConnectionModeStoreOptions,
  type StageValidationConfig
} from "../../src/rollout/index.ts"
import { eventsNamed, makeLogCollector, memoryStore } from "./helpers.ts"
import { assertRedisReachable, rawCommand, REDIS_URL, RedisProxy, uniquePrefix, waitUntil } from "./redisHarness.ts"

const meta = { actor: "ops@example.com", reason: "fail-safe test", source: "api" as const }
const ENFORCE: StageValidationConfig = { ...DEFAULT_DOCUMENT, defaultMode: "enforce", enforcementPercent: 100 }
const POISON = JSON.stringify({ version: 999, document: { defaultMode: "off", evil: 1 } })

const redisStore = (options: Partial<RedisConnectionModeStoreOptions> & { readonly prefix: string }) =>
  Effect.promise(assertRedisReachable).pipe(Effect.andThen(Effect.map(
    Layer.build(
      ModeStore.layerRedis({ initial: DEFAULT_DOCUMENT, redis: { url: REDIS_URL }, refreshInterval: "100 millis", ...options })
        .pipe(Layer.provide(BackfillStatus.layerMemory(BACKFILL_VERIFIED)))
    ),
    Context.get(ModeStore)
  )))

const write = { method: "POST", path: "/api/portfolio/strategies", requestId: "r-1" }
const rejects = (store: ModeStore["Service"]) => getValidationDecision(store.current(), write).shouldReject

const gauge = (metric: Metric.Gauge<number>) => Effect.map(Metric.value(metric), (s) => s.value)
const modeGauge = (mode: string) => gauge(Metric.withAttributes(validationModeGauge, { mode }))
const rejected = Effect.map(Metric.value(modeDocumentsRejectedTotal), (s) => s.count)

const cleanup = (prefix: string) =>
  Effect.promise(() => rawCommand("DEL", `${prefix}:document`, `${prefix}:history`)).pipe(Effect.ignore)

// each test: its own scope and metric registry; logs dropped unless a test collects them
const isolated = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.scoped, Effect.provide(Logger.layer([])), Effect.provideService(Metric.MetricRegistry, new Map()))

/** Polls an effectful predicate every 10 ms. */
const waitFor = (predicate: Effect.Effect<boolean>, timeoutMs: number, what: string) =>
  Effect.gen(function*() {
    const start = Date.now()
    while (!(yield* predicate)) {
      if (Date.now() - start > timeoutMs) return yield* Effect.fail(new Error(`timed out after ${timeoutMs} ms: ${what}`))
      yield* Effect.sleep("10 millis")
    }
  })

describe("unsynced means cautious", () => {
  it.live("boot without the store: unsynced, enforce capped at warn (gauges, log); enforce once the store answers with an enforce document", () => {
    const logs = makeLogCollector()
    return Effect.gen(function*() {
      const prefix = uniquePrefix("unsynced")
      yield* Effect.promise(assertRedisReachable)
      yield* Effect.promise(() => rawCommand("SET", `${prefix}:document`, JSON.stringify({ ...ENFORCE, version: 5 })))
      const proxy = new RedisProxy()
      yield* Effect.acquireRelease(Effect.promise(() => proxy.start("down")), () => Effect.promise(() => proxy.stop()))
      const a = yield* redisStore({ prefix, initial: { ...ENFORCE, endpointMode: { "/api/allocations": "enforce" } }, redis: { url: proxy.url } })
      yield* Effect.sleep("300 millis")

      assert.isFalse(a.sync().synced)
      assert.strictEqual(a.sync().policy, "cautious")
      assert.match(a.sync().reason ?? "", /did not answer|not been read/)
      assert.strictEqual(a.current().defaultMode, "warn")
      assert.strictEqual(a.current().endpointMode["/api/allocations"], "warn")
      assert.strictEqual(a.current().version, 0)
      assert.isFalse(rejects(a), "no rejection on the word of the boot environment alone")
      assert.strictEqual(getValidationDecision(a.current(), write).mode, "warn")
      assert.strictEqual(yield* gauge(modeStoreSyncedGauge), 0)
      assert.strictEqual(yield* modeGauge("warn"), 1)
      assert.strictEqual(yield* modeGauge("enforce"), 0)
      const [capped] = eventsNamed(logs.lines, "stage_validation.unsynced_cautious")
      assert.include(capped, { bootMode: "enforce", servedMode: "warn" })

      proxy.setMode("forward")
      yield* waitUntil(() => a.sync().synced, 5_000, "syncs once Redis answers")
      assert.strictEqual(a.current().version, 5)
      assert.strictEqual(a.current().defaultMode, "enforce")
      assert.isTrue(rejects(a))
      assert.isUndefined(a.sync().reason)
      assert.strictEqual(yield* gauge(modeStoreSyncedGauge), 1)
      assert.strictEqual(yield* modeGauge("enforce"), 1)
      assert.lengthOf(eventsNamed(logs.lines, "stage_validation.mode_store_synced"), 1)
      yield* cleanup(prefix)
    }).pipe(Effect.provide(logs.layer), isolated)
  })

  it.live("an empty store counts as read: the boot document is seeded and enforced as given", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("unsynced-empty")
      const a = yield* redisStore({ prefix, initial: ENFORCE })
      yield* waitUntil(() => a.sync().synced, 5_000, "synced")
      assert.strictEqual(a.current().version, 1)
      assert.isTrue(rejects(a))
      yield* cleanup(prefix)
    }).pipe(isolated))

  it.live("unsynced: \"boot-document\" serves the boot document as given while the store is unreachable", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("boot-document")
      const proxy = new RedisProxy()
      yield* Effect.acquireRelease(Effect.promise(() => proxy.start("down")), () => Effect.promise(() => proxy.stop()))
      const a = yield* redisStore({ prefix, initial: ENFORCE, redis: { url: proxy.url }, unsynced: "boot-document" })
      yield* Effect.sleep("200 millis")
      assert.isFalse(a.sync().synced)
      assert.strictEqual(a.sync().policy, "boot-document")
      assert.strictEqual(a.current().defaultMode, "enforce")
      assert.isTrue(rejects(a))
      yield* cleanup(prefix)
    }).pipe(isolated))

  it.live("once synced, losing the store keeps the last agreed document (not capped)", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("synced-outage")
      const proxy = new RedisProxy()
      yield* Effect.acquireRelease(Effect.promise(() => proxy.start()), () => Effect.promise(() => proxy.stop()))
      const a = yield* redisStore({ prefix, initial: ENFORCE, redis: { url: proxy.url } })
      yield* waitUntil(() => a.sync().synced, 5_000, "synced")
      const agreed = a.current()
      proxy.setMode("blackhole")
      yield* Effect.sleep("500 millis")
      assert.isTrue(a.sync().synced)
      assert.strictEqual(a.current(), agreed)
      assert.isTrue(rejects(a))
      yield* cleanup(prefix)
    }).pipe(isolated))

  it.effect("a memory store is always synced and serves its document as given", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      assert.deepStrictEqual(store.sync(), { synced: true, policy: "cautious", reason: undefined })
      assert.isTrue(rejects(store))
    }).pipe(Effect.provide(memoryStore(ENFORCE))))
})

describe("a poisoned document is rejected whole", () => {
  it.live("version unchanged, metric incremented, logged; the next compare-and-set with the real version succeeds", () => {
    const logs = makeLogCollector()
    return Effect.gen(function*() {
      const prefix = uniquePrefix("poison")
      const a = yield* redisStore({ prefix, initial: ENFORCE })
      const b = yield* redisStore({ prefix })
      yield* waitUntil(() => a.sync().synced && b.sync().synced, 5_000, "both synced")
      yield* a.set({ ...meta, document: { ...ENFORCE, enforcementPercent: 50 }, expectedVersion: 1 })
      yield* waitUntil(() => b.current().version === 2, 2_000, "b at version 2")
      const agreed = a.current()

      yield* Effect.promise(() => rawCommand("SET", `${prefix}:document`, POISON))
      yield* waitUntil(() => eventsNamed(logs.lines, "stage_validation.mode_document_rejected").length >= 1, 2_000, "rejected")
      yield* Effect.sleep("300 millis") // several refreshes
      assert.strictEqual(a.current(), agreed)
      for (const store of [a, b]) {
        assert.strictEqual(store.current().version, 2, "the version never moves on a rejected document")
        assert.strictEqual(store.current().defaultMode, "enforce")
        assert.strictEqual(store.current().enforcementPercent, 50)
        assert.isTrue(store.sync().synced, "a synced instance stays synced on its last agreed document")
      }
      assert.strictEqual(yield* rejected, 2, "counted once per instance, not once per refresh")
      const [line] = eventsNamed(logs.lines, "stage_validation.mode_document_rejected")
      assert.include(line, { via: "read", claimedVersion: 999 })

      // the next legitimate write, with the real version, succeeds and replaces the poison
      const { document } = yield* a.set({ ...meta, document: { ...ENFORCE, enforcementPercent: 60 }, expectedVersion: 2 })
      assert.strictEqual(document.version, 3)
      yield* waitUntil(() => b.current().version === 3, 2_000, "b adopts the repair")
      assert.strictEqual(b.current().enforcementPercent, 60)
      assert.strictEqual((yield* a.refresh).version, 3)
      yield* cleanup(prefix)
    }).pipe(Effect.provide(logs.layer), isolated)
  })

  it.live("a poisoned document published on the change channel is rejected (counted, not adopted)", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("poison-publish")
      const a = yield* redisStore({ prefix, initial: ENFORCE })
      yield* waitUntil(() => a.sync().synced, 5_000, "synced")
      const agreed = a.current()
      yield* Effect.sleep("100 millis") // the subscription is up
      yield* Effect.promise(() => rawCommand("PUBLISH", `${prefix}:changes`, POISON))
      yield* waitFor(Effect.map(rejected, (n) => n >= 1), 2_000, "counted")
      assert.strictEqual(a.current(), agreed)
      assert.isTrue(a.sync().synced)
      yield* cleanup(prefix)
    }).pipe(isolated))

  it.live("an instance booting while the poison is stored is not synced, and its repair continues from the agreed version", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("poison-boot")
      const a = yield* redisStore({ prefix, initial: ENFORCE })
      yield* waitUntil(() => a.sync().synced, 5_000, "a synced")
      yield* a.set({ ...meta, document: { ...ENFORCE, enforcementPercent: 30 }, expectedVersion: 1 })
      yield* a.set({ ...meta, document: { ...ENFORCE, enforcementPercent: 40 }, expectedVersion: 2 })
      yield* Effect.promise(() => rawCommand("SET", `${prefix}:document`, POISON))

      const c = yield* redisStore({ prefix, initial: ENFORCE })
      yield* Effect.sleep("300 millis")
      assert.isFalse(c.sync().synced)
      assert.match(c.sync().reason ?? "", /rejected/)
      assert.strictEqual(c.current().defaultMode, "warn", "unsynced: capped")
      // its own version is the boot one (0), but a repair continues from the history's agreed 3
      const conflict = yield* Effect.flip(c.set({ ...meta, document: ENFORCE, expectedVersion: 0 }))
      assert.deepStrictEqual(conflict._tag === "ModeStoreError" ? conflict.reason : undefined, {
        _tag: "VersionConflict",
        expected: 0,
        actual: 3
      })
      const { document } = yield* c.modify({ ...meta, update: (d) => ({ ...d, enforcementPercent: 45 }) })
      assert.strictEqual(document.version, 4)
      assert.isTrue(c.sync().synced)
      yield* waitUntil(() => a.current().version === 4, 2_000, "a adopts the repair (its version is newer)")
      assert.strictEqual(a.current().enforcementPercent, 45)
      yield* cleanup(prefix)
    }).pipe(isolated))
})
