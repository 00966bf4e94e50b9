/**
 * The stage headers say the same thing: `X-Stage-Recommendation` speaks of a sunset date only
 * when a `Sunset` header goes out with it (a sunset is configured and aliases were accepted), for
 * every outcome, and a document that gains a sunset gets the sunset wording at once.
 */
import { assert, describe, it } from "@effect/vitest"
import { type HeaderInput, type HeaderSettings, STAGE_HEADERS, stageHeaders } from "../../src/http/StageHeaders.ts"
import { DEFAULT_DOCUMENT } from "../../src/rollout/Config.ts"

const outcomes: ReadonlyArray<Omit<HeaderInput, "deprecatedInputs">> = [
  { shouldEmitHeaders: true, wouldReject: false, rejected: false, invalid: false },
  { shouldEmitHeaders: true, wouldReject: true, rejected: false, invalid: true },
  { shouldEmitHeaders: true, wouldReject: false, rejected: true, invalid: true },
  { shouldEmitHeaders: true, wouldReject: false, rejected: false, invalid: true }
]

const settingsCases: ReadonlyArray<readonly [string, HeaderSettings]> = [
  ["no sunset", { deprecationDate: "2025-10-30" }],
  ["no dates at all", {}],
  ["the default document", DEFAULT_DOCUMENT],
  ["a sunset", { deprecationDate: "2025-10-30", sunsetDate: "2026-06-30" }],
  ["a sunset before the deprecation (clamped)", { deprecationDate: "2026-01-01", sunsetDate: "2025-01-01" }]
]

const mentionsSunset = (text: string): boolean => /sunset/i.test(text)

describe("stageHeaders: the recommendation and the Sunset header agree", () => {
  for (const [label, settings] of settingsCases) {
    it(`${label}: the recommendation mentions a sunset date only when Sunset is sent`, () => {
      for (const outcome of outcomes) {
        for (const deprecatedInputs of [[], ["growth"], ["late-stage", "Series A"]]) {
          const headers = new Map(stageHeaders({ ...outcome, deprecatedInputs }, settings))
          const recommendation = headers.get(STAGE_HEADERS.recommendation)
          if (recommendation === undefined) continue
          const what = `${label}, ${JSON.stringify({ ...outcome, deprecatedInputs })}: ${recommendation}`
          if (mentionsSunset(recommendation)) assert.isTrue(headers.has(STAGE_HEADERS.sunset), what)
          // aliases accepted and nothing else to say: the recommendation is about the aliases, and
          // names the sunset exactly when the Sunset header announces one
          if (deprecatedInputs.length > 0 && !outcome.invalid) {
            assert.strictEqual(mentionsSunset(recommendation), headers.has(STAGE_HEADERS.sunset), what)
            assert.include(recommendation, "Deprecated stage spellings", what)
          }
        }
      }
    })
  }

  it("a document that gains a sunset announces it in both headers", () => {
    const input: HeaderInput = { shouldEmitHeaders: true, wouldReject: false, rejected: false, invalid: false, deprecatedInputs: ["growth"] }
    const before = new Map(stageHeaders(input, { ...DEFAULT_DOCUMENT }))
    const after = new Map(stageHeaders(input, { ...DEFAULT_DOCUMENT, sunsetDate: "2026-06-30T00:00:00Z" }))
    assert.isFalse(before.has(STAGE_HEADERS.sunset))
    assert.isFalse(mentionsSunset(before.get(STAGE_HEADERS.recommendation)!))
    assert.strictEqual(after.get(STAGE_HEADERS.sunset), "Tue, 30 Jun 2026 00:00:00 GMT")
    assert.isTrue(mentionsSunset(after.get(STAGE_HEADERS.recommendation)!))
  })
})
