/**
 * fast-check properties of the bounded edit distance behind suggestions: it agrees with a plain
 * full-matrix optimal-string-alignment distance (capped at `max + 1`) on every pair, including
 * pairs of very different lengths and keys longer than the buffer it starts with.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { boundedEditDistance } from "../src/normalizer/EditDistance.ts"

/** Optimal string alignment distance, the textbook full matrix: the specification. */
const osa = (a: string, b: string): number => {
  const d: Array<Array<number>> = []
  for (let i = 0; i <= a.length; i++) d.push(Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1)
    }
  }
  return d[a.length]![b.length]!
}

// A small alphabet makes near misses (and transpositions) common.
const word = (maxLength: number) =>
  fc.array(fc.constantFrom("s", "e", "r", "i", "a", "-", "+"), { maxLength }).map((xs) => xs.join(""))

describe("boundedEditDistance properties", () => {
  it("equals the full OSA distance, capped at max + 1", () => {
    fc.assert(
      fc.property(word(12), word(12), fc.integer({ min: 0, max: 4 }), (a, b, max) => {
        assert.strictEqual(boundedEditDistance(a, b, max), Math.min(osa(a, b), max + 1), `${JSON.stringify(a)} ${JSON.stringify(b)} max ${max}`)
      }),
      { numRuns: 5_000 }
    )
  })

  it("a near copy of a long key (past the initial buffer) is measured right", () => {
    fc.assert(
      fc.property(word(120), fc.nat(), fc.constantFrom("x", ""), (base, at, extra) => {
        const b = base.length === 0 ? extra : base.slice(0, at % base.length) + extra + base.slice((at % base.length) + 1)
        assert.strictEqual(boundedEditDistance(base, b, 2), Math.min(osa(base, b), 3))
      }),
      { numRuns: 1_000 }
    )
  })
})
