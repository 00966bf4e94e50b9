/**
 * Bounded edit distance for suggestions: optimal string alignment (Levenshtein plus adjacent
 * transpositions, so "sereis" is one edit from "series"), computed only within a band of
 * `max` around the diagonal and abandoned as soon as every cell exceeds `max`. Cost is
 * O(max × length), never quadratic; inputs are at most `MAX_INPUT_LENGTH` long anyway. No
 * allocation per call: the rows live in one reused buffer.
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
  const width = m + 1
  if (rows.length < 3 * width) rows = new Int32Array(6 * width)
  const r = rows
  // Three rolling rows as offsets into the shared buffer: previous-previous (for
  // transpositions), previous, current. Only the band is computed; the one cell on each side of
  // it that the next row reads is set to `big`, so nothing is filled per row.
  let prev2 = 0
  let prev = width
  let curr = 2 * width
  for (let j = 0; j <= m; j++) r[prev + j] = j <= max ? j : big
  for (let i = 1; i <= n; i++) {
    const from = i - max > 1 ? i - max : 1
    const to = i + max < m ? i + max : m
    const first = i <= max ? i : big
    r[curr] = first
    if (from > 1) r[curr + from - 1] = big
    let rowMin = first
    const ca = a.charCodeAt(i - 1)
    const caBefore = i > 1 ? a.charCodeAt(i - 2) : -1
    for (let j = from; j <= to; j++) {
      const cb = b.charCodeAt(j - 1)
      let v = r[prev + j - 1]! + (ca === cb ? 0 : 1)
      const up = r[prev + j]! + 1
      if (up < v) v = up
      const left = r[curr + j - 1]! + 1
      if (left < v) v = left
      if (j > 1 && ca === b.charCodeAt(j - 2) && caBefore === cb) {
        const swap = r[prev2 + j - 2]! + 1
        if (swap < v) v = swap
      }
      if (v > big) v = big
      r[curr + j] = v
      if (v < rowMin) rowMin = v
    }
    if (to < m) r[curr + to + 1] = big
    if (rowMin > max) return big
    const t = prev2
    prev2 = prev
    prev = curr
    curr = t
  }
  const d = r[prev + m]!
  return d > max ? big : d
}

// The DP rows live in one module-level buffer, reused by every call (the function is synchronous
// and never re-entered): the unknown path scans every suggestion key of the vocabulary, and three
// fresh arrays per key were most of its cost and all of its garbage. Grown when a longer key comes.
let rows = new Int32Array(3 * 72)
