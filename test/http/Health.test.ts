/**
 * `/readyz` names why a check fails (an `Error`'s message, a string, a timeout), and the mode
 * store's check follows the store's sync state and its unsynced policy.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { HttpServerResponse } from "effect/http"
import { modeStoreReadiness, readyzHandler } from "../../src/http/Health.ts"
import { DEFAULT_DOCUMENT } from "../../src/rollout/Config.ts"
import { memoryStore } from "../rollout/helpers.ts"

const body = (response: HttpServerResponse.HttpServerResponse) =>
  Effect.promise(() => HttpServerResponse.toWeb(response).json() as Promise<any>)

describe("readyzHandler", () => {
  it.live("200 when every check passes; 503 naming each failing check's reason otherwise", () =>
    Effect.gen(function*() {
      const ok = yield* readyzHandler([{ name: "a", check: Effect.void }])
      assert.strictEqual(ok.status, 200)
      assert.deepStrictEqual(yield* body(ok), { status: "ready", checks: { a: "ok" } })

      const failing = yield* readyzHandler([
        { name: "ok", check: Effect.void },
        { name: "error", check: Effect.fail(new Error("the queue is not connected")) },
        { name: "string", check: Effect.fail("no leader") },
        { name: "slow", check: Effect.never }
      ], 50)
      assert.strictEqual(failing.status, 503)
      assert.deepStrictEqual(yield* body(failing), {
        status: "unavailable",
        checks: { ok: "ok", error: "failing", string: "failing", slow: "failing" },
        reasons: { error: "the queue is not connected", string: "no leader", slow: "did not answer within 50 ms" }
      })
    }))

  it.effect("modeStoreReadiness passes for a memory store (always synced)", () =>
    Effect.gen(function*() {
      const response = yield* readyzHandler([modeStoreReadiness])
      assert.strictEqual(response.status, 200)
    }).pipe(Effect.provide(memoryStore(DEFAULT_DOCUMENT))))
})
