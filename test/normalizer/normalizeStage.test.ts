import { assert, describe, it } from "@effect/vitest"
import {
  foldKey,
  MAX_INPUT_LENGTH,
  normalizeStage,
  stageVocabulary,
  suggest
} from "../../src/normalizer/index.ts"
import { boundedEditDistance } from "../../src/normalizer/EditDistance.ts"

describe("normalizeStage", () => {
  it("accepts aliases as deprecated and canonical spelling (after trimming) as not", () => {
    assert.deepStrictEqual(normalizeStage("Series A"), {
      _tag: "Canonical",
      input: "Series A",
      stage: "series-a",
      deprecated: true
    })
    assert.deepStrictEqual(normalizeStage(" series-a "), {
      _tag: "Canonical",
      input: " series-a ",
      stage: "series-a",
      deprecated: false
    })
    assert.deepStrictEqual(normalizeStage("growth"), {
      _tag: "Canonical",
      input: "growth",
      stage: "series-c+",
      deprecated: true
    })
  })

  it("never maps an unknown value, and suggests close stages", () => {
    const r = normalizeStage("series-x")
    assert.strictEqual(r._tag, "Unknown")
    if (r._tag === "Unknown") assert.include(r.suggestions, "series-a")
  })

  it("keeps ambiguous words unknown", () => {
    for (const word of ["early stage", "venture", "bridge", "series"]) {
      assert.strictEqual(normalizeStage(word)._tag, "Unknown", word)
    }
  })

  it("returns the same result for a memoised messy spelling and stays bounded", () => {
    const first = normalizeStage("SERIES   b")
    assert.strictEqual(normalizeStage("SERIES   b"), first)
    for (let i = 0; i < stageVocabulary.cacheSize + 10; i++) normalizeStage(`x${i}`)
    assert.isAtMost(stageVocabulary.cache.size, stageVocabulary.cacheSize)
    assert.deepStrictEqual(normalizeStage("SERIES   b"), first)
  })

  it("treats input over MAX_INPUT_LENGTH as unknown without scanning it", () => {
    const huge = "seed".padStart(1_000_000, " ")
    const started = performance.now()
    const r = normalizeStage(huge)
    assert.isBelow(performance.now() - started, 50)
    assert.deepStrictEqual(r, { _tag: "Unknown", input: huge, suggestions: [] })
    assert.strictEqual(foldKey("x".repeat(MAX_INPUT_LENGTH + 1)), undefined)
  })

  it("does not throw on non-string input from untyped callers", () => {
    const r = normalizeStage(42 as unknown as string)
    assert.deepStrictEqual(r, { _tag: "Unknown", input: "<number>", suggestions: [] })
  })
})

describe("foldKey", () => {
  it("follows the documented steps", () => {
    assert.strictEqual(foldKey("  Series_C Plus "), "series-c+")
    assert.strictEqual(foldKey("Seed Round"), "seed")
    assert.strictEqual(foldKey("ＳＥＲＩＥＳ　Ａ"), "series-a")
    assert.strictEqual(foldKey("series . _ a"), "series-a")
    assert.strictEqual(foldKey("Seed Stage Round"), "seed-stage")
    assert.strictEqual(foldKey("sеries"), "sеries") // Cyrillic е survives folding, so it cannot match
  })
})

describe("suggestions", () => {
  it("bounds the edit distance and the count", () => {
    assert.strictEqual(boundedEditDistance("series-x", "series-a", 2), 1)
    assert.strictEqual(boundedEditDistance("sereis-a", "series-a", 2), 1)
    assert.strictEqual(boundedEditDistance("venture", "seed", 2), 3)
    assert.deepStrictEqual(suggest("series-x", stageVocabulary), ["series-a", "series-b", "series-c"])
    assert.deepStrictEqual(suggest("sd", stageVocabulary), [])
    assert.deepStrictEqual(suggest("sed", stageVocabulary), ["seed"])
  })
})
