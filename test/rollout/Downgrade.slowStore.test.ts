/**
 * A downgrade through a slow shared store (issue 25, defect 3, store level): with every Redis
 * reply held back 300 ms by the harness' proxy, the store's own 100 ms reads fail, but a downgrade
 * — whose store commands may wait `storeTimeout` (default 5 s) — gets through; one that still
 * cannot is counted in `stage_validation_downgrade_failures_total{reason}`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Logger, Metric } from "effect"
import { downgradeFailuresTotal } from "../../src/observability/DowngradeMetrics.ts"
import {
  BACKFILL_VERIFIED,
  BackfillStatus,
  DEFAULT_DOCUMENT,
  downgrade,
  ModeStore,
  type StageValidationConfig
} from "../../src/rollout/index.ts"
import { assertRedisReachable, rawCommand, RedisProxy, uniquePrefix, waitUntil } from "./redisHarness.ts"

const ENFORCE: StageValidationConfig = { ...DEFAULT_DOCUMENT, defaultMode: "enforce", enforcementPercent: 100 }

const slowStore = (prefix: string) =>
  Effect.gen(function*() {
    yield* Effect.promise(assertRedisReachable)
    const proxy = new RedisProxy()
    yield* Effect.acquireRelease(Effect.promise(() => proxy.start("forward")), () => Effect.promise(() => proxy.stop()))
    yield* Effect.addFinalizer(() => Effect.promise(() => rawCommand("DEL", `${prefix}:document`, `${prefix}:history`)).pipe(Effect.ignore))
    const store = Context.get(
      yield* Layer.build(
        ModeStore.layerRedis({ initial: ENFORCE, prefix, redis: { url: proxy.url }, refreshInterval: "100 millis" })
          .pipe(Layer.provide(BackfillStatus.layerMemory(BACKFILL_VERIFIED)))
      ),
      ModeStore
    )
    yield* waitUntil(() => store.sync().synced, 5_000, "synced")
    proxy.delayMs = 300
    proxy.setMode("delay")
    return store
  })

const failures = (reason: string) =>
  Effect.map(Metric.value(Metric.withAttributes(downgradeFailuresTotal, { reason })), (s) => s.count)

const isolated = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.scoped, Effect.provide(Logger.layer([])), Effect.provideService(Metric.MetricRegistry, new Map()))

describe("downgrade through a slow store", () => {
  it.live("the store's 100 ms reads fail, the downgrade gets through", () =>
    isolated(Effect.gen(function*() {
      const store = yield* slowStore(uniquePrefix("downgrade-slow"))
      const read = yield* Effect.flip(store.refresh)
      assert.match(read.message, /did not answer within 100/)
      const result = yield* downgrade({ reason: "slow store", source: "webhook" }).pipe(Effect.provideService(ModeStore, store))
      assert.strictEqual(result.outcome, "downgraded")
      assert.strictEqual(store.current().defaultMode, "warn")
      assert.strictEqual(yield* failures("unavailable"), 0)
    })), 20_000)

  it.live("a store slower than the downgrade's timeout: a typed failure, counted by reason", () =>
    isolated(Effect.gen(function*() {
      const store = yield* slowStore(uniquePrefix("downgrade-too-slow"))
      const error = yield* Effect.flip(
        downgrade({ reason: "too slow", source: "cli", storeTimeout: "150 millis" }).pipe(Effect.provideService(ModeStore, store))
      )
      assert.strictEqual(error._tag, "ModeStoreError")
      assert.strictEqual(yield* failures("unavailable"), 1)
      assert.strictEqual(store.current().defaultMode, "enforce")
    })), 20_000)
})
