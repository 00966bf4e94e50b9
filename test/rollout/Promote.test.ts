import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Ref } from "effect"
import {
  BACKFILL_PENDING,
  BACKFILL_VERIFIED,
  type BackfillState,
  BackfillStatus,
  DEFAULT_DOCUMENT,
  type MetricsSnapshot,
  MetricsSource,
  MetricsSourceError,
  ModeStore,
  nextRampStep,
  promote,
  type StageValidationConfig
} from "../../src/rollout/index.ts"

const healthy: MetricsSnapshot = {
  requests: 20_000,
  wouldRejectRatio: 0.001,
  validatorP99Seconds: 0.0003,
  errorRatio: 0,
  unknownStageRatio: 0.001,
  activeAlerts: []
}
const meta = { actor: "ops@example.com", reason: "weekly ramp", source: "cli" as const }
// Phase 3: writes enforced (write-only), stepping the percentage
const phase3: StageValidationConfig = { ...DEFAULT_DOCUMENT, defaultMode: "enforce", enforceWriteOnly: true, enforcementPercent: 10 }

const env = (
  initial: StageValidationConfig,
  snapshots: ReadonlyArray<MetricsSnapshot>,
  backfill: BackfillState = BACKFILL_PENDING
) =>
  Layer.mergeAll(
    ModeStore.layerMemory(initial).pipe(Layer.provide(BackfillStatus.layerMemory(backfill))),
    MetricsSource.layerMemory(snapshots)
  )

describe("ramp", () => {
  it("steps 10 → 25 → 50 → 100 by default, from anywhere", () => {
    assert.strictEqual(nextRampStep(0), 10)
    assert.strictEqual(nextRampStep(10), 25)
    assert.strictEqual(nextRampStep(25), 50)
    assert.strictEqual(nextRampStep(50), 100)
    assert.strictEqual(nextRampStep(60), 100)
    assert.isUndefined(nextRampStep(100))
    assert.strictEqual(nextRampStep(5, [50, 5, 20]), 20)
  })
})

describe("promote", () => {
  it.effect("advances exactly one step when N consecutive windows pass, audited as a promotion", () =>
    Effect.gen(function*() {
      const result = yield* promote(meta)
      assert.strictEqual(result.outcome, "promoted")
      assert.strictEqual(result.verdict, "pass")
      assert.strictEqual(result.fromPercent, 10)
      assert.strictEqual(result.toPercent, 25)
      assert.strictEqual(result.windows.length, 3)
      assert.strictEqual(result.table.length, 6)
      const store = yield* ModeStore
      assert.strictEqual(store.current().enforcementPercent, 25)
      const [entry] = yield* store.history()
      assert.strictEqual(entry?.action, "promote")
      assert.isFalse(entry?.forced)
      assert.deepStrictEqual(entry?.diff, [{ path: "enforcementPercent", from: 10, to: 25 }])
      const again = yield* promote(meta)
      assert.strictEqual(again.toPercent, 50)
      assert.strictEqual(store.current().enforcementPercent, 50)
    }).pipe(Effect.provide(env(phase3, [healthy, healthy, healthy]))))

  it.effect("holds on a failing or inconclusive gate; the attempt is audited as refused", () =>
    Effect.gen(function*() {
      const ref = yield* Ref.make<ReadonlyArray<MetricsSnapshot>>([healthy, { ...healthy, errorRatio: 0.01 }, healthy])
      yield* Effect.gen(function*() {
        const store = yield* ModeStore
        const failed = yield* promote(meta)
        assert.strictEqual(failed.outcome, "held")
        assert.strictEqual(failed.verdict, "fail")
        assert.strictEqual(store.current().enforcementPercent, 10)
        yield* Ref.set(ref, [healthy, healthy, { ...healthy, requests: 5 }])
        const quiet = yield* promote(meta)
        assert.strictEqual(quiet.verdict, "inconclusive")
        assert.strictEqual(quiet.outcome, "held")
        yield* Ref.set(ref, [healthy, healthy])
        assert.strictEqual((yield* promote(meta)).verdict, "inconclusive")
        assert.strictEqual(store.current().version, 0)
        const history = yield* store.history()
        assert.deepStrictEqual(history.map((e) => [e.action, e.outcome]), [
          ["promote", "refused"],
          ["promote", "refused"],
          ["promote", "refused"]
        ])
      }).pipe(
        Effect.provide(
          Layer.mergeAll(
            ModeStore.layerMemory(phase3).pipe(Layer.provide(BackfillStatus.layerMemory(BACKFILL_PENDING))),
            MetricsSource.layerRef(ref)
          )
        )
      )
    }))

  it.effect("force overrides the gate and is audited as forced", () =>
    Effect.gen(function*() {
      const result = yield* promote({ ...meta, force: true })
      assert.strictEqual(result.outcome, "forced")
      assert.strictEqual(result.verdict, "fail")
      const store = yield* ModeStore
      assert.strictEqual(store.current().enforcementPercent, 25)
      const [entry] = yield* store.history()
      assert.isTrue(entry?.forced)
      assert.include(entry?.reason ?? "", "forced past the gate")
    }).pipe(Effect.provide(env(phase3, [{ ...healthy, activeAlerts: ["StageValidationBlastRadius"] }]))))

  it.effect("a metrics outage is inconclusive and holds the ramp, never a pass", () =>
    Effect.gen(function*() {
      const result = yield* promote(meta)
      assert.strictEqual(result.verdict, "inconclusive")
      assert.strictEqual(result.outcome, "held")
      assert.include(result.reasons[0]!, "prometheus down")
    }).pipe(
      Effect.provide(
        Layer.mergeAll(
          ModeStore.layerMemory(phase3).pipe(Layer.provide(BackfillStatus.layerMemory(BACKFILL_PENDING))),
          Layer.succeed(
            MetricsSource,
            MetricsSource.of({ snapshots: () => Effect.fail(new MetricsSourceError({ message: "prometheus down" })) })
          )
        )
      )
    ))

  it.effect("stops at the last step; the policy is configurable", () =>
    Effect.gen(function*() {
      const custom = yield* promote({ ...meta, policy: { ramp: [10, 15, 100], requiredPasses: 1 } })
      assert.strictEqual(custom.toPercent, 15)
      yield* promote({ ...meta, policy: { ramp: [10, 15, 100], requiredPasses: 1 } })
      const done = yield* promote(meta)
      assert.strictEqual(done.outcome, "at-final-step")
      assert.strictEqual((yield* ModeStore).current().enforcementPercent, 100)
    }).pipe(Effect.provide(env(phase3, [healthy, healthy, healthy]))))

  it.effect("the finalisation guard applies: promoting read enforcement needs a verified backfill (or force)", () =>
    Effect.gen(function*() {
      const readsAt10 = { ...phase3, enforceWriteOnly: false }
      const refused = yield* Effect.flip(
        promote(meta).pipe(Effect.provide(env(readsAt10, [healthy, healthy, healthy], BACKFILL_PENDING)))
      )
      assert.strictEqual(refused._tag, "BackfillNotVerifiedError")
      const ok = yield* promote(meta).pipe(Effect.provide(env(readsAt10, [healthy, healthy, healthy], BACKFILL_VERIFIED)))
      assert.strictEqual(ok.outcome, "promoted")
    }))
})
