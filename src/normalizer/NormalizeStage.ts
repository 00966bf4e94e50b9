/**
 * `normalizeStage`: one value in, a {@link StageResult} out. Fail-closed: an unknown value is
 * never mapped to a stage, however close; it gets suggestions instead.
 *
 * Hot path, plain synchronous code: exact spellings (canonical or listed alias) are one `Map`
 * lookup returning a shared frozen result; other spellings are folded once and memoised in a
 * per-vocabulary cache bounded in entries and bytes, so repeated messy input costs two lookups.
 * Input longer than `MAX_INPUT_LENGTH` is unknown at once: never folded, scanned, copied or
 * memoised, and never suggested for, so its cost does not depend on its length.
 *
 * @since 0.1.0
 */
import { foldKey, MAX_INPUT_LENGTH, trimAsciiWhitespace } from "./KeyFolding.ts"
import type { CanonicalStage } from "./Stages.ts"
import type { StageResult } from "./StageResult.ts"
import { stageVocabulary } from "./StageVocabulary.ts"
import { suggest } from "./Suggestions.ts"
import type { Vocabulary } from "./Vocabulary.ts"

const noSuggestions: ReadonlyArray<never> = Object.freeze([])

const describe = (u: unknown): string => {
  try {
    return typeof u === "string" ? u : `<${u === null ? "null" : typeof u}>`
  } catch {
    return "<unreadable>"
  }
}

const compute = <C extends string>(input: string, vocabulary: Vocabulary<C>): StageResult<C> => {
  const key = foldKey(input)
  if (key === undefined) return Object.freeze({ _tag: "Unknown", input, suggestions: noSuggestions })
  const stage = vocabulary.table.get(key)
  if (stage !== undefined) {
    return Object.freeze({ _tag: "Canonical", input, stage, deprecated: trimAsciiWhitespace(input) !== stage })
  }
  return Object.freeze({ _tag: "Unknown", input, suggestions: Object.freeze(suggest(key, vocabulary)) })
}

/**
 * Normalise one value against a vocabulary (the stage vocabulary by default).
 *
 * @example
 * ```ts
 * import { normalizeStage } from "stage-normalization"
 *
 * normalizeStage("Series A")   // => { _tag: "Canonical", input: "Series A", stage: "series-a", deprecated: true }
 * normalizeStage(" series-a ") // => { _tag: "Canonical", input: " series-a ", stage: "series-a", deprecated: false }
 * normalizeStage("growth")     // => { _tag: "Canonical", input: "growth", stage: "series-c+", deprecated: true }
 * normalizeStage("series-x")   // => { _tag: "Unknown", input: "series-x", suggestions: ["series-a", "series-b", "series-c"] }
 * ```
 *
 * @since 0.1.0
 * @category normalizing
 */
export const normalizeStage: {
  (input: string): StageResult<CanonicalStage>
  <C extends string>(input: string, vocabulary: Vocabulary<C>): StageResult<C>
} = <C extends string>(input: string, vocabulary?: Vocabulary<C>): StageResult<C> => {
  const vocab = vocabulary ?? (stageVocabulary as unknown as Vocabulary<C>)
  const exact = vocab.exact.get(input)
  if (exact !== undefined) return exact
  if (typeof input !== "string") {
    return Object.freeze({ _tag: "Unknown", input: describe(input), suggestions: noSuggestions })
  }
  // Long input before the memo: V8 hashes a string over 16,383 characters by its length alone, so
  // distinct long strings of one length would collide there and be compared character by character.
  if (input.length > MAX_INPUT_LENGTH) return Object.freeze({ _tag: "Unknown", input, suggestions: noSuggestions })
  const cache = vocab.cache
  const cached = cache.get(input)
  if (cached !== undefined) return cached
  const result = compute(input, vocab)
  cache.set(input, result)
  return result
}
