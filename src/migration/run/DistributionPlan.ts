/**
 * What the migration does with one stored distribution (a JSON value), decided in TypeScript with
 * `parseStageDistribution` semantics:
 *
 * - **Unchanged** when every stage is spelt canonically and appears once (weights are not this
 *   migration's business: verification checks them);
 * - **Changed** otherwise, when every stage is known and every weight valid: stages canonical,
 *   duplicates merged by summing. An array keeps its order and any extra fields of its entries
 *   when nothing has to be merged; a merged array is `[{ stage, weight }]` in canonical order; an
 *   object becomes `{ stage: weight }` in canonical order. The weight sum is preserved to a
 *   relative 1e-9, or the row is skipped;
 * - **Skipped** (left as it is and reported) when a stage is unknown, a weight or entry invalid,
 *   the value is not a distribution, or merging would drop extra fields.
 *
 * @since 0.1.0
 */
import { normalizeStage } from "../../normalizer/NormalizeStage.ts"
import { parseStageDistribution } from "../../normalizer/StageDistribution.ts"
import { stageVocabulary } from "../../normalizer/StageVocabulary.ts"
import type { Vocabulary } from "../../normalizer/Vocabulary.ts"
import { forcedStage, type ForceUnknownOptions } from "./ForceUnknown.ts"

/**
 * Why a distribution was left unchanged although it is not canonical.
 *
 * @since 0.1.0
 * @category models
 */
type SkipKind =
  | "unknown-stage"
  | "invalid-weight"
  | "invalid-entry"
  | "not-a-distribution"
  | "extra-fields"
  | "weight-sum-drift"

/**
 * @since 0.1.0
 * @category models
 */
export type DistributionPlan =
  | { readonly _tag: "Unchanged" }
  | { readonly _tag: "Changed"; readonly value: unknown; readonly oldSum: number; readonly newSum: number }
  | { readonly _tag: "Skipped"; readonly issues: ReadonlyArray<{ readonly kind: SkipKind; readonly value: string }> }

/**
 * Largest relative change of a row's weight sum that merging weights may cause: floating-point
 * rounding slack, not a validation tolerance (a valid distribution sums to 1 within the
 * normaliser's `SUM_TOLERANCE`). A row whose sum would move more is skipped, never rewritten.
 *
 * @internal
 */
export const ROUNDING_SLACK = 1e-9

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const UNCHANGED: DistributionPlan = { _tag: "Unchanged" }

/**
 * Is every stage canonical and present once?
 */
const isCanonicalShape = (value: unknown, vocabulary: Vocabulary<string>): boolean => {
  const seen = new Set<string>()
  const check = (stage: unknown) => {
    if (typeof stage !== "string" || !vocabulary.order.has(stage) || seen.has(stage)) return false
    seen.add(stage)
    return true
  }
  if (Array.isArray(value)) return value.every((entry) => isPlainObject(entry) && check(entry["stage"]))
  if (isPlainObject(value)) return Object.keys(value).every(check)
  return false
}

const sumOf = (weights: ReadonlyArray<number>): number => {
  let s = 0
  for (const w of weights) s += w
  return s
}

/**
 * Decide what to do with one stored distribution.
 *
 * @example
 * ```ts
 * import { planDistribution } from "./DistributionPlan.ts" // internal: not part of the package's API
 * planDistribution([{ stage: "Series A", weight: 0.4 }, { stage: "series_a", weight: 0.6 }])
 * // => { _tag: "Changed", value: [{ stage: "series-a", weight: 1 }], oldSum: 1, newSum: 1 }
 * planDistribution({ seed: 1 })          // => { _tag: "Unchanged" }
 * planDistribution({ "serie x": 1 })._tag // => "Skipped"
 * ```
 *
 * @since 0.1.0
 * @category distributions
 */
export const planDistribution = (value: unknown, vocabulary: Vocabulary<string> = stageVocabulary): DistributionPlan => {
  if (!Array.isArray(value) && !isPlainObject(value)) {
    return { _tag: "Skipped", issues: [{ kind: "not-a-distribution", value: value === null ? "null" : typeof value }] }
  }
  if (isCanonicalShape(value, vocabulary)) return UNCHANGED
  const parsed = parseStageDistribution(value, vocabulary)
  if (parsed.issues.length > 0) {
    const issues = parsed.issues.map((issue) => {
      switch (issue._tag) {
        case "UnknownStage":
          return { kind: "unknown-stage" as const, value: issue.input }
        case "InvalidWeight":
          return { kind: "invalid-weight" as const, value: issue.input }
        case "InvalidEntry":
          return { kind: "invalid-entry" as const, value: issue.message }
        case "NotADistribution":
          return { kind: "not-a-distribution" as const, value: issue.received }
        case "TooManyEntries":
          return { kind: "not-a-distribution" as const, value: issue.message }
      }
    })
    return { _tag: "Skipped", issues }
  }
  let next: unknown
  let oldWeights: Array<number>
  let newWeights: Array<number>
  if (Array.isArray(value)) {
    const entries = value as ReadonlyArray<Record<string, unknown>>
    oldWeights = entries.map((e) => e["weight"] as number)
    const stages = entries.map((e) => {
      const r = normalizeStage(e["stage"] as string, vocabulary)
      return r._tag === "Canonical" ? r.stage : (e["stage"] as string)
    })
    if (new Set(stages).size === stages.length) {
      next = entries.map((e, i) => {
        // prototype-free: an extra field named "__proto__" stays an ordinary field
        const out: Record<string, unknown> = Object.create(null)
        for (const key of Object.keys(e)) out[key] = key === "stage" ? stages[i] : e[key]
        return out
      })
      newWeights = oldWeights
    } else {
      const extra = entries.flatMap((e) => Object.keys(e).filter((k) => k !== "stage" && k !== "weight"))
      if (extra.length > 0) return { _tag: "Skipped", issues: [{ kind: "extra-fields", value: extra[0]! }] }
      next = parsed.normalized.map((e) => ({ stage: e.stage, weight: e.weight }))
      newWeights = parsed.normalized.map((e) => e.weight)
    }
  } else {
    const object = value as Record<string, unknown>
    oldWeights = Object.keys(object).map((k) => object[k] as number)
    const out: Record<string, number> = {}
    for (const e of parsed.normalized) out[e.stage] = e.weight
    next = out
    newWeights = parsed.normalized.map((e) => e.weight)
  }
  const oldSum = sumOf(oldWeights)
  const newSum = sumOf(newWeights)
  if (Math.abs(newSum - oldSum) > ROUNDING_SLACK * Math.abs(oldSum)) {
    return { _tag: "Skipped", issues: [{ kind: "weight-sum-drift", value: `${oldSum} → ${newSum}` }] }
  }
  return { _tag: "Changed", value: next, oldSum, newSum }
}

