/**
 * The prepared header blocks: a repeated outcome gets the very same frozen block, a cached block
 * says exactly what a freshly built one says (whatever the inputs, after evictions too), inputs
 * that differ never share a block, and the cache stays bounded.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { freezePrepared, PreparedCache } from "../../src/http/PreparedHeaders.ts"
import { type HeaderInput, prepareStageHeaders, stageHeaders } from "../../src/http/StageHeaders.ts"
import { DEFAULT_DOCUMENT } from "../../src/rollout/Config.ts"

const input = (deprecatedInputs: ReadonlyArray<string>, flags: Partial<HeaderInput> = {}): HeaderInput => ({
  shouldEmitHeaders: true,
  wouldReject: false,
  rejected: false,
  invalid: false,
  deprecatedInputs,
  ...flags
})

describe("prepareStageHeaders", () => {
  it("returns one shared, frozen block for a repeated outcome, in consistent forms", () => {
    const doc = { ...DEFAULT_DOCUMENT, sunsetDate: "2026-06-30T00:00:00Z" }
    const a = prepareStageHeaders(input(["Series A"]), doc)
    const b = prepareStageHeaders(input(["Series A"]), doc)
    assert.strictEqual(a, b)
    assert.isTrue(Object.isFrozen(a) && Object.isFrozen(a.pairs) && Object.isFrozen(a.pairs[0]))
    assert.deepStrictEqual(a.flat, a.pairs.flat())
    assert.deepStrictEqual(a.record, Object.fromEntries(a.pairs.map(([n, v]) => [n.toLowerCase(), v])))
    assert.deepStrictEqual(a.nodeHead, ["x-request-id", "", ...a.flat])
    assert.deepStrictEqual(a.nodeNames, ["x-request-id", ...a.pairs.map(([n]) => n.toLowerCase())])
    assert.deepStrictEqual(a.pairs.map(([n]) => n), [
      "X-Stage-Deprecated-Variants",
      "Deprecation",
      "Sunset",
      "Link",
      "X-Stage-Recommendation",
      "X-Stage-Docs"
    ])
    assert.strictEqual(stageHeaders(input(["Series A"]), doc), a.pairs)
  })

  it("a new document gets new blocks", () => {
    const doc = { ...DEFAULT_DOCUMENT }
    const next = { ...doc, docsUrl: "https://docs.example.com/stages", version: doc.version + 1 }
    const before = prepareStageHeaders(input(["growth"]), doc)
    const after = prepareStageHeaders(input(["growth"]), next)
    assert.notStrictEqual(before, after)
    assert.include(after.flat, "https://docs.example.com/stages")
  })

  it("cached blocks say what a fresh build says, for any inputs and outcomes", () => {
    const shared = { ...DEFAULT_DOCUMENT }
    const spelling = fc.oneof(
      fc.constantFrom("Series A", "growth", "a,b", "a", "b", "", "1:a", "[\"a\"]", "Series\r\nB", "a\u0000b", "\u0000"),
      fc.string({ unit: "binary", maxLength: 40 })
    )
    fc.assert(
      fc.property(
        fc.array(spelling, { maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (deprecated, wouldReject, rejected, invalid) => {
          const i = input(deprecated, { wouldReject, rejected, invalid })
          // a fresh document object has an empty cache: the block is built
          assert.deepStrictEqual(prepareStageHeaders(i, shared).pairs, prepareStageHeaders(i, { ...shared }).pairs)
        }
      ),
      { numRuns: 2000 }
    )
  })

  it("inputs that differ never share a block", () => {
    const doc = { ...DEFAULT_DOCUMENT }
    const lists: ReadonlyArray<ReadonlyArray<string>> = [["a,b"], ["a", "b"], ["b", "a"], ["a"], ["a", "a"], ["ab"], ["a\u0000b", "c"], ["a", "b", "c"], ["a", "b\u0000c"]]
    const values = lists.map((l) => prepareStageHeaders(input(l), doc).pairs[0]![1])
    assert.deepStrictEqual(values, ["a%2Cb", "a,b", "b,a", "a", "a,a", "ab", "a%00b,c", "a,b,c", "a,b%00c"])
    // asked again (cached where cacheable), each list still gets its own value
    assert.deepStrictEqual(lists.map((l) => prepareStageHeaders(input(l), doc).pairs[0]![1]), values)
    assert.notStrictEqual(prepareStageHeaders(input(["a"]), doc), prepareStageHeaders(input(["a"], { invalid: true }), doc))
  })
})

describe("PreparedCache", () => {
  it("is bounded: the least recently used block goes", () => {
    const cache = new PreparedCache()
    let builds = 0
    const build = (_flags: number, inputs: ReadonlyArray<string>) => {
      builds++
      return freezePrepared([["X-Test", inputs.join(",")]])
    }
    const first = cache.get(0, ["keep"], build, undefined)
    for (let i = 0; i < 1000; i++) {
      cache.get(0, [`spelling-${i}`], build, undefined)
      if (i % 50 === 0) assert.strictEqual(cache.get(0, ["keep"], build, undefined), first) // kept warm
    }
    assert.strictEqual(builds, 1001)
    cache.get(0, ["spelling-0"], build, undefined) // evicted long ago: built again
    assert.strictEqual(builds, 1002)
  })

  it("several inputs: one block per list, the list's order counting, and bounded", () => {
    const cache = new PreparedCache()
    let builds = 0
    const build = (_flags: number, inputs: ReadonlyArray<string>) => {
      builds++
      return freezePrepared([["X-Test", JSON.stringify(inputs)]])
    }
    const ab = cache.get(0, ["a", "b"], build, undefined)
    assert.strictEqual(cache.get(0, ["a", "b"], build, undefined), ab)
    assert.notStrictEqual(cache.get(0, ["b", "a"], build, undefined), ab)
    assert.notStrictEqual(cache.get(0, ["a", "b", "c"], build, undefined), ab) // a longer list through the same levels
    assert.strictEqual(cache.get(0, ["a", "b"], build, undefined), ab) // still there
    assert.notStrictEqual(cache.get(1, ["a", "b"], build, undefined), ab) // other flags, other block
    assert.strictEqual(builds, 4)
    for (let i = 0; i < 1000; i++) {
      const list = [`x-${i}`, `y-${i % 7}`]
      assert.strictEqual(cache.get(0, list, build, undefined).pairs[0]![1], JSON.stringify(list))
    }
    assert.strictEqual(builds, 1004)
    const before = builds
    cache.get(0, ["x-0", "y-0"], build, undefined) // dropped when the trie started over: built again
    assert.strictEqual(builds, before + 1)
  })

  it("builds without caching inputs too long to key on", () => {
    const cache = new PreparedCache()
    let builds = 0
    const build = () => (builds++, freezePrepared([]))
    const long = "x".repeat(600)
    cache.get(0, [long], build, undefined)
    cache.get(0, [long], build, undefined)
    cache.get(0, [long.slice(0, 300), long.slice(0, 300)], build, undefined)
    cache.get(0, [long.slice(0, 300), long.slice(0, 300)], build, undefined)
    assert.strictEqual(builds, 4)
  })
})
