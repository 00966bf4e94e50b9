/**
 * `parseStageDistribution`: a weighted distribution over stages, in either input form
 * (`[{ stage, weight }, …]` or `{ [stage]: weight }`), normalised: stages canonical and merged by
 * summing, in canonical order, with every problem reported as data. It never throws, whatever
 * it is given, and never writes an input string as a property of an object with a prototype
 * (`"__proto__"` is an ordinary unknown stage).
 *
 * A distribution is valid when it has no issues and its weights sum to 1 within
 * {@link SUM_TOLERANCE}.
 *
 * @since 0.1.0
 */
import { normalizeStage } from "./NormalizeStage.ts"
import type { CanonicalStage } from "./Stages.ts"
import { stageVocabulary } from "./StageVocabulary.ts"
import type { Vocabulary } from "./Vocabulary.ts"

/**
 * Largest accepted `|1 − sum|` for a valid distribution.
 *
 * @since 0.1.0
 * @category constants
 */
export const SUM_TOLERANCE = 1e-6

/**
 * Why a weight was refused.
 *
 * @since 0.1.0
 * @category models
 */
export type WeightProblem = "missing" | "not-a-number" | "not-finite" | "negative"

/**
 * One problem found in a distribution, with the path to the offending entry (`[index, "stage"]`
 * / `[index, "weight"]` for the array form, `[stage]` for the object form).
 *
 * @since 0.1.0
 * @category models
 */
export type DistributionIssue<C extends string = CanonicalStage> =
  | {
    readonly _tag: "NotADistribution"
    readonly path: ReadonlyArray<PropertyKey>
    readonly received: string
    readonly message: string
  }
  | { readonly _tag: "InvalidEntry"; readonly path: ReadonlyArray<PropertyKey>; readonly message: string }
  | {
    readonly _tag: "InvalidWeight"
    readonly path: ReadonlyArray<PropertyKey>
    readonly input: string
    readonly reason: WeightProblem
    readonly message: string
  }
  | {
    readonly _tag: "UnknownStage"
    readonly path: ReadonlyArray<PropertyKey>
    readonly input: string
    readonly suggestions: ReadonlyArray<C>
    readonly message: string
  }

/**
 * The contract result (ARCHITECTURE.md), extended with `issues` and `isValid`.
 *
 * @since 0.1.0
 * @category models
 */
export interface StageDistributionResult<C extends string = CanonicalStage> {
  /** Merged, in canonical order, one entry per stage present. */
  readonly normalized: ReadonlyArray<{ readonly stage: C; readonly weight: number }>
  /** Unknown stage strings, in input order, each once. */
  readonly invalidInputs: ReadonlyArray<string>
  /** Accepted aliases (not canonical spelling), in input order, each once. */
  readonly deprecatedInputs: ReadonlyArray<string>
  /** Suggestions per invalid input (a prototype-free record). */
  readonly suggestions: Readonly<Record<string, ReadonlyArray<C>>>
  /** Sum of the valid weights (known stage, finite weight ≥ 0). */
  readonly sum: number
  /** Every problem found, with paths; empty for a well-formed distribution. */
  readonly issues: ReadonlyArray<DistributionIssue<C>>
  /** No issues and `|1 − sum| ≤ SUM_TOLERANCE`. */
  readonly isValid: boolean
}

const emptyRecord: Readonly<Record<string, never>> = Object.freeze(Object.create(null))
const emptyList: ReadonlyArray<never> = Object.freeze([])

const kindOf = (u: unknown): string => (u === null ? "null" : Array.isArray(u) ? "array" : typeof u)

const isPlainObject = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return false
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

const weightProblem = (weight: unknown): WeightProblem | undefined => {
  if (typeof weight !== "number") return weight === undefined ? "missing" : "not-a-number"
  if (!Number.isFinite(weight)) return "not-finite"
  if (weight < 0) return "negative"
  return undefined
}

const describeWeight = (weight: unknown): string => {
  if (typeof weight === "number") return String(weight)
  if (typeof weight === "string") return JSON.stringify(weight.length > 32 ? weight.slice(0, 32) + "…" : weight)
  return kindOf(weight)
}

/** Mutable accumulator for one parse; plain arrays, no per-entry allocation on the happy path. */
class Accumulator<C extends string> {
  readonly weights: Float64Array
  sum = 0
  present = 0
  invalidInputs: Array<string> | undefined
  invalidSeen: Set<string> | undefined
  deprecatedInputs: Array<string> | undefined
  suggestions: Record<string, ReadonlyArray<C>> | undefined
  deprecatedSeen: Set<string> | undefined
  issues: Array<DistributionIssue<C>> | undefined
  readonly vocabulary: Vocabulary<C>
  constructor(vocabulary: Vocabulary<C>) {
    this.vocabulary = vocabulary
    this.weights = new Float64Array(vocabulary.canonical.length).fill(-1)
  }

  /** Record an accepted alias once; a Set takes over from `includes` once the list grows. */
  deprecated(stage: string): void {
    const list = (this.deprecatedInputs ??= [])
    if (this.deprecatedSeen !== undefined) {
      if (this.deprecatedSeen.has(stage)) return
      this.deprecatedSeen.add(stage)
    } else if (list.includes(stage)) {
      return
    } else if (list.length >= 16) {
      this.deprecatedSeen = new Set(list).add(stage)
    }
    list.push(stage)
  }

