/**
 * Order statistics for the boundary benchmark: medians, quartiles and ranges of small samples
 * (10–20 paired rounds), rounded for the report. Internal to the benchmark.
 */

/** Rounds to `digits` decimals. */
export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits

/** The `q`-quantile (0…1) of a sample, linear between order statistics. */
export const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  if (xs.length === 0) return Number.NaN
  const sorted = [...xs].sort((a, b) => a - b)
  const at = (sorted.length - 1) * q
  const lo = Math.floor(at)
  const hi = Math.ceil(at)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo)
}

/** Median and spread of a sample. */
export interface Spread {
  readonly median: number
  /** interquartile range: the middle half of the rounds */
  readonly q1: number
  readonly q3: number
  readonly min: number
  readonly max: number
}

/** Median, quartiles, min and max, rounded to `digits`. */
export const spread = (xs: ReadonlyArray<number>, digits = 2): Spread => ({
  median: round(quantile(xs, 0.5), digits),
  q1: round(quantile(xs, 0.25), digits),
  q3: round(quantile(xs, 0.75), digits),
  min: round(Math.min(...xs), digits),
  max: round(Math.max(...xs), digits)
})

const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)}`

/** `+4.2 % [IQR +3.1…+5.0, range +1.9…+7.7]` */
export const formatPercentSpread = (s: Spread): string => {
  const f = signed
  return `${f(s.median)} % [IQR ${f(s.q1)}…${f(s.q3)}, range ${f(s.min)}…${f(s.max)}]`
}
