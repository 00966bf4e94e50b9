/**
 * The shared document's lineage, with three instances on one prefix of the real Redis on
 * 127.0.0.1:6379 (partitions through the harness' fault proxy; the "loss" deletes this test's
 * keys only — the machine's Redis is never stopped or flushed):
 *
 * - lost and re-created, then changed: the old instances adopt the new lineage within the refresh
 *   interval, a downgrade reaches all three, and a change with the version an instance reports works;
 * - lost and re-seeded from a boot configuration nobody changed: the old instances restore the
 *   previous lineage's newest document, and the seeding instance follows it;
 * - an unreadable stored document (a key this version does not know, or not JSON) never blocks a
 *   downgrade: it is replaced by the downgraded document, audited with the original.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Logger, Metric } from "effect"
import { modeLineageChangesTotal } from "../../src/observability/index.ts"
import {
  BACKFILL_VERIFIED,
  BackfillStatus,
  DEFAULT_DOCUMENT,
  downgrade,
  getValidationDecision,
  ModeStore,
  type RedisConnectionModeStoreOptions,
  type RolloutDocument,
  type StageValidationConfig
} from "../../src/rollout/index.ts"
import { eventsNamed, makeLogCollector } from "./helpers.ts"
import { assertRedisReachable, rawCommand, REDIS_URL, RedisProxy, uniquePrefix, waitUntil } from "./redisHarness.ts"

const REFRESH_MS = 200
// the bound a converging cluster must meet after the partition heals: one refresh interval plus the
// reconnection and slack for a loaded CI machine (measured here: 30-220 ms)
const CONVERGENCE_BOUND_MS = REFRESH_MS + 2_000
const meta = { actor: "ops@example.com", reason: "lineage test", source: "api" as const }
const ENFORCE: StageValidationConfig = { ...DEFAULT_DOCUMENT, defaultMode: "enforce", enforcementPercent: 100 }

const redisStore = (options: Partial<RedisConnectionModeStoreOptions> & { readonly prefix: string }) =>
  Effect.promise(assertRedisReachable).pipe(Effect.andThen(Effect.map(
    Layer.build(
      ModeStore.layerRedis({
        initial: DEFAULT_DOCUMENT,
        redis: { url: REDIS_URL },
        refreshInterval: `${REFRESH_MS} millis`,
        ...options
      }).pipe(Layer.provide(BackfillStatus.layerMemory(BACKFILL_VERIFIED)))
    ),
    Context.get(ModeStore)
  )))

const proxied = Effect.acquireRelease(
  Effect.promise(async () => {
    const proxy = new RedisProxy()
    await proxy.start()
    return proxy
  }),
  (proxy) => Effect.promise(() => proxy.stop())
)

const write = { method: "POST", path: "/api/portfolio/strategies", requestId: "r-1" }
const rejects = (store: ModeStore["Service"]) => getValidationDecision(store.current(), write).shouldReject
const lineageChanges = (outcome: "adopted" | "restored") =>
  Effect.map(Metric.value(Metric.withAttributes(modeLineageChangesTotal, { outcome })), (s) => s.count)

/** The document's identity: lineage, version and content. */
const same = (a: RolloutDocument, b: RolloutDocument) => JSON.stringify(a) === JSON.stringify(b)
/** `held`, restored: the same document marked `seeded: "restore"`. */
const restoredFrom = (doc: RolloutDocument, held: RolloutDocument) => same(doc, { ...held, seeded: "restore" })
const converged = (stores: ReadonlyArray<ModeStore["Service"]>) => () =>
  stores.every((s) => s.sync().synced && same(s.current(), stores[0]!.current()))

const cleanup = (prefix: string) =>
  Effect.promise(() => rawCommand("DEL", `${prefix}:document`, `${prefix}:history`)).pipe(Effect.ignore)

