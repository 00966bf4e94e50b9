/**
 * What the migration does with one stored distribution (its JSON text), decided in TypeScript with
 * `parseStageDistribution` semantics:
 *
 * - **Unchanged** when every stage is spelt canonically and appears once (weights are not this
 *   migration's business: verification checks them);
 * - **Changed** otherwise, when every stage is known and every weight valid: stages canonical,
 *   duplicates merged by summing. An array keeps its order and any extra fields of its entries
 *   when nothing has to be merged; a merged array is `[{ stage, weight }]` in canonical order; an
 *   object becomes `{ stage: weight }` in canonical order. The new JSON text is assembled from
 *   the stored one (`DistributionJson`): every value the migration does not change — weights,
 *   extra fields, nested values, numbers of any size or precision — keeps its exact text, and
 *   merged weights are exact `numeric` sums (`DistributionSum`). The weight sum is therefore
 *   preserved (a guard still skips a row whose float sum would move by a relative 1e-9);
 * - **Skipped** (left as it is and reported) when a stage is unknown, a weight or entry invalid,
 *   the value is not a distribution, or merging would drop extra fields.
 *
 * @since 0.1.0
 */
import { normalizeStage } from "../../normalizer/NormalizeStage.ts"
import { parseStageDistribution } from "../../normalizer/StageDistribution.ts"
import { stageVocabulary } from "../../normalizer/StageVocabulary.ts"
import type { Vocabulary } from "../../normalizer/Vocabulary.ts"
import { type DistributionJson, fieldText, readDistributionJson, renderObject, withStage } from "./DistributionJson.ts"
import { sumExact } from "./DistributionSum.ts"
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
  | {
    readonly _tag: "Changed"
    /** The new value (as `JSON.parse` reads `json`: for display and comparisons). */
    readonly value: unknown
    /** The new value's JSON text: what is written (every unchanged value exactly as stored). */
    readonly json: string
    readonly oldSum: number
    readonly newSum: number
  }
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

const weightsSum = (v: unknown): number =>
  Array.isArray(v)
    ? sumOf(v.map((e) => (e as Record<string, number>)["weight"] ?? 0))
    : sumOf(Object.values(v as Record<string, number>))

const canonicalOf = (stage: string, vocabulary: Vocabulary<string>): string => {
  const r = normalizeStage(stage, vocabulary)
  return r._tag === "Canonical" ? r.stage : stage
}

type Plan = DistributionPlan

const notExact = (stage: string): Plan => ({ _tag: "Skipped", issues: [{ kind: "invalid-weight", value: stage }] })

/** A change, unless merging moved the weight sum (it cannot with exact sums: a guard). */
const changed = (json: string, oldSum: number): Plan => {
  const value = JSON.parse(json) as unknown
  const newSum = weightsSum(value)
  if (Math.abs(newSum - oldSum) > ROUNDING_SLACK * Math.abs(oldSum)) {
    return { _tag: "Skipped", issues: [{ kind: "weight-sum-drift", value: `${oldSum} → ${newSum}` }] }
  }
  return { _tag: "Changed", value, json, oldSum, newSum }
}

/** Merge groups `{ stage: [weight texts] }` in canonical order into `[stage, exact sum]` pairs. */
const mergeGroups = (
  order: ReadonlyArray<{ readonly stage: string }>,
  groups: ReadonlyMap<string, ReadonlyArray<string>>
): ReadonlyArray<readonly [string, string]> | string => {
  const out: Array<readonly [string, string]> = []
  for (const { stage } of order) {
    const sum = sumExact(groups.get(stage) ?? [])
    if (sum === undefined) return stage
    out.push([stage, sum])
  }
  return out
}

