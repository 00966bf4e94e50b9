import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { parseStageDistribution, Stage, StageDistribution } from "../../src/normalizer/index.ts"

describe("parseStageDistribution", () => {
  it("merges aliases, orders canonically and reports deprecated spellings (acceptance)", () => {
    const r = parseStageDistribution([
      { stage: "Series A", weight: 0.4 },
      { stage: "series_a", weight: 0.1 },
      { stage: "seed", weight: 0.5 }
    ])
    assert.deepStrictEqual(r.normalized, [{ stage: "seed", weight: 0.5 }, { stage: "series-a", weight: 0.5 }])
    assert.deepStrictEqual(r.deprecatedInputs, ["Series A", "series_a"])
    assert.strictEqual(r.sum, 1)
    assert.isTrue(r.isValid)
    assert.deepStrictEqual(r.invalidInputs, [])
  })

  it("accepts the object form", () => {
    const r = parseStageDistribution({ "Series A": 0.25, "series-a": 0.25, growth: 0.5 })
    assert.deepStrictEqual(r.normalized, [{ stage: "series-a", weight: 0.5 }, { stage: "series-c+", weight: 0.5 }])
    assert.deepStrictEqual(r.deprecatedInputs, ["Series A", "growth"])
  })

  it("reports bad weights as issues with a reason and a path, never throws", () => {
    const r = parseStageDistribution([
      { stage: "seed", weight: Number.NaN },
      { stage: "seed", weight: Number.POSITIVE_INFINITY },
      { stage: "seed", weight: -0.1 },
      { stage: "seed", weight: "0.5" },
      { stage: "seed" },
      { stage: 7, weight: 1 },
      "seed"
    ])
    assert.deepStrictEqual(
      r.issues.map((i) => [i._tag, i.path, "reason" in i ? i.reason : undefined]),
      [
        ["InvalidWeight", [0, "weight"], "not-finite"],
        ["InvalidWeight", [1, "weight"], "not-finite"],
        ["InvalidWeight", [2, "weight"], "negative"],
        ["InvalidWeight", [3, "weight"], "not-a-number"],
        ["InvalidWeight", [4, "weight"], "missing"],
        ["InvalidEntry", [5, "stage"], undefined],
        ["InvalidEntry", [6], undefined]
      ]
    )
    assert.deepStrictEqual(r.normalized, [])
    assert.strictEqual(r.sum, 0)
    assert.isFalse(r.isValid)
  })

  it("treats __proto__ and friends as ordinary unknown strings (no prototype pollution)", () => {
    const input = JSON.parse('{"__proto__": 0.5, "constructor": 0.25, "seed": 0.25}')
    const r = parseStageDistribution(input)
    assert.deepStrictEqual(r.invalidInputs, ["__proto__", "constructor"])
    assert.deepStrictEqual(Object.keys(r.suggestions), ["__proto__", "constructor"])
    assert.strictEqual(({} as Record<string, unknown>)["polluted"], undefined)
    assert.strictEqual(Object.getPrototypeOf({}), Object.prototype)
    assert.deepStrictEqual(r.normalized, [{ stage: "seed", weight: 0.25 }])
  })

  it("gives a typed problem for non-distribution input", () => {
    for (const input of [null, 3, "seed", true, undefined, new Map()]) {
      const r = parseStageDistribution(input)
      assert.strictEqual(r.issues[0]?._tag, "NotADistribution")
      assert.isFalse(r.isValid)
    }
  })

  it("survives exotic values that throw on access", () => {
    const hostile = [{ get stage(): string { throw new Error("boom") }, weight: 1 }]
    const r = parseStageDistribution(hostile)
    assert.strictEqual(r.issues[0]?._tag, "NotADistribution")
  })

  it("lists unknown stages once, with suggestions", () => {
    const r = parseStageDistribution([{ stage: "seedd", weight: 0.5 }, { stage: "seedd", weight: 0.5 }])
    assert.deepStrictEqual(r.invalidInputs, ["seedd"])
    assert.deepStrictEqual(r.suggestions["seedd"], ["seed"])
    assert.strictEqual(r.issues.length, 2)
  })
})

describe("Schemas", () => {
  it("Stage decodes aliases and names suggestions on failure", () => {
    assert.strictEqual(Schema.decodeUnknownSync(Stage)("Series C Plus"), "series-c+")
    assert.strictEqual(Schema.encodeSync(Stage)("seed"), "seed")
    assert.throws(() => Schema.decodeUnknownSync(Stage)("series-x"), /did you mean "series-a", "series-b", "series-c"/)
    assert.throws(() => Schema.decodeUnknownSync(Stage)(42))
  })

  it("StageDistribution decodes either form and fails with paths", () => {
    assert.deepStrictEqual(Schema.decodeUnknownSync(StageDistribution)({ "Series A": 0.5, seed: 0.5 }), [
      { stage: "seed", weight: 0.5 },
      { stage: "series-a", weight: 0.5 }
    ])
    assert.throws(
      () => Schema.decodeUnknownSync(StageDistribution)([{ stage: "seedd", weight: 0.5 }, { stage: "seed", weight: "x" }]),
      /unknown stage "seedd"[\s\S]*at \[0\]\["stage"\][\s\S]*at \[1\]\["weight"\]/
    )
    assert.throws(() => Schema.decodeUnknownSync(StageDistribution)({ seed: 0.3 }), /weights sum to 0.3, expected 1/)
    assert.deepStrictEqual(
      Schema.decodeUnknownSync(StageDistribution)([{ stage: "seed", weight: 0.3 }, { stage: "seed", weight: 0.7000000001 }]),
      [{ stage: "seed", weight: 1.0000000001 }]
    )
  })
})