/** Polls an effectful predicate every 10 ms. */
const waitFor = <E>(predicate: Effect.Effect<boolean, E>, timeoutMs: number, what: string) =>
  Effect.gen(function*() {
    const start = Date.now()
    while (!(yield* predicate)) {
      if (Date.now() - start > timeoutMs) return yield* Effect.fail(new Error(`timed out after ${timeoutMs} ms: ${what}`))
      yield* Effect.sleep("10 millis")
    }
  })

const isolated = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map()))

/** A and B agree on an enforcing document at version 4 (through their own proxies). */
const enforcingPair = (prefix: string) =>
  Effect.gen(function*() {
    const proxyA = yield* proxied
    const proxyB = yield* proxied
    const a = yield* redisStore({ prefix, initial: ENFORCE, redis: { url: proxyA.url } })
    yield* waitUntil(() => a.current().version === 1, 5_000, "A seeds the empty store")
    for (const percent of [60, 80, 100]) {
      yield* a.set({ ...meta, document: { ...a.current(), enforcementPercent: percent }, expectedVersion: a.current().version })
    }
    const b = yield* redisStore({ prefix, initial: DEFAULT_DOCUMENT, redis: { url: proxyB.url } })
    yield* waitUntil(() => b.current().version === 4, 5_000, "B follows")
    assert.isTrue(rejects(a) && rejects(b))
    return { a, b, proxyA, proxyB }
  })