const planArray = (
  doc: DistributionJson,
  entries: ReadonlyArray<Record<string, unknown>>,
  normalized: ReadonlyArray<{ readonly stage: string }>,
  vocabulary: Vocabulary<string>
): Plan => {
  const items = doc._tag === "Array" ? doc.items : []
  const fields = items.flatMap((item) => (item._tag === "Fields" ? [item] : []))
  if (fields.length !== entries.length) return { _tag: "Skipped", issues: [{ kind: "invalid-entry", value: "not an object" }] }
  const oldSum = sumOf(entries.map((e) => e["weight"] as number))
  const stages = entries.map((e) => canonicalOf(e["stage"] as string, vocabulary))
  if (new Set(stages).size === stages.length) {
    return changed(`[${fields.map((entry, i) => withStage(entry, stages[i]!)).join(",")}]`, oldSum)
  }
  const extra = entries.flatMap((e) => Object.keys(e).filter((k) => k !== "stage" && k !== "weight"))
  if (extra.length > 0) return { _tag: "Skipped", issues: [{ kind: "extra-fields", value: extra[0]! }] }
  const groups = new Map<string, Array<string>>()
  fields.forEach((entry, i) => {
    const group = groups.get(stages[i]!) ?? []
    group.push(fieldText(entry, "weight") ?? "")
    groups.set(stages[i]!, group)
  })
  const merged = mergeGroups(normalized, groups)
  if (typeof merged === "string") return notExact(merged)
  return changed(`[${merged.map(([stage, w]) => renderObject([["stage", JSON.stringify(stage)], ["weight", w]])).join(",")}]`, oldSum)
}

const planObject = (
  doc: DistributionJson,
  object: Record<string, unknown>,
  normalized: ReadonlyArray<{ readonly stage: string }>,
  vocabulary: Vocabulary<string>
): Plan => {
  const texts = new Map<string, string>(doc._tag === "Fields" ? doc.fields.map(([k, v]) => [k, v.text] as const) : [])
  const groups = new Map<string, Array<string>>()
  for (const key of Object.keys(object)) {
    const stage = canonicalOf(key, vocabulary)
    const group = groups.get(stage) ?? []
    group.push(texts.get(key) ?? "")
    groups.set(stage, group)
  }
  const merged = mergeGroups(normalized, groups)
  if (typeof merged === "string") return notExact(merged)
  return changed(renderObject(merged), sumOf(Object.keys(object).map((k) => object[k] as number)))
}

const planParsed = (text: string, value: unknown, vocabulary: Vocabulary<string>): Plan => {
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
  const doc = readDistributionJson(text)
  return Array.isArray(value)
    ? planArray(doc, value as ReadonlyArray<Record<string, unknown>>, parsed.normalized, vocabulary)
    : planObject(doc, value as Record<string, unknown>, parsed.normalized, vocabulary)
}

/** Parse a stored JSON text; an unparsable one is not a distribution. */
const parseText = (text: string): { readonly value: unknown } | undefined => {
  try {
    return { value: JSON.parse(text) as unknown }
  } catch {
    return undefined
  }
}

const NOT_JSON: Plan = { _tag: "Skipped", issues: [{ kind: "not-a-distribution", value: "invalid JSON" }] }

/**
 * Decide what to do with one stored distribution, given as its JSON text (as PostgreSQL renders
 * the `jsonb` value): the new value's JSON text (`json`) keeps every value the migration does not
 * change exactly as stored, and merged weights are exact `numeric` sums (see `DistributionSum`).
 *
 * @example
 * ```ts
 * import { planDistributionJson } from "./DistributionPlan.ts" // internal: not part of the package's API
 * const plan = planDistributionJson(`[{"stage": "Series A", "weight": 1, "ref": 12345678901234567890}]`)
 * // plan.json => '[{"stage":"series-a","weight":1,"ref":12345678901234567890}]'
 * ```
 *
 * @since 0.4.0
 * @category distributions
 */
export const planDistributionJson = (text: string, vocabulary: Vocabulary<string> = stageVocabulary): DistributionPlan => {
  const parsed = parseText(text)
  return parsed === undefined ? NOT_JSON : planParsed(text, parsed.value, vocabulary)
}

/**
 * Decide what to do with one distribution given as a JavaScript value (its `JSON.stringify` text:
 * see {@link planDistributionJson}, which the migration uses on the stored text).
 *
 * @example
 * ```ts
 * import { planDistribution } from "./DistributionPlan.ts" // internal: not part of the package's API
 * planDistribution([{ stage: "Series A", weight: 0.4 }, { stage: "series_a", weight: 0.6 }])
 * // => { _tag: "Changed", value: [{ stage: "series-a", weight: 1 }], json: '[{"stage":"series-a","weight":1.0}]', oldSum: 1, newSum: 1 }
 * planDistribution({ seed: 1 })          // => { _tag: "Unchanged" }
 * planDistribution({ "serie x": 1 })._tag // => "Skipped"
 * ```
 *
 * @since 0.1.0
 * @category distributions
 */
