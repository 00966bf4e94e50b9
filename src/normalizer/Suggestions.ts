/**
 * Suggestions for unknown input: up to three canonical values whose canonical or alias keys are
 * within a bounded edit distance of the folded input — at most 2 edits, and at most a third of
 * the key's length (so a 3-letter typo gets one edit, and a 1-letter input none).
 *
 * @since 0.1.0
 */
import { boundedEditDistance } from "./EditDistance.ts"
import type { Vocabulary } from "./Vocabulary.ts"

/**
 * Most suggestions returned for one unknown value.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_SUGGESTIONS = 3

/**
 * Edit budget for a folded key of the given length.
 *
 * @since 0.1.0
 * @category suggestions
 */
export const maxSuggestionDistance = (keyLength: number): number => Math.min(2, Math.floor(keyLength / 3))

/**
 * Canonical values close to a folded key, best first (ties in canonical order).
 *
 * @example
 * ```ts
 * import { suggest, stageVocabulary } from "stage-normalization/normalizer"
 * suggest("series-x", stageVocabulary) // => ["series-a", "series-b", "series-c"]
 * suggest("venture", stageVocabulary)  // => []
 * ```
 *
 * @since 0.1.0
 * @category suggestions
 */
export const suggest = <C extends string>(key: string, vocabulary: Vocabulary<C>): ReadonlyArray<C> => {
  const max = maxSuggestionDistance(key.length)
  if (max === 0) return []
  const best = new Array<number>(vocabulary.canonical.length).fill(max + 1)
  for (const [candidate, index] of vocabulary.suggestionKeys) {
    const d = boundedEditDistance(key, candidate, max)
    if (d < best[index]!) best[index] = d
  }
  const ranked: Array<number> = []
  for (let index = 0; index < best.length; index++) if (best[index]! <= max) ranked.push(index)
  ranked.sort((a, b) => best[a]! - best[b]! || a - b)
  return ranked.slice(0, MAX_SUGGESTIONS).map((index) => vocabulary.canonical[index]!)
}
