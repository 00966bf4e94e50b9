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
 * Bounded by construction: a distribution of more than `maxEntries` (default
 * {@link MAX_DISTRIBUTION_ENTRIES}) entries is refused with one `TooManyEntries` issue before any entry is read, a stage longer than
 * `MAX_INPUT_LENGTH` is unknown without being folded or suggested for, and messages quote at
 * most the first `MAX_INPUT_LENGTH` characters of what they echo.
 *
 * @since 0.1.0
 */
import { MAX_INPUT_LENGTH } from "./KeyFolding.ts"
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
 * Default for the most entries a distribution may have (array elements or object keys):
 * 10,000, twice the largest size the seeds budget for (5,000 entries in 25 ms). Larger
 * distributions are refused with a `TooManyEntries` issue, without reading any entry. Pass
 * `{ maxEntries }` for a tighter bound; the HTTP boundary uses 64 per route by default.
 *
 * @since 0.3.0
 * @category constants
 */
export const MAX_DISTRIBUTION_ENTRIES = 10_000

/**
 * @since 0.3.0
 * @category models
 */
export interface ParseDistributionOptions {
  /** most entries accepted (default {@link MAX_DISTRIBUTION_ENTRIES}); more is one `TooManyEntries` issue */
  readonly maxEntries?: number | undefined
}

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
  | {
    readonly _tag: "TooManyEntries"
    readonly path: ReadonlyArray<PropertyKey>
    /** entries counted (for the object form, counting stops at `max + 1`) */
    readonly count: number
    readonly max: number
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

/** An input string as messages quote it: JSON, at most `MAX_INPUT_LENGTH` characters of it. */
const quote = (stage: string): string =>
  JSON.stringify(stage.length > MAX_INPUT_LENGTH ? stage.slice(0, MAX_INPUT_LENGTH) + "…" : stage)

/** Own enumerable keys of a plain object, counted up to `max + 1` and no further. */
const countKeys = (o: Record<string, unknown>, max: number): number => {
  let n = 0
  for (const key in o) {
    if (Object.hasOwn(o, key) && ++n > max) break
  }
  return n
}

const describeWeight = (weight: unknown): string => {
  if (typeof weight === "number") return String(weight)
  if (typeof weight === "string") return JSON.stringify(weight.length > 32 ? weight.slice(0, 32) + "…" : weight)
  return kindOf(weight)
}

/** State of the unhappy path, allocated only when a parse meets its first problem. */
class Problems<C extends string> {
  readonly invalidInputs: Array<string> = []
  readonly invalidSeen = new Set<string>()
  readonly suggestions = Object.create(null) as Record<string, ReadonlyArray<C>>
  readonly issues: Array<DistributionIssue<C>> = []

  unknown(stage: string, suggestions: ReadonlyArray<C>, path: ReadonlyArray<PropertyKey>): void {
    if (!this.invalidSeen.has(stage)) {
      this.invalidSeen.add(stage)
      this.invalidInputs.push(stage)
      this.suggestions[stage] = suggestions
    }
    this.issues.push({
      _tag: "UnknownStage",
      path,
      input: stage,
      suggestions,
      message: stage.length > MAX_INPUT_LENGTH
        ? `unknown stage ${quote(stage)}: longer than ${MAX_INPUT_LENGTH} characters (${stage.length})`
        : `unknown stage ${quote(stage)}` + (suggestions.length > 0 ? `; did you mean ${suggestions.join(", ")}?` : "")
    })
  }

  weight(stage: string, weight: unknown, problem: WeightProblem, path: ReadonlyArray<PropertyKey>): void {
    this.issues.push({
      _tag: "InvalidWeight",
      path,
      input: stage,
      reason: problem,
      message: `weight of ${quote(stage)} is ${problem}${
        problem === "missing" ? "" : ` (${describeWeight(weight)})`
      }; expected a finite number ≥ 0`
    })
  }
}

/** Records an accepted alias once; a Set takes over from `includes` once the list grows. */
const addDeprecated = (list: Array<string>, seen: Set<string> | undefined, stage: string): Set<string> | undefined => {
  if (seen !== undefined) {
    if (!seen.has(stage)) {
      seen.add(stage)
      list.push(stage)
    }
    return seen
  }
  if (list.includes(stage)) return undefined
  list.push(stage)
  return list.length > 16 ? new Set(list) : undefined
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
  <C extends string>(input: unknown, vocabulary: Vocabulary<C>, options?: ParseDistributionOptions): StageDistributionResult<C>
} = <C extends string>(input: unknown, vocabulary?: Vocabulary<C>, options?: ParseDistributionOptions): StageDistributionResult<C> => {
  const vocab = vocabulary ?? (stageVocabulary as unknown as Vocabulary<C>)
  const maxEntries = options?.maxEntries ?? MAX_DISTRIBUTION_ENTRIES
  const canonical = vocab.canonical
  const count = canonical.length
  // A plain array, not a Float64Array: typed-array allocation costs more than the whole parse of a
  // small distribution. -1 marks a stage not present (weights are ≥ 0).
  const weights = count === 6 ? [-1, -1, -1, -1, -1, -1] : new Array<number>(count).fill(-1)
  let sum = 0
  let present = 0
  let deprecatedInputs: Array<string> | undefined
  let deprecatedSeen: Set<string> | undefined
  let problems: Problems<C> | undefined
  const issue = (i: DistributionIssue<C>) => (problems ??= new Problems<C>()).issues.push(i)

  try {
    const isArray = Array.isArray(input)
    if (!isArray && !isPlainObject(input)) {
      const received = kindOf(input)
      issue({
        _tag: "NotADistribution",
        path: [],
        received,
        message: `expected an array of { stage, weight } or an object of stage → weight, got ${received}`
      })
    } else if ((isArray ? input.length : countKeys(input, maxEntries)) > maxEntries) {
      const count = isArray ? input.length : maxEntries + 1
      issue({
        _tag: "TooManyEntries",
        path: [],
        count,
        max: maxEntries,
        message: `a distribution has at most ${maxEntries} entries, got ${isArray ? count : `more than ${maxEntries}`}`
      })
    } else {
      const keys = isArray ? undefined : Object.keys(input)
      const n = isArray ? input.length : keys!.length
      for (let i = 0; i < n; i++) {
        let stage: unknown
        let weight: unknown
        if (isArray) {
          const entry: unknown = input[i]
          if (!isPlainObject(entry)) {
            issue({ _tag: "InvalidEntry", path: [i], message: `entry must be an object { stage, weight }, got ${kindOf(entry)}` })
            continue
          }
          stage = entry["stage"]
          weight = entry["weight"]
        } else {
          stage = keys![i]
          weight = (input as Record<string, unknown>)[stage as string]
        }
        if (typeof stage !== "string") {
          issue({ _tag: "InvalidEntry", path: [i, "stage"], message: `stage must be a string, got ${kindOf(stage)}` })
          continue
        }
        const result = normalizeStage(stage, vocab)
        if (result._tag === "Unknown") {
          ;(problems ??= new Problems<C>()).unknown(stage, result.suggestions, isArray ? [i, "stage"] : [stage])
        } else if (result.deprecated) {
          deprecatedSeen = addDeprecated((deprecatedInputs ??= []), deprecatedSeen, stage)
        }
        if (typeof weight !== "number" || !(weight >= 0) || weight === Infinity) {
          ;(problems ??= new Problems<C>()).weight(stage, weight, weightProblem(weight)!, isArray ? [i, "weight"] : [stage])
          continue
        }
        if (result._tag === "Canonical") {
          const index = vocab.order.get(result.stage)!
          const previous = weights[index]!
          if (previous < 0) {
            weights[index] = weight
            present++
          } else {
            weights[index] = previous + weight
          }
          sum += weight
        }
      }
    }
  } catch (cause) {
    // Only exotic JavaScript values (throwing getters, revoked proxies) get here; JSON never does.
    issue({
      _tag: "NotADistribution",
      path: [],
      received: "unreadable",
      message: `the input could not be read: ${cause instanceof Error ? cause.message : String(cause)}`
    })
  }

  const normalized = new Array<{ readonly stage: C; readonly weight: number }>(present)
  for (let i = 0, j = 0; i < count; i++) {
    const w = weights[i]!
    if (w >= 0) normalized[j++] = { stage: canonical[i]!, weight: w }
  }
  const issues = problems?.issues ?? emptyList
  return {
    normalized,
    invalidInputs: problems?.invalidInputs ?? emptyList,
    deprecatedInputs: deprecatedInputs ?? emptyList,
    suggestions: problems?.suggestions ?? emptyRecord,
    sum,
    issues,
    isValid: issues.length === 0 && Math.abs(1 - sum) <= SUM_TOLERANCE
  }
}
