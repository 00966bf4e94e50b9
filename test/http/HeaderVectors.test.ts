/**
 * Replays vectors/headers.json: the stage headers and the sanitisers give exactly the pinned
 * values, and every pinned value passes Node's own header validation.
 */
import { validateHeaderName, validateHeaderValue } from "node:http"
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { sanitizeHeaderItem, sanitizeHeaderList, sanitizeUrl } from "../../src/http/HeaderValues.ts"
import { type HeaderInput, type HeaderSettings, stageHeaders } from "../../src/http/StageHeaders.ts"

interface Vectors {
  readonly headers: ReadonlyArray<{
    readonly name: string
    readonly input: HeaderInput
    readonly settings: HeaderSettings
    readonly expected: ReadonlyArray<readonly [string, string]>
  }>
  readonly sanitize: ReadonlyArray<{ readonly input: string; readonly expected: string }>
  readonly list: ReadonlyArray<{ readonly input: ReadonlyArray<string>; readonly expected: string }>
  readonly url: ReadonlyArray<{ readonly input: string; readonly fallback: string; readonly expected: string }>
}

const vectors: Vectors = JSON.parse(readFileSync(new URL("../../vectors/headers.json", import.meta.url), "utf8"))

describe("vectors/headers.json", () => {
  it("has cases of every kind", () => {
    assert.isAtLeast(vectors.headers.length, 10)
    assert.isAtLeast(vectors.sanitize.length, 8)
  })

  for (const c of vectors.headers) {
    it(`headers: ${c.name}`, () => {
      const actual = stageHeaders(c.input, c.settings)
      assert.deepStrictEqual(actual.map(([n, v]) => [n, v]), c.expected.map(([n, v]) => [n, v]))
      for (const [name, value] of actual) {
        validateHeaderName(name)
        validateHeaderValue(name, value)
      }
    })
  }

  it("sanitize / list / url", () => {
    for (const c of vectors.sanitize) assert.strictEqual(sanitizeHeaderItem(c.input), c.expected, JSON.stringify(c.input))
    for (const c of vectors.list) assert.strictEqual(sanitizeHeaderList(c.input), c.expected)
    for (const c of vectors.url) assert.strictEqual(sanitizeUrl(c.input, c.fallback), c.expected, c.input)
  })

  it("pins the RFC formats", () => {
    const aliases = vectors.headers.find((c) => c.name.startsWith("aliases accepted"))!
    const byName = new Map(aliases.expected)
    assert.match(byName.get("Deprecation")!, /^@\d+$/) // RFC 9745 structured-field date
    assert.match(byName.get("Sunset")!, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/) // IMF-fixdate
    assert.match(byName.get("Link")!, /^<https:\/\/[^>]+>; rel="deprecation"/)
    assert.isTrue(Date.parse(byName.get("Sunset")!) / 1000 >= Number(byName.get("Deprecation")!.slice(1)))
  })
})
