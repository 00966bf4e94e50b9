/**
 * Peer (c), the floor for never-seen spellings: what a careful normaliser without our fast paths
 * does for one string — the folding specification applied one regular expression at a time
 * (`foldKeyReference`: NFKC, trim, lower case, separators, suffixes, "plus"), a `Map` lookup, and
 * for an unknown key a textbook full-matrix optimal-string-alignment distance to every key of the
 * vocabulary, suggesting the canonical stages within the same budget as ours.
 *
 * It does the same kinds of work as `normalizeStage` with its memo off (Unicode normalisation,
 * string building, a dynamic-programming scan), so the ratio between the two stays put from one
 * machine to the next, where a ratio to a bare `Map` lookup moves with the CPU's string and GC
 * speed (the reason this suite has its own floor).
 */
import { type CanonicalStage, stageVocabulary } from "../../src/normalizer/index.ts"
import { foldKeyReference } from "../../src/normalizer/KeyFolding.ts"
import { maxSuggestionDistance } from "../../src/normalizer/Suggestions.ts"

const osa = (a: string, b: string): number => {
  const d: Array<Array<number>> = []
  for (let i = 0; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1)
    row[0] = i
    d.push(row)
  }
  for (let j = 0; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}

export const textbookNormalize = (input: string): CanonicalStage | ReadonlyArray<CanonicalStage> => {
  const key = foldKeyReference(input)
  if (key === undefined) return []
  const stage = stageVocabulary.table.get(key)
  if (stage !== undefined) return stage
  const max = maxSuggestionDistance(key.length)
  const best = new Map<CanonicalStage, number>()
  for (const [candidate, index] of stageVocabulary.suggestionKeys) {
    const d = osa(key, candidate)
    const canonical = stageVocabulary.canonical[index]!
    if (d <= max && d < (best.get(canonical) ?? Infinity)) best.set(canonical, d)
  }
  return Array.from(best).sort((x, y) => x[1] - y[1]).slice(0, 3).map(([c]) => c)
}
