/**
 * fast-check properties of the normaliser (≥ 1,000 runs each).
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import {
  CANONICAL_STAGES,
  foldKey,
  normalizeStage,
  parseStageDistribution,
  STAGE_ALIASES,
  stageVocabulary
} from "../src/normalizer/index.ts"
import { foldKeyReference } from "../src/normalizer/KeyFolding.ts"

const runs = { numRuns: 1_000 }
const asciiWhitespace = fc.constantFrom(" ", "\t", "\n", "\r", "\v", "\f")
const padding = fc.array(asciiWhitespace, { maxLength: 4 }).map((xs) => xs.join(""))
const separatorRun = fc.array(fc.constantFrom(" ", "_", "-", ".", "\t"), { minLength: 1, maxLength: 3 }).map((xs) =>
  xs.join("")
)
// Stage-ish text: pieces of real spellings, separators, look-alikes and other Unicode.
const stageish = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.array(
    fc.oneof(
      fc.constantFrom("series", "Series", "SERIES", "seed", "Seed", "pre", "a", "B", "c", "plus", "+", "round", "stage"),
      fc.constantFrom(" ", "_", "-", ".", "\u200b", "\u00a0", "е", "ѕ", "İ", "Ａ", "\u3000")
    ),
    { maxLength: 6 }
  ).map((xs) => xs.join(""))
)

const randomCase = (s: string, flips: ReadonlyArray<boolean>): string =>
  Array.from(s, (ch, i) => (flips[i % Math.max(1, flips.length)] ? ch.toUpperCase() : ch.toLowerCase())).join("")

describe("normalizeStage properties", () => {
  it("canonical stages are fixed points (with any surrounding ASCII whitespace)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...CANONICAL_STAGES), padding, padding, (stage, before, after) => {
        const r = normalizeStage(before + stage + after)
        assert.strictEqual(r._tag, "Canonical")
        if (r._tag === "Canonical") {
          assert.strictEqual(r.stage, stage)
          assert.isFalse(r.deprecated)
        }
      }),
      runs
    )
  })

  it("normalising a result's stage is idempotent and not deprecated", () => {
    fc.assert(
      fc.property(stageish, (input) => {
        const r = normalizeStage(input)
        if (r._tag !== "Canonical") return
        assert.deepStrictEqual(normalizeStage(r.stage), {
          _tag: "Canonical",
          input: r.stage,
          stage: r.stage,
          deprecated: false
        })
      }),
      runs
    )
  })

  it("every alias is invariant under case, separator and surrounding-whitespace changes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...STAGE_ALIASES),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
        separatorRun,
        padding,
        padding,
        (alias, flips, separator, before, after) => {
          const variant = before + randomCase(alias.alias, flips).replace(/[ _.-]+/g, separator) + after
          const r = normalizeStage(variant)
          assert.strictEqual(r._tag, "Canonical", JSON.stringify(variant))
          if (r._tag === "Canonical") assert.strictEqual(r.stage, alias.stage)
        }
      ),
      runs
    )
  })

  it("a string whose folded key is in no table is never canonical", () => {
    fc.assert(
      fc.property(stageish, (input) => {
        const key = foldKey(input)
        const r = normalizeStage(input)
        if (key === undefined || !stageVocabulary.table.has(key)) assert.strictEqual(r._tag, "Unknown")
        else assert.strictEqual(r._tag, "Canonical")
      }),
      runs
    )
  })

  it("the hand-written fold equals the step-by-step reference (the SQL twin's spec)", () => {
    fc.assert(fc.property(stageish, (input) => assert.strictEqual(foldKey(input), foldKeyReference(input))), {
      numRuns: 5_000
    })
  })

  it("suggestions are at most three distinct canonical stages, and only for unknowns", () => {
    fc.assert(
      fc.property(stageish, (input) => {
        const r = normalizeStage(input)
        if (r._tag === "Unknown") {
          assert.isAtMost(r.suggestions.length, 3)
          assert.strictEqual(new Set(r.suggestions).size, r.suggestions.length)
          for (const s of r.suggestions) assert.include(CANONICAL_STAGES, s)
        }
      }),
      runs
    )
  })
})

// Distribution entries drawn from real spellings, typos and junk, with all kinds of weights.
const weight = fc.oneof(
  fc.double({ min: 0, max: 10, noNaN: true }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, "0.5", null, undefined)
)
const spelling = fc.oneof(
  fc.constantFrom(...CANONICAL_STAGES, ...STAGE_ALIASES.map((a) => a.alias), "__proto__", "constructor", "seedd"),
  stageish
)
const entry = fc.record({ stage: spelling, weight })

const isValidWeight = (w: unknown): w is number => typeof w === "number" && Number.isFinite(w) && w >= 0
const relativeClose = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b))

describe("parseStageDistribution properties", () => {
  it("never throws for any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = parseStageDistribution(value)
        assert.isArray(r.normalized)
      }),
      runs
    )
  })

  it("normalised weights sum to the valid input weights; stages unique and in canonical order", () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 40 }), (entries) => {
        const r = parseStageDistribution(entries)
        const expected = entries
          .filter((e) => isValidWeight(e.weight) && normalizeStage(e.stage)._tag === "Canonical")
          .reduce((sum, e) => sum + (e.weight as number), 0)
        const total = r.normalized.reduce((sum, e) => sum + e.weight, 0)
        assert.isTrue(relativeClose(total, expected), `${total} vs ${expected}`)
        assert.isTrue(relativeClose(r.sum, expected))
        const order = r.normalized.map((e) => CANONICAL_STAGES.indexOf(e.stage))
        assert.deepStrictEqual(order, [...order].sort((a, b) => a - b))
        assert.strictEqual(new Set(order).size, order.length)
      }),
      runs
    )
  })

  it("merging is order-independent", () => {
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 30 }).chain((entries) =>
          fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }))
        ),
        ([entries, shuffled]) => {
          const a = parseStageDistribution(entries)
          const b = parseStageDistribution(shuffled)
          assert.deepStrictEqual(a.normalized.map((e) => e.stage), b.normalized.map((e) => e.stage))
          a.normalized.forEach((e, i) => assert.isTrue(relativeClose(e.weight, b.normalized[i]!.weight)))
          assert.deepStrictEqual([...a.invalidInputs].sort(), [...b.invalidInputs].sort())
          assert.strictEqual(a.isValid, b.isValid)
        }
      ),
      runs
    )
  })

  it("the object form and the array form agree", () => {
    fc.assert(
      fc.property(fc.dictionary(spelling, fc.double({ min: 0, max: 1, noNaN: true }), { maxKeys: 12 }), (record) => {
        const fromObject = parseStageDistribution(record)
        const fromArray = parseStageDistribution(Object.keys(record).map((stage) => ({ stage, weight: record[stage] })))
        assert.deepStrictEqual(fromObject.normalized, fromArray.normalized)
        assert.deepStrictEqual(fromObject.invalidInputs, fromArray.invalidInputs)
      }),
      runs
    )
  })
})
