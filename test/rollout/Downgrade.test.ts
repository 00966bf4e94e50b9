import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import {
  DEFAULT_DOCUMENT,
  downgrade,
  getValidationDecision,
  ModeStore,
  PRODUCTION_CONFIG
} from "../../src/rollout/index.ts"
import { downgradeDocument } from "../../src/rollout/Downgrade.ts"
import { memoryStore } from "./helpers.ts"

const firing = { reason: "StageValidationBlastRadius firing", source: "webhook" as const }

describe("downgradeDocument", () => {
  it("turns every enforce into warn and write-only enforcement off, keeping the rest", () => {
    const doc = { ...PRODUCTION_CONFIG, defaultMode: "enforce" as const, dryRun: true }
    const d = downgradeDocument(doc)
    assert.strictEqual(d.defaultMode, "warn")
    assert.deepStrictEqual(d.endpointMode, { "/api/portfolio/strategies": "warn", "/api/monte-carlo/simulate": "warn" })
    assert.isFalse(d.enforceWriteOnly)
    assert.isTrue(d.dryRun)
    assert.strictEqual(d.enforcementPercent, doc.enforcementPercent)
  })

  it("the result never rejects a request", () => {
    const d = downgradeDocument({ ...PRODUCTION_CONFIG, enforcementPercent: 100 })
    for (const method of ["GET", "POST", "PUT", "DELETE"]) {
      for (const path of ["/api/portfolio/strategies", "/api/monte-carlo/simulate", "/api/funds/1/companies", "/x"]) {
        assert.isFalse(getValidationDecision(d, { method, path, requestId: "r" }).shouldReject)
      }
    }
  })

  it("keeps off as off", () => {
    assert.strictEqual(downgradeDocument({ ...DEFAULT_DOCUMENT, defaultMode: "off" }).defaultMode, "off")
  })
})

describe("downgrade", () => {
  it.effect("enforce → warn, audited with the webhook as source", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      const result = yield* downgrade(firing)
      assert.strictEqual(result.outcome, "downgraded")
      assert.strictEqual(store.current().endpointMode["/api/portfolio/strategies"], "warn")
      assert.isFalse(store.current().enforceWriteOnly)
      const [entry] = yield* store.history()
      assert.strictEqual(entry?.action, "downgrade")
      assert.strictEqual(entry?.source, "webhook")
      assert.strictEqual(entry?.actor, "webhook")
      assert.strictEqual(entry?.outcome, "applied")
    }).pipe(Effect.provide(memoryStore(PRODUCTION_CONFIG))))

  it.effect("is idempotent: a repeat is a duplicate, a new alert while already in warn is already_downgraded; neither changes anything", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      yield* downgrade(firing)
      const version = store.current().version
      const again = yield* downgrade(firing)
      const other = yield* downgrade({ ...firing, reason: "EnforceGateUnknownRateHigh firing" })
      assert.strictEqual(again.outcome, "duplicate")
      assert.strictEqual(other.outcome, "already_downgraded")
      assert.strictEqual(store.current().version, version)
      const history = yield* store.history()
      assert.deepStrictEqual(history.map((e) => e.outcome), ["already_downgraded", "duplicate", "applied"])
      assert.match(history[0]!.reason, /already downgraded/)
    }).pipe(Effect.provide(memoryStore(PRODUCTION_CONFIG))))

  it.effect("within the cooldown a repeat is a duplicate, but re-armed enforcement is always downgraded", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      yield* downgrade({ ...firing, cooldown: "10 minutes" })
      yield* TestClock.adjust("1 minute")
      const repeat = yield* downgrade({ ...firing, cooldown: "10 minutes" })
      assert.strictEqual(repeat.outcome, "duplicate")
      const [last] = yield* store.history(1)
      assert.match(last!.reason, /repeat within the cooldown/)
      // a person re-arms enforcement and the incident comes back within the cooldown
      yield* store.modify({
        actor: "ops@example.com",
        reason: "re-enable",
        source: "cli",
        action: "promote",
        update: (d) => ({
          ...d,
          enforceWriteOnly: true,
          endpointMode: { ...d.endpointMode, "/api/portfolio/strategies": "enforce" }
        })
      })
      yield* TestClock.adjust("4 minutes")
      const again = yield* downgrade({ ...firing, cooldown: "10 minutes" })
      assert.strictEqual(again.outcome, "downgraded")
      assert.strictEqual(store.current().endpointMode["/api/portfolio/strategies"], "warn")
      assert.isFalse(store.current().enforceWriteOnly)
    }).pipe(Effect.provide(memoryStore(PRODUCTION_CONFIG))))

  it.effect("the same alert after the cooldown, nothing enforcing, is already_downgraded (not a repeat)", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      yield* downgrade({ ...firing, cooldown: "10 minutes" })
      yield* TestClock.adjust("11 minutes")
      const later = yield* downgrade({ ...firing, cooldown: "10 minutes" })
      assert.strictEqual(later.outcome, "already_downgraded")
      const [last] = yield* store.history(1)
      assert.strictEqual(last?.outcome, "already_downgraded")
    }).pipe(Effect.provide(memoryStore(PRODUCTION_CONFIG))))

  it.effect("a resolved signal never re-arms enforcement; it is audited as ignored", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      yield* downgrade(firing)
      const downgraded = store.current()
      yield* TestClock.adjust("1 hour")
      const resolved = yield* downgrade({ ...firing, signal: "resolved" })
      assert.strictEqual(resolved.outcome, "ignored")
      assert.strictEqual(store.current(), downgraded)
      const [entry] = yield* store.history()
      assert.strictEqual(entry?.action, "resolved")
      assert.strictEqual(entry?.outcome, "ignored")
    }).pipe(Effect.provide(memoryStore(PRODUCTION_CONFIG))))
})