describe("the shared document's lineage (three instances, one prefix)", () => {
  it.live("lost, re-seeded and downgraded meanwhile: the old instances adopt the new lineage within the refresh interval, the downgrade reaches all, the mode API's versions work", () => {
    const logs = makeLogCollector()
    return Effect.gen(function*() {
      const prefix = uniquePrefix("lineage-adopt")
      const { a, b, proxyA, proxyB } = yield* enforcingPair(prefix)
      const before = a.current()

      // a partition, and meanwhile the store loses the document and an instance starts fresh
      proxyA.setMode("blackhole")
      proxyB.setMode("blackhole")
      yield* Effect.promise(() => rawCommand("DEL", `${prefix}:document`, `${prefix}:history`))
      const c = yield* redisStore({ prefix, initial: ENFORCE })
      yield* waitUntil(() => c.sync().synced && c.current().version === 1, 5_000, "C seeds version 1")
      assert.strictEqual(c.current().seeded, "boot")
      assert.isString(c.current().lineage)
      assert.notStrictEqual(c.current().lineage, before.lineage)
      const downgraded = yield* downgrade({ reason: "StageValidationBlastRadius firing", source: "webhook" }).pipe(
        Effect.provideService(ModeStore, c)
      )
      assert.strictEqual(downgraded.outcome, "downgraded")
      assert.strictEqual(c.current().version, 2)
      assert.isUndefined(c.current().seeded, "a changed seed is no longer an untouched boot seed")
      assert.isFalse(rejects(c))

      // the partition heals: every instance converges on the store's document
      proxyA.setMode("forward")
      proxyB.setMode("forward")
      const elapsed = yield* waitUntil(converged([c, a, b]), CONVERGENCE_BOUND_MS, "A and B adopt C's lineage")
      console.log(`lineage adopt: converged ${elapsed} ms after the partition healed (refresh interval ${REFRESH_MS} ms)`)
      assert.strictEqual(a.current().version, 2)
      assert.strictEqual(a.current().lineage, c.current().lineage)
      assert.isFalse(rejects(a) || rejects(b) || rejects(c), "the downgrade reached all three")
      assert.strictEqual(yield* lineageChanges("adopted"), 2)
      yield* waitFor(Effect.map(c.history(), (h) => h.length === 4), 2_000, "both adopt entries are recorded")
      const adopted = eventsNamed(logs.lines, "stage_validation.mode_lineage_changed")
      assert.lengthOf(adopted, 2)
      assert.include(adopted[0], { outcome: "adopted", heldVersion: 4, storeVersion: 2 })
      const history = yield* c.history()
      assert.deepStrictEqual(history.map((e) => e.action), ["adopt", "adopt", "downgrade", "seed"])

      // the mode API's contract: a change with the version an instance reports works, on each
      for (const [store, percent] of [[a, 10], [b, 20], [c, 30]] as const) {
        const { document } = yield* store.set({
          ...meta,
          document: { ...store.current(), enforcementPercent: percent },
          expectedVersion: store.current().version
        })
        assert.strictEqual(document.lineage, c.current().lineage)
        yield* waitUntil(converged([a, b, c]), 2_000, `all see ${percent} %`)
        assert.strictEqual(a.current().enforcementPercent, percent)
      }
      assert.strictEqual(c.current().version, 5)
      yield* cleanup(prefix)
    }).pipe(Effect.provide(logs.layer), isolated)
  })

  it.live("lost and re-seeded from a boot configuration nobody changed: the old instances restore the newest agreed document, the seeding instance follows", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("lineage-restore")
      const { a, b, proxyA, proxyB } = yield* enforcingPair(prefix)
      // the agreed state before the loss: downgraded to warn (the boot configuration enforces)
      yield* downgrade({ reason: "incident", source: "webhook" }).pipe(Effect.provideService(ModeStore, a))
      yield* waitUntil(() => b.current().version === 5, 2_000, "B sees the downgrade")
      const agreed = a.current()
      assert.isFalse(rejects(a) || rejects(b))

      proxyA.setMode("blackhole")
      proxyB.setMode("blackhole")
      yield* Effect.promise(() => rawCommand("DEL", `${prefix}:document`, `${prefix}:history`))
      const c = yield* redisStore({ prefix, initial: ENFORCE })
      yield* waitUntil(() => c.sync().synced && c.current().version === 1, 5_000, "C seeds version 1")
      assert.strictEqual(c.current().seeded, "boot")
      assert.isTrue(rejects(c), "C enforces its boot seed meanwhile")

      proxyA.setMode("forward")
      proxyB.setMode("forward")
      const elapsed = yield* waitUntil(converged([a, b, c]), CONVERGENCE_BOUND_MS, "all follow the restored document")
      console.log(`lineage restore: converged ${elapsed} ms after the partition healed (refresh interval ${REFRESH_MS} ms)`)
      assert.isTrue(restoredFrom(c.current(), agreed), "the previous lineage's newest document, not the boot default")
      assert.isFalse(rejects(a) || rejects(b) || rejects(c))
      assert.strictEqual(yield* lineageChanges("restored"), 1, "one instance restores; the other finds it restored")
      assert.strictEqual(yield* lineageChanges("adopted"), 1, "the seeding instance adopts it")
      yield* waitFor(Effect.map(c.history(), (h) => h.length === 3), 2_000, "the adopt entry is recorded")
      const history = yield* c.history()
      assert.deepStrictEqual(history.map((e) => e.action), ["adopt", "restore", "seed"])
      assert.strictEqual(history[1]?.from?.seeded, "boot")

      const { document } = yield* c.set({ ...meta, document: { ...c.current(), dryRun: true }, expectedVersion: c.current().version })
      assert.strictEqual(document.version, agreed.version + 1)
      assert.isUndefined(document.seeded, "a change drops the restore mark")
      yield* waitUntil(converged([a, b, c]), 2_000, "a change through C reaches A and B")
      assert.isTrue(a.current().dryRun && b.current().dryRun)
      yield* cleanup(prefix)
    }).pipe(Effect.provide(Logger.layer([])), isolated))

  it.live("two old instances restore different versions: the newest restore wins, whoever came first", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("lineage-restore-race")
      const { a, b, proxyA, proxyB } = yield* enforcingPair(prefix)
      proxyB.setMode("blackhole") // B stays at version 4
      yield* a.set({ ...meta, document: { ...a.current(), enforcementPercent: 50 }, expectedVersion: 4 })
      const newest = a.current()
      proxyA.setMode("blackhole")
      yield* Effect.promise(() => rawCommand("DEL", `${prefix}:document`, `${prefix}:history`))
      const c = yield* redisStore({ prefix, initial: DEFAULT_DOCUMENT })
      yield* waitUntil(() => c.sync().synced && c.current().seeded === "boot", 5_000, "C seeds")

      proxyB.setMode("forward") // the older instance heals first and restores version 4
      yield* waitUntil(() => c.current().version === 4 && c.current().seeded === "restore", CONVERGENCE_BOUND_MS, "B restores 4")
      proxyA.setMode("forward") // the newer one restores over that untouched restore
      yield* waitUntil(converged([a, b, c]), CONVERGENCE_BOUND_MS, "all on the newest document")
      assert.isTrue(restoredFrom(a.current(), newest))
      assert.strictEqual(b.current().enforcementPercent, 50)
      yield* cleanup(prefix)
    }).pipe(Effect.provide(Logger.layer([])), isolated))

  it.live("lost while the instances are connected: the first refresh restores the agreed document (no boot seed)", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("lineage-empty")
      const { a, b } = yield* enforcingPair(prefix)
      const agreed = a.current()
      yield* Effect.promise(() => rawCommand("DEL", `${prefix}:document`))
      yield* waitFor(
        Effect.promise(async () => (await rawCommand("EXISTS", `${prefix}:document`)) === ":1"),
        10 * REFRESH_MS,
        "the store holds a document again"
      )
      const c = yield* redisStore({ prefix, initial: DEFAULT_DOCUMENT })
      yield* waitUntil(converged([a, b, c]), 5_000, "all on one document")
      assert.isTrue(restoredFrom(c.current(), agreed))
      assert.isTrue(rejects(c))
      assert.strictEqual((yield* c.history(1))[0]?.action, "restore")
      yield* cleanup(prefix)
    }).pipe(Effect.provide(Logger.layer([])), isolated))
})

