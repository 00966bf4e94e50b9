/**
 * The rehearsal's figures come from the service's own `GET /metrics` (the Prometheus text
 * exposition), read at the start and the end of a phase: counters as differences, the validator's
 * p99 from the difference of its histogram buckets — interpolated within a bucket the way
 * PromQL's `histogram_quantile` does, so the figure is the one a dashboard would show.
 */
import { fetchWithTimeout } from "../e2e/processes.ts"

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** One scrape: its samples keyed by `name{labels}` as printed. */
export type Exposition = ReadonlyMap<string, Sample>

const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g

/** Parses a text exposition (comments and blank lines ignored). */
export const parseExposition = (text: string): Exposition => {
  const samples = new Map<string, Sample>()
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (m === null) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1]!] = l[2]!
    samples.set(`${m[1]}${m[2] ?? ""}`, { name: m[1]!, labels, value: Number(m[3]) })
  }
  return samples
}

export const scrape = async (serviceUrl: string): Promise<Exposition> =>
  parseExposition(await (await fetchWithTimeout(`${serviceUrl}/metrics`)).text())

/** `after − before` for every series of `after` (a series new in `after` counts from 0). */
export const difference = (before: Exposition, after: Exposition): Exposition =>
  new Map([...after].map(([key, s]) => [key, { ...s, value: s.value - (before.get(key)?.value ?? 0) }]))

const matches = (s: Sample, labels: Readonly<Record<string, string>>): boolean =>
  Object.entries(labels).every(([k, v]) => s.labels[k] === v)

/** Sum of the samples named `name` whose labels include `labels`. */
export const total = (e: Exposition, name: string, labels: Readonly<Record<string, string>> = {}): number => {
  let sum = 0
  for (const s of e.values()) if (s.name === name && matches(s, labels)) sum += s.value
  return sum
}

/**
 * The `q` quantile of histogram `name` (all series summed per bucket), in the histogram's unit;
 * `undefined` without observations. Linear within the bucket holding the rank; the highest finite
 * bound when the rank falls into `+Inf`.
 */
export const histogramQuantile = (e: Exposition, name: string, q: number): number | undefined => {
  const byBound = new Map<number, number>()
  for (const s of e.values()) {
    if (s.name !== `${name}_bucket` || s.labels["le"] === undefined) continue
    const bound = s.labels["le"] === "+Inf" ? Infinity : Number(s.labels["le"])
    byBound.set(bound, (byBound.get(bound) ?? 0) + s.value)
  }
  const buckets = [...byBound].sort((a, b) => a[0] - b[0])
  const count = buckets.at(-1)?.[1] ?? 0
  if (count <= 0) return undefined
  const rank = q * count
  let lowerBound = 0
  let below = 0
  for (const [bound, cumulative] of buckets) {
    if (cumulative >= rank) {
      if (bound === Infinity) return lowerBound
      const inBucket = cumulative - below
      return inBucket === 0 ? bound : lowerBound + (bound - lowerBound) * ((rank - below) / inBucket)
    }
    lowerBound = bound
    below = cumulative
  }
  return lowerBound
}

/** The figures every phase reports, from the difference of two scrapes. */
export interface PhaseFigures {
  readonly validations: number
  /** aliases accepted and normalised (`result="normalized"`) */
  readonly normalized: number
  /** invalid values accepted with a warning (`result="invalid"`) */
  readonly invalid: number
  readonly rejected: number
  readonly wouldReject: number
  readonly warnedUnknown: number
  readonly errors: number
  readonly enforced: number
  readonly p99Seconds: number | undefined
}

export const phaseFigures = (d: Exposition): PhaseFigures => ({
  validations: total(d, "stage_validation_validations_total"),
  normalized: total(d, "stage_validation_validations_total", { result: "normalized" }),
  invalid: total(d, "stage_validation_validations_total", { result: "invalid" }),
  rejected: total(d, "stage_validation_validations_total", { result: "rejected" }),
  wouldReject: total(d, "stage_validation_validations_total", { result: "would_reject" }),
  warnedUnknown: total(d, "stage_warn_unknown_total"),
  errors: total(d, "stage_validation_errors_total"),
  enforced: total(d, "stage_validation_validations_total", { mode: "enforce" }),
  p99Seconds: histogramQuantile(d, "stage_validation_duration_seconds", 0.99)
})

/** `part / whole`, 0 when there is no whole. */
export const ratio = (part: number, whole: number): number => (whole > 0 ? part / whole : 0)