const weightsSum = (v: unknown): number =>
  Array.isArray(v)
    ? sumOf(v.map((e) => (e as Record<string, number>)["weight"] ?? 0))
    : sumOf(Object.values(v as Record<string, number>))

/**
 * A plan with the audit reason of a change: `normalized`, or the forced reason(s) when
 * `--force-unknown` mapped an unknown stage.
 *
 * @since 0.1.0
 * @category models
 */
type ReasonedPlan =
  | { readonly _tag: "Unchanged" }
  | {
    readonly _tag: "Changed"
    readonly value: unknown
    readonly oldSum: number
    readonly newSum: number
    readonly reason: string
  }
  | { readonly _tag: "Skipped"; readonly issues: ReadonlyArray<{ readonly kind: SkipKind; readonly value: string }> }

/**
 * {@link planDistribution}, then — when `force` is given and the only problems are unknown stages
 * that all have a forced mapping (see `ForceUnknown`) — the plan of the distribution with those
 * stages replaced. Replaced object keys that collide are merged by summing, as the normaliser
 * merges aliases; the weight sum is preserved either way.
 *
 * @example
 * ```ts
 * import { planForcedDistribution } from "./DistributionPlan.ts" // internal: not part of the package's API
 * planForcedDistribution({ "serie a": 0.5, "seed": 0.5 }, {})
 * // => { _tag: "Changed", value: { seed: 0.5, "series-a": 0.5 }, oldSum: 1, newSum: 1, reason: "forced:edit-distance-1" }
 * ```
 *
 * @since 0.1.0
 * @category distributions
 */
export const planForcedDistribution = (
  value: unknown,
  force: ForceUnknownOptions | undefined,
  vocabulary: Vocabulary<string> = stageVocabulary
): ReasonedPlan => {
  const plan = planDistribution(value, vocabulary)
  if (plan._tag === "Changed") return { ...plan, reason: "normalized" }
  if (plan._tag === "Unchanged" || force === undefined) return plan
  if (!plan.issues.every((issue) => issue.kind === "unknown-stage")) return plan
  const reasons = new Set<string>()
  const resolve = (stage: string): string | undefined => {
    const forced = forcedStage(stage, force, vocabulary)
    if (forced !== undefined) reasons.add(forced.reason)
    return forced?.stage
  }
  for (const issue of plan.issues) if (resolve(issue.value) === undefined) return plan
  let remapped: unknown
  if (Array.isArray(value)) {
    remapped = (value as ReadonlyArray<Record<string, unknown>>).map((entry) => {
      const out: Record<string, unknown> = Object.create(null)
      for (const key of Object.keys(entry)) {
        const v = entry[key]
        out[key] = key === "stage" && typeof v === "string" ? resolve(v) ?? v : v
      }
      return out
    })
  } else {
    const object = value as Record<string, unknown>
    const out: Record<string, unknown> = Object.create(null)
    for (const key of Object.keys(object)) {
      const stage = resolve(key) ?? key
      const weight = object[key]
      out[stage] = Object.hasOwn(out, stage) ? (out[stage] as number) + (weight as number) : weight
    }
    remapped = out
  }
  const next = planDistribution(remapped, vocabulary)
  const reason = [...reasons].sort().join("+")
  if (next._tag === "Skipped") return next
  const oldSum = weightsSum(value)
  if (next._tag === "Unchanged") {
    return { _tag: "Changed", value: remapped, oldSum, newSum: weightsSum(remapped), reason }
  }
  if (Math.abs(next.newSum - oldSum) > ROUNDING_SLACK * Math.abs(oldSum)) {
    return { _tag: "Skipped", issues: [{ kind: "weight-sum-drift", value: `${oldSum} → ${next.newSum}` }] }
  }
  return { _tag: "Changed", value: next.value, oldSum, newSum: next.newSum, reason }
}
