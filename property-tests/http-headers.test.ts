/**
 * Properties of the boundary's headers: whatever strings a client sends, every header the
 * boundary produces passes Node's own `validateHeaderName` / `validateHeaderValue` (so a stage
 * string with CR/LF can neither split a response nor turn it into a 500), echoed values are
 * printable ASCII, bounded, and never start or end with a space.
 */
import { validateHeaderName, validateHeaderValue } from "node:http"
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { type BoundaryDecision, evaluateStages } from "../src/http/EvaluateStages.ts"
import { MAX_ECHOED_ITEM_LENGTH, sanitizeHeaderItem, sanitizeHeaderList, sanitizeUrl } from "../src/http/HeaderValues.ts"
import * as StageLocation from "../src/http/StageLocation.ts"
import { stageHeaders } from "../src/http/StageHeaders.ts"

const nasty = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ unit: "grapheme", maxLength: 80 }),
  fc.constantFrom("\r\n", "\n", "\r", "\u0000", "\u200b", "\u2028", "\ufeff", "%", ",", " ", "\t", "\ud800", "\udfff")
    .chain((c) => fc.tuple(fc.constantFrom("Series A", "seed", "growth", "x"), fc.constantFrom("Series A", "", "y"))
      .map(([a, b]) => a + c + b)),
  fc.constantFrom("Series\r\nA", "seed\r\nSet-Cookie: a=b", "growth\u200b", " Series A ", "SERIES\tB")
)

const wellFormed = (s: string): string =>
  s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd")

const decisions: ReadonlyArray<BoundaryDecision> = [
  { mode: "enforce", shouldEmitHeaders: true, shouldReject: true, shouldEmitWouldReject: false },
  { mode: "enforce", shouldEmitHeaders: true, shouldReject: false, shouldEmitWouldReject: true },
  { mode: "warn", shouldEmitHeaders: true, shouldReject: false, shouldEmitWouldReject: false },
  { mode: "off", shouldEmitHeaders: false, shouldReject: false, shouldEmitWouldReject: false }
]

const checkAll = (headers: ReadonlyArray<readonly [string, string]>) => {
  for (const [name, value] of headers) {
    validateHeaderName(name)
    validateHeaderValue(name, value)
    assert.match(value, /^[\x20-\x7e]*$/)
    assert.isFalse(value.includes("\r") || value.includes("\n"))
  }
}

describe("header properties", () => {
  it("sanitizeHeaderItem: printable ASCII, bounded, no edge spaces, Node-valid", () => {
    fc.assert(
      fc.property(nasty, (s) => {
        const out = sanitizeHeaderItem(s)
        assert.match(out, /^[\x21-\x7e]?([\x20-\x7e]*[\x21-\x7e])?$/)
        assert.isAtMost(out.length, MAX_ECHOED_ITEM_LENGTH + 3)
        validateHeaderValue("x-test", out)
      }),
      { numRuns: 3000 }
    )
  })

  it("sanitizeHeaderItem is the identity on short safe tokens and reversible otherwise", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 20 }), (s) => {
        const out = sanitizeHeaderItem(s)
        if (out.endsWith("...")) return
        // percent-decoding gives back the input (lone surrogates become U+FFFD)
        assert.strictEqual(decodeURIComponent(out), wellFormed(s))
      }),
      { numRuns: 2000 }
    )
  })

  it("a 1 MB value costs no more than a short one and stays bounded", () => {
    const big = "\r\n".repeat(500_000)
    const out = sanitizeHeaderItem(big)
    assert.isAtMost(out.length, MAX_ECHOED_ITEM_LENGTH + 3)
    assert.isAtMost(sanitizeHeaderList(Array.from({ length: 10_000 }, () => big)).length, 11 * (MAX_ECHOED_ITEM_LENGTH + 4))
  })

  it("stageHeaders: any deprecated spellings and any docs URL give Node-valid headers", () => {
    fc.assert(
      fc.property(
        fc.array(nasty, { maxLength: 15 }),
        fc.oneof(fc.webUrl(), nasty),
        fc.boolean(),
        fc.boolean(),
        (deprecatedInputs, docsUrl, wouldReject, invalid) => {
          checkAll(stageHeaders({ shouldEmitHeaders: true, wouldReject, rejected: !wouldReject && invalid, invalid, deprecatedInputs }, { docsUrl }))
          validateHeaderValue("x", sanitizeUrl(docsUrl, "https://fallback.example/"))
        }
      ),
      { numRuns: 2000 }
    )
  })

  it("stageHeaders: the recommendation names a sunset date only when the Sunset header is sent", () => {
    const isoDay = fc.date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2035-12-31T00:00:00Z"), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10))
    fc.assert(
      fc.property(
        fc.array(nasty, { maxLength: 4 }),
        fc.option(isoDay, { nil: undefined }),
        fc.option(isoDay, { nil: undefined }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (deprecatedInputs, deprecationDate, sunsetDate, wouldReject, invalid, shouldEmitHeaders) => {
          const headers = new Map(
            stageHeaders(
              { shouldEmitHeaders, wouldReject, rejected: !wouldReject && invalid, invalid, deprecatedInputs },
              { deprecationDate, sunsetDate }
            )
          )
          const recommendation = headers.get("X-Stage-Recommendation")
          if (recommendation !== undefined && /sunset/i.test(recommendation)) assert.isTrue(headers.has("Sunset"))
          // a Sunset header only with accepted aliases and a configured sunset
          assert.strictEqual(
            headers.has("Sunset"),
            shouldEmitHeaders && deprecatedInputs.length > 0 && sunsetDate !== undefined
          )
        }
      ),
      { numRuns: 1000 }
    )
  })

  it("evaluateStages: any stage strings in any location and decision give Node-valid headers", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(nasty, fc.oneof(fc.double(), fc.constant(0.5))), { maxLength: 12 }),
        fc.constantFrom(...decisions),
        (entries, decision) => {
          const distribution = entries.map(([stage, weight]) => ({ stage, weight }))
          checkAll(evaluateStages(StageLocation.bodyDistribution(), distribution, decision, {}).headers)
          for (const [stage] of entries) {
            checkAll(evaluateStages(StageLocation.bodyStage(), stage, decision, {}).headers)
          }
          checkAll(evaluateStages(StageLocation.queryStage(), entries.map(([s]) => s), decision, {}).headers)
        }
      ),
      { numRuns: 1500 }
    )
  })
})
