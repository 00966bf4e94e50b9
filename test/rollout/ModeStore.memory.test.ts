import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Metric, Ref, Stream } from "effect"
import {
  enforcementPercentGauge,
  modeChangesTotal,
  validationModeGauge
} from "../../src/observability/index.ts"
import {
  BACKFILL_PENDING,
  BACKFILL_VERIFIED,
  type BackfillState,
  BackfillStatus,
  BackfillStatusError,
  DEFAULT_DOCUMENT,
  encodeRolloutDocument,
  ModeStore,
  PRODUCTION_CONFIG
} from "../../src/rollout/index.ts"
import { eventsNamed, makeLogCollector, memoryStore } from "./helpers.ts"

const meta = { actor: "ops@example.com", reason: "test", source: "cli" as const }

describe("ModeStore.layerMemory", () => {
  it.effect("serves the boot document, then a validated, versioned, audited set", () =>
    Effect.gen(function*() {
      const logs = makeLogCollector()
      yield* Effect.gen(function*() {
        const store = yield* ModeStore
        assert.deepStrictEqual(store.current(), DEFAULT_DOCUMENT)
        assert.strictEqual(yield* store.get, store.current())
        const { document, entry } = yield* store.set({
          ...meta,
          document: { ...encodeRolloutDocument(DEFAULT_DOCUMENT), enforcementPercent: 25, dryRun: true },
          expectedVersion: 0
        })
        assert.strictEqual(document.version, 1)
        assert.strictEqual(store.current(), document)
        assert.strictEqual(store.current().enforcementPercent, 25)
        assert.isDefined(entry)
        assert.deepStrictEqual(entry!.diff, [
          { path: "dryRun", from: false, to: true },
          { path: "enforcementPercent", from: 100, to: 25 }
        ])
        assert.strictEqual(entry!.version, 1)
        assert.strictEqual(entry!.source, "cli")
        assert.strictEqual(entry!.outcome, "applied")
        const history = yield* store.history()
        assert.strictEqual(history.length, 1)
        assert.deepStrictEqual(history[0], entry)
      }).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT)), Effect.provide(logs.layer))

      const audits = eventsNamed(logs.lines, "stage_validation.audit")
      assert.strictEqual(audits.length, 1)
      const line = audits[0]!
      for (const field of ["from", "to", "diff", "actor", "reason", "source", "at", "version"]) {
        assert.property(line, field)
      }
      assert.strictEqual(line["actor"], "ops@example.com")
      assert.strictEqual(line["version"], 1)
      assert.match(String(line["at"]), /^\d{4}-\d{2}-\d{2}T/)
    }))

  it.effect("compare-and-set: a stale version is a VersionConflict and changes nothing", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      yield* store.set({ ...meta, document: { enforcementPercent: 50 }, expectedVersion: 0 })
      const error = yield* Effect.flip(store.set({ ...meta, document: { enforcementPercent: 10 }, expectedVersion: 0 }))
      assert.strictEqual(error._tag, "ModeStoreError")
      if (error._tag !== "ModeStoreError") return
      assert.deepStrictEqual(error.reason, { _tag: "VersionConflict", expected: 0, actual: 1 })
      assert.isTrue(error.isRetryable)
      assert.strictEqual(store.current().enforcementPercent, 50)
      assert.strictEqual((yield* store.history()).length, 1)
    }).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT))))

  it.effect("concurrent writers on one version: exactly one wins", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      const results = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => i + 1),
        (p) => Effect.result(store.set({ ...meta, document: { enforcementPercent: p }, expectedVersion: 0 })),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(results.filter((r) => r._tag === "Success").length, 1)
      assert.strictEqual(store.current().version, 1)
    }).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT))))

  it.effect("rejects invalid documents (unknown keys, out-of-range values) without changing anything", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      const before = store.current()
      for (const document of [{ enforcmentPercent: 10 }, { enforcementPercent: 101 }, { defaultMode: "strict" }, "x"]) {
        const error = yield* Effect.flip(store.set({ ...meta, document, expectedVersion: 0 }))
        assert.strictEqual(error._tag, "ModeStoreError")
        if (error._tag === "ModeStoreError") {
          assert.strictEqual(error.reason._tag, "InvalidDocument")
          assert.isFalse(error.isRetryable)
        }
      }
      assert.strictEqual(store.current(), before)
      assert.strictEqual((yield* store.history()).length, 0)
    }).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT))))

  it.effect("an invalid boot document fails the layer with a typed InvalidDocument, never a defect", () =>
    Effect.gen(function*() {
      const invalid = { ...DEFAULT_DOCUMENT, enforcementPercent: 101 }
      const exit = yield* Effect.exit(Layer.build(memoryStore(invalid)))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) assert.isFalse(Cause.hasDies(exit.cause))
      const error = yield* Effect.flip(Layer.build(memoryStore(invalid)))
      assert.strictEqual(error._tag, "ModeStoreError")
      assert.strictEqual(error.reason._tag, "InvalidDocument")
      assert.isFalse(error.isRetryable)
      assert.include(error.message, "boot document")
      assert.include(error.message, "enforcementPercent must be within 0..100")
    }).pipe(Effect.scoped))

  it.effect("the same content again changes nothing and records nothing", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      const result = yield* store.set({ ...meta, document: encodeRolloutDocument(DEFAULT_DOCUMENT), expectedVersion: 0 })
      assert.isUndefined(result.entry)
      assert.strictEqual(store.current().version, 0)
    }).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT))))

  it.effect("modify applies a function to the current document; changes streams current then updates", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      const collected = yield* store.changes.pipe(Stream.take(3), Stream.runCollect, Effect.forkChild)
      yield* Effect.yieldNow
      yield* store.modify({ ...meta, update: (d) => ({ ...d, enforcementPercent: 10 }) })
      yield* store.modify({ ...meta, update: (d) => ({ ...d, enforcementPercent: d.enforcementPercent * 2 }) })
      const docs = yield* Fiber.join(collected)
      assert.deepStrictEqual(docs.map((d) => [d.version, d.enforcementPercent]), [[0, 100], [1, 10], [2, 20]])
      const invalid = yield* Effect.flip(store.modify({ ...meta, update: (d) => ({ ...d, enforcementPercent: 500 }) }))
      assert.strictEqual(invalid._tag, "ModeStoreError")
    }).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT))))

  it.effect("history is a bounded ring, newest first", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      for (let p = 1; p <= 8; p++) {
        yield* store.modify({ ...meta, reason: `step ${p}`, update: (d) => ({ ...d, enforcementPercent: p }) })
      }
      const history = yield* store.history(100)
      assert.deepStrictEqual(history.map((e) => e.reason), ["step 8", "step 7", "step 6", "step 5", "step 4"])
      assert.deepStrictEqual((yield* store.history(2)).map((e) => e.version), [8, 7])
    }).pipe(
      Effect.provide(ModeStore.layerMemory(DEFAULT_DOCUMENT, { historyLimit: 5 })),
      Effect.provide(BackfillStatus.layerMemory(BACKFILL_PENDING))
    ))

  it.effect("records metrics: changes by source, mode gauge 0/1, enforcement percent gauge", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      const webhookChanges = Metric.withAttributes(modeChangesTotal, { source: "webhook" })
      const before = (yield* Metric.value(webhookChanges)).count
      yield* store.set({ ...meta, source: "webhook", document: { defaultMode: "off", enforcementPercent: 40 }, expectedVersion: 0 })
      assert.strictEqual((yield* Metric.value(webhookChanges)).count, before + 1)
      assert.strictEqual((yield* Metric.value(enforcementPercentGauge)).value, 40)
      assert.strictEqual((yield* Metric.value(Metric.withAttributes(validationModeGauge, { mode: "off" }))).value, 1)
      assert.strictEqual((yield* Metric.value(Metric.withAttributes(validationModeGauge, { mode: "warn" }))).value, 0)
    }).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT)), Effect.provideService(Metric.MetricRegistry, new Map())))
})

