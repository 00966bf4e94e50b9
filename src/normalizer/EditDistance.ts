/**
 * Bounded edit distance for suggestions: optimal string alignment (Levenshtein plus adjacent
 * transpositions, so "sereis" is one edit from "series"), computed only within a band of
 * `max` around the diagonal and abandoned as soon as every cell exceeds `max`. Cost is
 * O(max × length), never quadratic; inputs are at most `MAX_INPUT_LENGTH` long anyway.
 *
 * Written by hand: effect has no string-distance module, and the bound is what keeps the
 * unknown path cheap.
 *
 * @since 0.1.0
 */

/**
 * Edit distance between `a` and `b` if it is ≤ `max`, otherwise `max + 1`.
 *
 * @example
 * ```ts
 * import { boundedEditDistance } from "./EditDistance.ts" // internal: not part of the package's API
 * boundedEditDistance("series-x", "series-a", 2) // => 1
 * boundedEditDistance("sereis-a", "series-a", 2) // => 1
 * boundedEditDistance("venture", "seed", 2)      // => 3
 * ```
 *
 * @since 0.1.0
 * @category suggestions
 */
export const boundedEditDistance = (a: string, b: string, max: number): number => {
  const n = a.length
  const m = b.length
  if (Math.abs(n - m) > max) return max + 1
  if (n === 0 || m === 0) return Math.max(n, m) <= max ? Math.max(n, m) : max + 1
  const big = max + 1
  // Three rolling rows: previous-previous (for transpositions), previous, current.
  let prev2 = new Array<number>(m + 1).fill(big)
  let prev = new Array<number>(m + 1)
  let curr = new Array<number>(m + 1).fill(big)
  for (let j = 0; j <= m; j++) prev[j] = j <= max ? j : big
  for (let i = 1; i <= n; i++) {
    const from = Math.max(1, i - max)
    const to = Math.min(m, i + max)
    curr.fill(big)
    curr[0] = i <= max ? i : big
    let rowMin = curr[0]!
    const ca = a.charCodeAt(i - 1)
    for (let j = from; j <= to; j++) {
      const cb = b.charCodeAt(j - 1)
      const cost = ca === cb ? 0 : 1
      let v = Math.min(prev[j]! + 1, curr[j - 1]! + 1, prev[j - 1]! + cost)
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb) {
        v = Math.min(v, prev2[j - 2]! + 1)
      }
      curr[j] = v > big ? big : v
      if (v < rowMin) rowMin = v
    }
    if (rowMin > max) return big
    const t = prev2
    prev2 = prev
    prev = curr
    curr = t
  }
  const d = prev[m]!
  return d > max ? big : d
}
