/**
 * Issue 25, defect 1 (library side): long stage strings are unknown without being normalised,
 * copied or cached, and the normaliser's memo is bounded in entries and bytes. 500 distinct
 * 1 MiB inputs through `normalizeStage` and `parseStageDistribution` must leave nothing behind:
 * measured in a child process with `--expose-gc` (heap after a full GC), and through the cache's
 * own accounting here.
 */
import { execFileSync } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import {
  MAX_DISTRIBUTION_ENTRIES,
  MAX_INPUT_LENGTH,
  normalizeStage,
  parseStageDistribution,
  stageVocabulary,
  Vocabulary
} from "../../src/normalizer/index.ts"

const NORMALIZER = new URL("../../src/normalizer/index.ts", import.meta.url).href
const MiB = 1024 * 1024

/** A distinct string of `length` characters (differing in its first characters, so no two share a prefix). */
const distinct = (i: number, length: number): string => `${i}:`.padEnd(length, "x")

describe("bounded memory (issue 25)", () => {
  it("500 distinct 1 MiB inputs leave no retained heap after a full GC (child process, --expose-gc)", () => {
    const script = `
      const { normalizeStage, parseStageDistribution } = await import(${JSON.stringify(NORMALIZER)})
      const used = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().heapUsed }
      normalizeStage("warm up"); parseStageDistribution({ seed: 1 })
      const before = used()
      for (let i = 0; i < 500; i++) {
        const s = (i + ":").padEnd(${MiB}, "x")
        if (i % 2 === 0) normalizeStage(s)
        else parseStageDistribution([{ stage: s, weight: 1 }])
      }
      const after = used()
      process.stdout.write(JSON.stringify({ retainedMiB: (after - before) / ${MiB} }))
    `
    const out = execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 60_000
    })
    const { retainedMiB } = JSON.parse(out) as { retainedMiB: number }
    // 500 MiB of input went through; a few MiB of heap noise is all that may stay.
    assert.isBelow(retainedMiB, 8, `retained ${retainedMiB.toFixed(1)} MiB`)
  }, 90_000)

  it("never caches an input longer than MAX_INPUT_LENGTH; the cache's byte accounting stays within its bound", () => {
    const vocab = Vocabulary.makeUnsafe({ canonical: ["a", "b"], cacheSize: 16, cacheMaxBytes: 4096 })
    for (let i = 0; i < 200; i++) {
      const s = distinct(i, MiB)
      assert.strictEqual(normalizeStage(s, vocab)._tag, "Unknown")
      parseStageDistribution({ [s]: 1 }, vocab)
    }
    assert.strictEqual(vocab.cache.size, 0)
    assert.strictEqual(vocab.cache.bytes, 0)
    // short messy spellings are cached, within both bounds
    for (let i = 0; i < 100; i++) normalizeStage(distinct(i, MAX_INPUT_LENGTH), vocab)
    assert.isAtMost(vocab.cache.size, 16)
    assert.isAbove(vocab.cache.size, 0)
    assert.isAtMost(vocab.cache.bytes, 4096)
    // the default vocabulary: the same bounds hold
    for (let i = 0; i < 50; i++) normalizeStage(distinct(i, 4 * MiB))
    assert.isAtMost(stageVocabulary.cache.bytes, stageVocabulary.cacheMaxBytes)
    assert.isAtMost(stageVocabulary.cache.size, stageVocabulary.cacheSize)
  })

  it("a long input costs O(1): no suggestions, and the same answer for 4 MiB as for 65 characters", () => {
    const started = performance.now()
    for (let i = 0; i < 20; i++) {
      const r = normalizeStage(distinct(i, 4 * MiB).replace(/^\d+:/, "seed"))
      assert.deepStrictEqual(r._tag === "Unknown" ? r.suggestions : ["?"], [])
    }
    // generous: building the strings dominates; the normaliser itself must not scan them
    assert.isBelow(performance.now() - started, 2_000)
  })

  it("refuses a distribution with more than MAX_DISTRIBUTION_ENTRIES entries without looking at them", () => {
    let reads = 0
    const entries = Array.from({ length: MAX_DISTRIBUTION_ENTRIES + 1 }, () => ({
      get stage() {
        reads++
        return "seriez-a"
      },
      weight: 0.01
    }))
    const r = parseStageDistribution(entries)
    assert.isFalse(r.isValid)
    assert.strictEqual(reads, 0)
    assert.deepStrictEqual(r.issues.map((i) => i._tag), ["TooManyEntries"])
    assert.deepStrictEqual(r.normalized, [])
    const tight = parseStageDistribution(entries.slice(0, 65), stageVocabulary, { maxEntries: 64 })
    assert.strictEqual(reads, 0)
    assert.deepStrictEqual(tight.issues.map((i) => i.message), ["a distribution has at most 64 entries, got 65"])
    const big = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`seriez-${i}`, 0.00001]))
    const o = parseStageDistribution(big)
    assert.deepStrictEqual(o.issues.map((i) => i._tag), ["TooManyEntries"])
    assert.include(o.issues[0]!.message, `at most ${MAX_DISTRIBUTION_ENTRIES}`)
    assert.deepStrictEqual(o.invalidInputs, [])
    // exactly the maximum is still parsed
    const ok = parseStageDistribution(Array.from({ length: MAX_DISTRIBUTION_ENTRIES }, () => ({ stage: "seed", weight: 1 / MAX_DISTRIBUTION_ENTRIES })))
    assert.isTrue(ok.isValid)
  })

  it("bounds the messages of long unknown stages (no 1 MiB copy per issue)", () => {
    const s = distinct(1, MiB)
    const r = parseStageDistribution([{ stage: s, weight: 1 }])
    const issue = r.issues[0]!
    assert.strictEqual(issue._tag, "UnknownStage")
    assert.isBelow(issue.message.length, 200)
    assert.include(issue.message, `longer than ${MAX_INPUT_LENGTH} characters`)
    assert.strictEqual(r.invalidInputs[0], s)
  })
})
