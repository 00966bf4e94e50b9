/**
 * Audited text is text at the store (issue 25, defect 6): a library caller that writes a change
 * straight through the `ModeStore` with control characters in `actor`/`reason` gets a typed
 * `ModeStoreError` and nothing changes; the downgrade, whose reason quotes the alert's payload,
 * escapes and bounds its own text first, so the one change that makes things safer still gets
 * through.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { downgrade, ModeStore, PRODUCTION_CONFIG } from "../../src/rollout/index.ts"
import { memoryStore } from "./helpers.ts"

const forged = "ramp\r\n2026-01-01T00:00:00.000Z  99  set  applied  cli  ceo  (forged)\u001b[31m"

describe("ModeStore: audited text", () => {
  it.effect("set, modify and audit refuse control characters with a typed error; nothing is written", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      const before = store.current()
      const set = yield* Effect.flip(store.set({
        expectedVersion: before.version,
        document: { ...before, defaultMode: "warn" },
        actor: "ops",
        reason: forged,
        source: "api"
      }))
      assert.isTrue(set._tag === "ModeStoreError" && set.reason._tag === "InvalidDocument")
      assert.match(set.message, /reason must not contain control characters \(found \\u000d at position 5\)/)
      const modify = yield* Effect.flip(store.modify({
        actor: "ops\u202e",
        reason: "ramp",
        source: "cli",
        update: (d) => ({ ...d, enforcementPercent: 10 })
      }))
      assert.match(modify.message, /actor must not contain control characters/)
      const audit = yield* Effect.flip(store.audit({ actor: "ops", reason: "\u0000", source: "cli", action: "set", outcome: "refused" }))
      assert.match(audit.message, /reason must not contain control characters/)
      assert.deepStrictEqual(store.current(), before)
      assert.deepStrictEqual(yield* store.history(), [])
    }).pipe(Effect.provide(memoryStore(PRODUCTION_CONFIG))))

  it.effect("a downgrade whose reason quotes a payload with CR/LF, ESC and 3,000 characters still downgrades, its text escaped", () =>
    Effect.gen(function*() {
      const store = yield* ModeStore
      const result = yield* downgrade({ reason: `StageValidationBlastRadius firing (groupKey ${forged}${"x".repeat(3_000)})`, source: "webhook" })
      assert.strictEqual(result.outcome, "downgraded")
      const [entry] = yield* store.history(1)
      assert.strictEqual(entry?.action, "downgrade")
      assert.isAtMost(entry!.reason.length, 500)
      // oxlint-disable-next-line no-control-regex -- the test looks for raw control characters
      assert.notMatch(entry!.reason, /[\u0000-\u001f\u007f-\u009f]/)
      assert.include(entry!.reason, "\\u000d\\u000a")
      // a repeat is still recognised as one (the cooldown compares the stored, escaped reason)
      const again = yield* downgrade({ reason: `StageValidationBlastRadius firing (groupKey ${forged}${"x".repeat(3_000)})`, source: "webhook" })
      assert.strictEqual(again.outcome, "duplicate")
    }).pipe(Effect.provide(memoryStore(PRODUCTION_CONFIG))))
})