describe("an unreadable stored document never blocks a downgrade", () => {
  for (
    const [name, poison] of [
      ["a key this version does not know (a newer release's document)", (doc: RolloutDocument) =>
        JSON.stringify({ ...doc, version: doc.version + 1, futureSetting: { x: 1 } })],
      ["not JSON at all", () => "{ not json"]
    ] as const
  ) {
    it.live(`${name}: the downgrade replaces it (audited, original kept) and reaches all three instances`, () =>
      Effect.gen(function*() {
        const prefix = uniquePrefix("lineage-unreadable")
        const { a, b } = yield* enforcingPair(prefix)
        const c = yield* redisStore({ prefix })
        yield* waitUntil(converged([a, b, c]), 5_000, "three instances agree")
        const raw = poison(a.current())
        yield* Effect.promise(() => rawCommand("SET", `${prefix}:document`, raw))
        assert.strictEqual((yield* Effect.flip(a.refresh)).reason._tag, "InvalidDocument")

        const result = yield* downgrade({ reason: "StageValidationBlastRadius firing", source: "webhook" }).pipe(
          Effect.provideService(ModeStore, b)
        )
        assert.strictEqual(result.outcome, "downgraded")
        assert.strictEqual(result.document.version, 5)
        assert.strictEqual(result.document.defaultMode, "warn")
        yield* waitUntil(converged([a, b, c]), 10 * REFRESH_MS, "the downgrade reaches all three")
        assert.isFalse(rejects(a) || rejects(b) || rejects(c))
        const [entry] = yield* c.history(1)
        assert.strictEqual(entry?.action, "downgrade")
        assert.strictEqual(entry?.outcome, "applied")
        assert.strictEqual(entry?.replaced, raw, "the unreadable original is kept in the audit entry")
        assert.strictEqual(yield* Effect.promise(() => rawCommand("EXISTS", `${prefix}:document`)), ":1")
        yield* cleanup(prefix)
      }).pipe(Effect.provide(Logger.layer([])), isolated))
  }
})