  issue(issue: DistributionIssue<C>): void {
    ;(this.issues ??= []).push(issue)
  }

  entry(stage: unknown, weight: unknown, stagePath: ReadonlyArray<PropertyKey>, weightPath: ReadonlyArray<PropertyKey>) {
    if (typeof stage !== "string") {
      this.issue({ _tag: "InvalidEntry", path: stagePath, message: `stage must be a string, got ${kindOf(stage)}` })
      return
    }
    const result = normalizeStage(stage, this.vocabulary)
    const problem = weightProblem(weight)
    if (result._tag === "Unknown") {
      if (this.invalidSeen === undefined) {
        this.invalidSeen = new Set()
        this.invalidInputs = []
        this.suggestions = Object.create(null) as Record<string, ReadonlyArray<C>>
      }
      if (!this.invalidSeen.has(stage)) {
        this.invalidSeen.add(stage)
        this.invalidInputs!.push(stage)
        this.suggestions![stage] = result.suggestions
      }
      this.issue({
        _tag: "UnknownStage",
        path: stagePath,
        input: stage,
        suggestions: result.suggestions,
        message: `unknown stage ${JSON.stringify(stage)}` +
          (result.suggestions.length > 0 ? `; did you mean ${result.suggestions.join(", ")}?` : "")
      })
    } else if (result.deprecated) {
      this.deprecated(stage)
    }
    if (problem !== undefined) {
      this.issue({
        _tag: "InvalidWeight",
        path: weightPath,
        input: stage,
        reason: problem,
        message: `weight of ${JSON.stringify(stage)} is ${problem}${problem === "missing" ? "" : ` (${describeWeight(weight)})`}; expected a finite number ≥ 0`
      })
      return
    }
    if (result._tag === "Canonical") {
      const index = this.vocabulary.order.get(result.stage)!
      const w = weight as number
      if (this.weights[index]! < 0) {
        this.weights[index] = w
        this.present++
      } else {
        this.weights[index]! += w
      }
      this.sum += w
    }
  }

  result(): StageDistributionResult<C> {
    const normalized = new Array<{ readonly stage: C; readonly weight: number }>(this.present)
    const canonical = this.vocabulary.canonical
    for (let i = 0, j = 0; i < this.weights.length; i++) {
      const w = this.weights[i]!
      if (w >= 0) normalized[j++] = { stage: canonical[i]!, weight: w }
    }
    const issues = this.issues ?? emptyList
    return {
      normalized,
      invalidInputs: this.invalidInputs ?? emptyList,
      deprecatedInputs: this.deprecatedInputs ?? emptyList,
      suggestions: this.suggestions ?? emptyRecord,
      sum: this.sum,
      issues,
      isValid: issues.length === 0 && Math.abs(1 - this.sum) <= SUM_TOLERANCE
    }
  }
}

/**
 * Parse and normalise a stage distribution. Accepts `[{ stage, weight }, …]` or
 * `{ [stage]: weight }`; anything else yields a result with a `NotADistribution` issue.
 *
 * @example
 * ```ts
 * import { parseStageDistribution } from "stage-normalization"
 *
 * const r = parseStageDistribution([
 *   { stage: "Series A", weight: 0.4 },
 *   { stage: "series_a", weight: 0.1 },
 *   { stage: "seed", weight: 0.5 }
 * ])
 * r.normalized       // => [{ stage: "seed", weight: 0.5 }, { stage: "series-a", weight: 0.5 }]
 * r.deprecatedInputs // => ["Series A", "series_a"]
 * r.sum              // => 1
 * r.isValid          // => true
 *
 * parseStageDistribution({ seed: 0.5, "serie a": 0.5 }).suggestions // => { "serie a": ["series-a"] }
 * ```
 *
 * @since 0.1.0
 * @category normalizing
 */
export const parseStageDistribution: {
  (input: unknown): StageDistributionResult<CanonicalStage>
  <C extends string>(input: unknown, vocabulary: Vocabulary<C>): StageDistributionResult<C>
} = <C extends string>(input: unknown, vocabulary?: Vocabulary<C>): StageDistributionResult<C> => {
  const acc = new Accumulator<C>(vocabulary ?? (stageVocabulary as unknown as Vocabulary<C>))
  try {
    if (Array.isArray(input)) {
      for (let i = 0; i < input.length; i++) {
        const entry: unknown = input[i]
        if (!isPlainObject(entry)) {
          acc.issue({
            _tag: "InvalidEntry",
            path: [i],
            message: `entry must be an object { stage, weight }, got ${kindOf(entry)}`
          })
          continue
        }
        acc.entry(entry["stage"], entry["weight"], [i, "stage"], [i, "weight"])
      }
    } else if (isPlainObject(input)) {
      for (const key of Object.keys(input)) acc.entry(key, input[key], [key], [key])
    } else {
      const received = kindOf(input)
      acc.issue({
        _tag: "NotADistribution",
        path: [],
        received,
        message: `expected an array of { stage, weight } or an object of stage → weight, got ${received}`
      })
    }
  } catch (cause) {
    // Only exotic JavaScript values (throwing getters, revoked proxies) get here; JSON never does.
    acc.issue({
      _tag: "NotADistribution",
      path: [],
      received: "unreadable",
      message: `the input could not be read: ${cause instanceof Error ? cause.message : String(cause)}`
    })
  }
  return acc.result()
}