describe("finalisation guard (through the store)", () => {
  const enforceReads = { defaultMode: "enforce", enforcementPercent: 10 }

  it.effect("refuses moving reads into enforcement before the backfill is verified, and audits the refusal", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      const error = yield* Effect.flip(store.set({ ...meta, document: enforceReads, expectedVersion: 0 }))
      assert.strictEqual(error._tag, "BackfillNotVerifiedError")
      assert.include(error.message, "not migrated")
      assert.strictEqual(store.current().version, 0)
      const [refusal] = yield* store.history()
      assert.strictEqual(refusal?.outcome, "refused")
      assert.strictEqual(refusal?.version, 0)
      assert.deepStrictEqual(refusal?.diff, [
        { path: "defaultMode", from: "warn", to: "enforce" },
        { path: "enforcementPercent", from: 100, to: 10 }
      ])
    }).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT, BACKFILL_PENDING))))

  it.effect("a forced change goes through and is audited as forced", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      const { entry } = yield* store.set({ ...meta, document: enforceReads, expectedVersion: 0, force: true })
      assert.isTrue(entry?.forced)
      assert.strictEqual(store.current().defaultMode, "enforce")
    }).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT, BACKFILL_PENDING))))

  it.effect("write-only enforcement and shadow mode stay allowed; a verified backfill allows reads", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      yield* store.set({ ...meta, document: { ...enforceReads, enforceWriteOnly: true }, expectedVersion: 0 })
      yield* store.set({ ...meta, document: { ...enforceReads, dryRun: true }, expectedVersion: 1 })
      assert.strictEqual(store.current().version, 2)
    }).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT, BACKFILL_PENDING))))

  it.effect("verified backfill: reads may be enforced", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      const { entry } = yield* store.set({ ...meta, document: enforceReads, expectedVersion: 0 })
      assert.isFalse(entry?.forced)
    }).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT, BACKFILL_VERIFIED))))

  it.effect("migrated but unverified, or a failing status check, still refuses", () =>
    Effect.gen(function*() {
      const ref = yield* Ref.make<BackfillState>({ migrated: true, verified: false, detail: "verify pending" })
      const refused = yield* Effect.flip(
        ModeStore.use((s) => s.set({ ...meta, document: enforceReads, expectedVersion: 0 })).pipe(
          Effect.provide(ModeStore.layerMemory(DEFAULT_DOCUMENT).pipe(Layer.provide(BackfillStatus.layerRef(ref))))
        )
      )
      assert.strictEqual(refused._tag, "BackfillNotVerifiedError")
      assert.include(refused.message, "verify pending")
      const failing = Layer.succeed(
        BackfillStatus,
        BackfillStatus.of({ status: Effect.fail(new BackfillStatusError({ message: "db down" })) })
      )
      const refused2 = yield* Effect.flip(
        ModeStore.use((s) => s.set({ ...meta, document: enforceReads, expectedVersion: 0 })).pipe(
          Effect.provide(ModeStore.layerMemory(DEFAULT_DOCUMENT).pipe(Layer.provide(failing)))
        )
      )
      assert.strictEqual(refused2._tag, "BackfillNotVerifiedError")
      assert.include(refused2.message, "db down")
    }))

  it.effect("a boot document enforcing reads is applied as given, with one structured warning; lowering it is allowed", () =>
    Effect.gen(function*() {
      const logs = makeLogCollector()
      const boot = { ...DEFAULT_DOCUMENT, defaultMode: "enforce" as const, enforcementPercent: 50 }
      yield* Effect.gen(function*() {
        const store = yield* ModeStore
        assert.strictEqual(store.current().defaultMode, "enforce")
        yield* store.modify({ ...meta, update: (d) => ({ ...d, enforcementPercent: 25 }) })
        const raise = yield* Effect.flip(store.modify({ ...meta, update: (d) => ({ ...d, enforcementPercent: 60 }) }))
        assert.strictEqual(raise._tag, "BackfillNotVerifiedError")
      }).pipe(Effect.provide(memoryStore(boot, BACKFILL_PENDING)), Effect.provide(logs.layer))
      const warnings = eventsNamed(logs.lines, "stage_validation.boot_enforces_reads_before_backfill")
      assert.strictEqual(warnings.length, 1)
      assert.strictEqual(warnings[0]?.["enforcementPercent"], 50)

      const quiet = makeLogCollector()
      yield* ModeStore.use((s) => s.get).pipe(
        Effect.provide(memoryStore(PRODUCTION_CONFIG, BACKFILL_PENDING)),
        Effect.provide(quiet.layer)
      )
      assert.strictEqual(eventsNamed(quiet.lines, "stage_validation.boot_enforces_reads_before_backfill").length, 0)
    }))
})