describe("lineage bookkeeping", () => {
  it.effect("a change keeps the store's lineage and drops the seed mark: lineage and seeded in a request are ignored", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      const { document } = yield* store.set({
        ...meta,
        document: { ...store.current(), lineage: "someone-else", seeded: "boot", enforcementPercent: 40 },
        expectedVersion: 0
      })
      assert.strictEqual(document.version, 1)
      assert.isUndefined(document.lineage, "a memory store stays in the legacy lineage")
      assert.isUndefined(document.seeded)
      // a document read back from GET …/mode and sent again changes nothing
      const again = yield* store.set({ ...meta, document: { ...document }, expectedVersion: 1 })
      assert.isUndefined(again.entry)
    }).pipe(Effect.provide(
      ModeStore.layerMemory(DEFAULT_DOCUMENT).pipe(Layer.provide(BackfillStatus.layerMemory(BACKFILL_VERIFIED)))
    )))

  it.live("a legacy stored document (no lineage) is the legacy lineage: adopted as before, changes keep it lineage-less", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("lineage-legacy")
      yield* Effect.promise(assertRedisReachable)
      yield* Effect.promise(() => rawCommand("SET", `${prefix}:document`, JSON.stringify({ ...ENFORCE, version: 7 })))
      const a = yield* redisStore({ prefix })
      const b = yield* redisStore({ prefix })
      yield* waitUntil(converged([a, b]), 5_000, "both read the legacy document")
      assert.strictEqual(a.current().version, 7)
      assert.isUndefined(a.current().lineage)
      const { document } = yield* b.set({ ...meta, document: { enforcementPercent: 50 }, expectedVersion: 7 })
      assert.isUndefined(document.lineage)
      yield* waitUntil(() => a.current().version === 8, 2_000, "A follows")
      assert.strictEqual(yield* lineageChanges("adopted"), 0)
      assert.notInclude(yield* Effect.promise(() => rawCommand("GET", `${prefix}:document`)), "lineage")
      yield* cleanup(prefix)
    }).pipe(Effect.provide(Logger.layer([])), isolated))

  it.live("a change into an empty store from an instance that never read one starts a lineage (not seeded)", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("lineage-first-change")
      const a = yield* redisStore({ prefix, seedIfEmpty: false })
      yield* waitUntil(() => a.sync().synced, 5_000, "the empty store answered")
      const { document } = yield* a.set({ ...meta, document: { enforcementPercent: 20 }, expectedVersion: 0 })
      assert.isString(document.lineage)
      assert.isUndefined(document.seeded)
      yield* cleanup(prefix)
    }).pipe(Effect.provide(Logger.layer([])), isolated))
})

describe("an instance that has not read the store yet", () => {
  it.live("refresh returns the stored document (not the boot one), so its first downgrade acts on it", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("lineage-first-read")
      yield* Effect.promise(assertRedisReachable)
      yield* Effect.promise(() => rawCommand("SET", `${prefix}:document`, JSON.stringify({ ...ENFORCE, version: 3 })))
      const proxy = yield* proxied
      proxy.setMode("down")
      const a = yield* redisStore({ prefix, redis: { url: proxy.url }, seedIfEmpty: false })
      proxy.setMode("forward")
      // the first refresh that reaches Redis (the background read may or may not have come first)
      let refreshed: RolloutDocument | undefined
      yield* waitFor(
        Effect.map(Effect.result(a.refresh), (r) => {
          if (r._tag === "Success") refreshed = r.success
          return r._tag === "Success"
        }),
        5_000,
        "Redis answers"
      )
      assert.strictEqual(refreshed?.version, 3)
      const result = yield* downgrade({ reason: "first read", source: "webhook" }).pipe(Effect.provideService(ModeStore, a))
      assert.strictEqual(result.outcome, "downgraded")
      assert.strictEqual(result.document.version, 4)
      yield* cleanup(prefix)
    }).pipe(Effect.provide(Logger.layer([])), isolated))
})