export const planDistribution = (value: unknown, vocabulary: Vocabulary<string> = stageVocabulary): DistributionPlan => {
  const text = value === undefined ? undefined : JSON.stringify(value) as string | undefined
  if (text === undefined) return { _tag: "Skipped", issues: [{ kind: "not-a-distribution", value: typeof value }] }
  return planDistributionJson(text, vocabulary)
}

/**
 * A plan with the audit reason of a change: `normalized`, or the forced reason(s) when
 * `--force-unknown` mapped an unknown stage.
 *
 * @since 0.1.0
 * @category models
 */
type ReasonedPlan =
  | Exclude<DistributionPlan, { readonly _tag: "Changed" }>
  | (Extract<DistributionPlan, { readonly _tag: "Changed" }> & { readonly reason: string })

/** The JSON text of a distribution with its stages replaced by `resolve` (colliding keys summed exactly). */
const remapText = (text: string, value: unknown, resolve: (stage: string) => string | undefined): string | undefined => {
  const doc = readDistributionJson(text)
  if (doc._tag === "Array") {
    const items: Array<string> = []
    for (const item of doc.items) {
      if (item._tag === "Raw") return undefined
      const stage = JSON.parse(fieldText(item, "stage") ?? "null") as unknown
      items.push(typeof stage === "string" ? withStage(item, resolve(stage) ?? stage) : renderObject(item.fields.map(([k, v]) => [k, v.text])))
    }
    return `[${items.join(",")}]`
  }
  if (doc._tag !== "Fields" || !isPlainObject(value)) return undefined
  const texts = new Map<string, string>(doc.fields.map(([k, v]) => [k, v.text] as const))
  const groups = new Map<string, Array<string>>()
  for (const key of Object.keys(value)) {
    const stage = resolve(key) ?? key
    const group = groups.get(stage) ?? []
    group.push(texts.get(key) ?? "")
    groups.set(stage, group)
  }
  const pairs: Array<readonly [string, string]> = []
  for (const [stage, group] of groups) {
    const sum = sumExact(group)
    if (sum === undefined) return undefined
    pairs.push([stage, sum])
  }
  return renderObject(pairs)
}

/**
 * {@link planDistributionJson}, then — when `force` is given and the only problems are unknown
 * stages that all have a forced mapping (see `ForceUnknown`) — the plan of the distribution with
 * those stages replaced. Replaced object keys that collide are merged by an exact sum, as aliases
 * are; every other value keeps its exact text.
 *
 * @example
 * ```ts
 * import { planForcedDistributionJson } from "./DistributionPlan.ts" // internal: not part of the package's API
 * planForcedDistributionJson(`{"serie a": 0.5, "series-a": 0.25}`, {})
 * // => { _tag: "Changed", value: { "series-a": 0.75 }, json: '{"series-a":0.75}', oldSum: 0.75, newSum: 0.75, reason: "forced:edit-distance-1" }
 * ```
 *
 * @since 0.4.0
 * @category distributions
 */
export const planForcedDistributionJson = (
  text: string,
  force: ForceUnknownOptions | undefined,
  vocabulary: Vocabulary<string> = stageVocabulary
): ReasonedPlan => {
  const plan = planDistributionJson(text, vocabulary)
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
  const value = JSON.parse(text) as unknown
  const remapped = remapText(text, value, resolve)
  if (remapped === undefined) return plan
  const next = planDistributionJson(remapped, vocabulary)
  const reason = [...reasons].sort().join("+")
  if (next._tag === "Skipped") return next
  const oldSum = weightsSum(value)
  const result = next._tag === "Unchanged" ? changed(remapped, oldSum) : changed(next.json, oldSum)
  return result._tag === "Changed" ? { ...result, reason } : result
}

/**
 * {@link planForcedDistributionJson} of a JavaScript value (its `JSON.stringify` text).
 *
 * @example
 * ```ts
 * import { planForcedDistribution } from "./DistributionPlan.ts" // internal: not part of the package's API
 * planForcedDistribution({ "serie a": 0.5, "seed": 0.5 }, {})
 * // => { _tag: "Changed", value: { seed: 0.5, "series-a": 0.5 }, json: '{"seed":0.5,"series-a":0.5}', oldSum: 1, newSum: 1, reason: "forced:edit-distance-1" }
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
  const text = value === undefined ? undefined : JSON.stringify(value) as string | undefined
  if (text === undefined) return { _tag: "Skipped", issues: [{ kind: "not-a-distribution", value: typeof value }] }
  return planForcedDistributionJson(text, force, vocabulary)
}
