import { assert, describe, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import { normalizeStage, parseStageDistribution, stageVocabulary, Vocabulary } from "../../src/normalizer/index.ts"

describe("Vocabulary", () => {
  it("the stage vocabulary is valid and versioned", () => {
    assert.match(stageVocabulary.version, /^[0-9a-f]{8}$/)
    assert.strictEqual(stageVocabulary.table.get("series-c+"), "series-c+")
    assert.strictEqual(stageVocabulary.table.get("growth"), "series-c+")
  })

  it.effect("builds a custom vocabulary for any enumerated field", () =>
    Effect.gen(function*() {
      const fundType = yield* Vocabulary.make({
        name: "fund-type",
        canonical: ["vc", "pe", "debt"],
        aliases: [{ alias: "Venture Capital", stage: "vc", since: "1.0.0" }]
      })
      assert.deepStrictEqual(normalizeStage("venture_capital", fundType), {
        _tag: "Canonical",
        input: "venture_capital",
        stage: "vc",
        deprecated: true
      })
      assert.deepStrictEqual(normalizeStage("dbet", fundType), { _tag: "Unknown", input: "dbet", suggestions: ["debt"] })
      const dist = parseStageDistribution({ PE: 0.25, debt: 0.75 }, fundType)
      assert.deepStrictEqual(dist.normalized, [{ stage: "pe", weight: 0.25 }, { stage: "debt", weight: 0.75 }])
    }))

  it.effect("rejects an alias folding to two canonicals", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Vocabulary.make({
        canonical: ["a1", "b1"],
        aliases: [{ alias: "x y", stage: "a1", since: "1" }, { alias: "X_Y", stage: "b1", since: "1" }]
      }))
      assert.strictEqual(error._tag, "VocabularyError")
      assert.deepStrictEqual(error.problems.map((p) => p.reason), ["AmbiguousAlias"])
      assert.include(error.message, "X_Y")
    }))

  it("rejects an alias equal to another canonical, unknown targets and bad keys, all at once", () => {
    const r = Vocabulary.makeResult({
      canonical: ["seed", "series-a", "seed"],
      aliases: [
        { alias: "Series A", stage: "seed", since: "1" },
        { alias: "x", stage: "nope" as "seed", since: "1" },
        { alias: "séed", stage: "seed", since: "1" }
      ]
    })
    assert.isTrue(Result.isFailure(r))
    if (Result.isFailure(r)) {
      assert.deepStrictEqual(r.failure.problems.map((p) => p.reason), [
        "DuplicateCanonical",
        "AliasShadowsCanonical",
        "UnknownCanonical",
        "InvalidKey"
      ])
    }
  })

  it("rejects an empty vocabulary and makeUnsafe throws the typed error", () => {
    assert.throws(() => Vocabulary.makeUnsafe({ canonical: [] }), /EmptyCanonical/)
  })

  it("the version changes when the table changes", () => {
    const a = Vocabulary.makeUnsafe({ canonical: ["x1", "y1"] })
    const b = Vocabulary.makeUnsafe({ canonical: ["x1", "y1"], aliases: [{ alias: "ex", stage: "x1", since: "2" }] })
    assert.notStrictEqual(a.version, b.version)
    assert.strictEqual(a.version, Vocabulary.makeUnsafe({ canonical: ["x1", "y1"] }).version)
  })
})
