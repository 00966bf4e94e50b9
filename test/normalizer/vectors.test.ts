import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { CANONICAL_STAGES, normalizeStage } from "../../src/normalizer/index.ts"

interface VectorCase {
  readonly input: string
  readonly note: string
  readonly expected:
    | { readonly tag: "Canonical"; readonly stage: string; readonly deprecated: boolean }
    | { readonly tag: "Unknown"; readonly suggestions: ReadonlyArray<string> }
}
const vectors = JSON.parse(readFileSync(new URL("../../vectors/normalizer.json", import.meta.url), "utf8")) as {
  readonly format: number
  readonly canonical: ReadonlyArray<string>
  readonly cases: ReadonlyArray<VectorCase>
}

describe("vectors/normalizer.json", () => {
  it("has the documented shape and at least 150 cases", () => {
    assert.strictEqual(vectors.format, 1)
    assert.deepStrictEqual(vectors.canonical, [...CANONICAL_STAGES])
    assert.isAtLeast(vectors.cases.length, 150)
    assert.isAtLeast(vectors.cases.filter((c) => c.expected.tag === "Unknown").length, 40)
  })

  it.each(vectors.cases.map((c, i) => [i, c] as const))("case %i", (_, c) => {
    const r = normalizeStage(c.input)
    if (c.expected.tag === "Canonical") {
      assert.deepStrictEqual(
        r,
        { _tag: "Canonical", input: c.input, stage: c.expected.stage as never, deprecated: c.expected.deprecated },
        c.note
      )
    } else {
      assert.deepStrictEqual(r, { _tag: "Unknown", input: c.input, suggestions: c.expected.suggestions as never }, c.note)
    }
  })
})
