/**
 * Offender log lines (seed 004): one JSON line, bounded, UA hashed, never throwing.
 */
import { createHash } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { logOffender, makeOffenderLogLine, uaHash } from "../../src/observability/OffenderLog.ts"

describe("offender log", () => {
  it("hashes the user agent to 12 hex digits", () => {
    assert.strictEqual(uaHash("curl/8.5.0"), createHash("sha256").update("curl/8.5.0").digest("hex").slice(0, 12))
    assert.match(uaHash(undefined), /^[0-9a-f]{12}$/)
  })

  it("writes one bounded JSON line", () => {
    const lines: Array<string> = []
    logOffender((_, json) => lines.push(json), {
      endpoint: "/api/monte-carlo/simulate",
      mode: "warn",
      unknownStages: ["a\r\nb", "x".repeat(500), ...Array.from({ length: 20 }, (_, i) => `u${i}`)],
      userAgent: "Mozilla/5.0",
      requestId: "req-1",
      now: new Date(0)
    })
    assert.strictEqual(lines.length, 1)
    assert.isFalse(lines[0]!.includes("\n") || lines[0]!.includes("\r"))
    const line = JSON.parse(lines[0]!)
    assert.strictEqual(line.msg, "stage_validation_unknown")
    assert.strictEqual(line.unknownStages.length, 10)
    assert.strictEqual(line.unknownCount, 22)
    assert.strictEqual(line.unknownStages[1].length, 65)
    assert.strictEqual(line.uaHash, uaHash("Mozilla/5.0"))
    assert.isFalse(lines[0]!.includes("Mozilla"))
  })

  it("a throwing sink does not throw", () => {
    logOffender(() => {
      throw new Error("disk full")
    }, { endpoint: "/x", mode: "off", unknownStages: ["a"], userAgent: undefined, requestId: "r" })
    assert.strictEqual(makeOffenderLogLine({ endpoint: "/x", mode: "off", unknownStages: [], userAgent: undefined, requestId: "r" }).unknownCount, 0)
  })
})
