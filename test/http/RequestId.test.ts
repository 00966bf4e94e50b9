/**
 * Request ids: a sane incoming id is kept, anything else gets a fresh UUID (version 8: random
 * per process, then a counter). Fresh ids are unique, UUID-shaped, and hash as evenly as random
 * ones for the offender-log sampling that keys on them.
 */
import { assert, describe, it } from "@effect/vitest"
import { newRequestId, resolveRequestId } from "../../src/http/RequestId.ts"
import { isSampledForLogs } from "../../src/rollout/Bucketing.ts"
import { DEFAULT_DOCUMENT } from "../../src/rollout/Config.ts"

/** The counter part of a fresh id (its last 12 hex digits). */
const counterOf = (id: string) => parseInt(id.slice(24), 16)
const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe("request ids", () => {
  it("keeps a sane incoming id and replaces anything else", () => {
    assert.strictEqual(resolveRequestId("req-42"), "req-42")
    for (const bad of [undefined, "", "a\r\nb", "x".repeat(129), ["a", "b"], "ü"]) {
      assert.match(resolveRequestId(bad as string | undefined), UUID_V8, JSON.stringify(bad))
    }
  })

  it("fresh ids are unique UUIDs (RFC 9562 version 8, RFC 9562 variant)", () => {
    const ids = Array.from({ length: 100_000 }, newRequestId)
    assert.strictEqual(new Set(ids).size, ids.length)
    for (const id of ids) assert.match(id, UUID_V8)
  })

  it("fresh ids count up by one in their last 48 bits, across the rebuilt head every 256 ids", () => {
    let previous = newRequestId()
    for (let i = 0; i < 3 * 256 + 7; i++) {
      const id = newRequestId()
      assert.strictEqual(id.slice(0, 24), previous.slice(0, 24), "the random prefix stays")
      assert.strictEqual(counterOf(id), counterOf(previous) + 1, `${previous} → ${id}`)
      previous = id
    }
  })

  it("offender-log sampling on fresh ids takes the configured share", () => {
    const n = 40_000
    for (const percent of [1, 10, 50]) {
      let sampled = 0
      for (let i = 0; i < n; i++) if (isSampledForLogs(DEFAULT_DOCUMENT, newRequestId(), percent)) sampled++
      const share = (sampled / n) * 100
      // 4 standard deviations of a binomial share either side
      const band = 4 * Math.sqrt((percent * (100 - percent)) / n)
      assert.isAtLeast(share, percent - band, `${percent} %: ${share}`)
      assert.isAtMost(share, percent + band, `${percent} %: ${share}`)
    }
  })
})
