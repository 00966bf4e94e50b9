/**
 * The boundary's pure core, shared by the Effect HTTP middleware and the plain-Node adapter:
 * given where a route keeps its stage data, the request's value there and the validation
 * decision, it normalises the value, classifies the request for the metrics, builds the
 * headers and, when the decision rejects invalid input, the 400 body. Plain synchronous code
 * with no Effect allocation (the hot path).
 *
 * Classification (`stage_validation_validations_total{result}`):
 *
 * - invalid input and `shouldReject` → `rejected` (the request is answered 400);
 * - invalid input and `shouldEmitWouldReject` (shadow) → `would_reject`;
 * - invalid input otherwise (warn, off, or outside the enforced percentage) → `invalid`;
 * - valid input that used alias spellings → `normalized`; valid canonical input → `ok`.
 *
 * "Invalid" means: an unknown stage (a value over 64 characters always is); for a distribution
 * also a bad weight, a malformed entry, more entries than the location allows (64 by default)
 * or weights not summing to 1 (±1e-6); for a single stage also a value that is not a string.
 *
 * @since 0.1.0
 */
import { normalizeStage } from "../normalizer/NormalizeStage.ts"
import { parseStageDistribution, type StageDistributionResult } from "../normalizer/StageDistribution.ts"
import { stageVocabulary } from "../normalizer/StageVocabulary.ts"
import type { CanonicalStage } from "../normalizer/Stages.ts"
import { invalidStageBody, type InvalidStageBody, type StageIssue } from "./ErrorBody.ts"
import type { PreparedHeaders } from "./PreparedHeaders.ts"
import { type HeaderSettings, prepareStageHeaders } from "./StageHeaders.ts"
import { BOUNDARY_MAX_DISTRIBUTION_ENTRIES, type StageLocation } from "./StageLocation.ts"

/**
 * The `result` label of `stage_validation_validations_total`.
 *
 * @since 0.1.0
 * @category models
 */
export type ValidationResult = "ok" | "normalized" | "invalid" | "rejected" | "would_reject"

/**
 * The part of the rollout `ValidationDecision` the boundary acts on.
 *
 * @since 0.1.0
 * @category models
 */
export interface BoundaryDecision {
  readonly mode: "off" | "warn" | "enforce"
  readonly shouldEmitHeaders: boolean
  readonly shouldReject: boolean
  readonly shouldEmitWouldReject: boolean
}

/**
 * A distribution entry the normaliser could not place (unknown stage), with its raw weight.
 *
 * @since 0.1.0
 * @category models
 */
export interface UnrecognizedEntry {
  readonly input: string
  readonly weight: unknown
}

/**
 * What the handler gets: the stage data in canonical form.
 *
 * - `Distribution`: merged canonical entries (canonical order) plus the entries whose stage was
 *   unknown (only non-empty when the request was let through: warn, off, shadow);
 * - `Stage`: the canonical stage, or `undefined` when the value was not recognised (`input`
 *   holds it);
 * - `Stages`: the canonical stages of a query parameter (deduplicated, canonical order) and the
 *   values that were not recognised;
 * - `Absent`: the route's stage field was not in the request.
 *
 * @since 0.1.0
 * @category models
 */
export type NormalizedStageData =
  | {
    readonly _tag: "Distribution"
    readonly entries: ReadonlyArray<{ readonly stage: CanonicalStage; readonly weight: number }>
    readonly unrecognized: ReadonlyArray<UnrecognizedEntry>
    readonly deprecatedInputs: ReadonlyArray<string>
    readonly sum: number
    readonly isValid: boolean
  }
  | { readonly _tag: "Stage"; readonly stage: CanonicalStage | undefined; readonly input: unknown }
  | {
    readonly _tag: "Stages"
    readonly stages: ReadonlyArray<CanonicalStage>
    readonly unrecognized: ReadonlyArray<string>
  }
  | { readonly _tag: "Absent" }

/**
 * The value found at a route's stage location.
 *
 * @since 0.1.0
 * @category models
 */
export type ExtractedValue = { readonly present: false } | { readonly present: true; readonly value: unknown }

const ABSENT: ExtractedValue = Object.freeze({ present: false })

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * The value of a body location in a parsed JSON body (own properties only: `__proto__` in a
 * body is an ordinary key and never reaches a prototype).
 *
 * @example
 * ```ts
 * import { extractFromBody } from "./EvaluateStages.ts" // internal: not part of the package's API
 * import { StageLocation } from "stage-normalization/http"
 * extractFromBody(StageLocation.bodyStage("stage"), { stage: "seed" }) // => { present: true, value: "seed" }
 * extractFromBody(StageLocation.bodyStage("stage"), [1, 2])           // => { present: false }
 * ```
 * @since 0.1.0
 * @category extracting
 */
export const extractFromBody = (location: StageLocation, body: unknown): ExtractedValue => {
  if (location._tag === "QueryStage" || !isRecord(body) || !Object.hasOwn(body, location.field)) return ABSENT
  const value = body[location.field]
  return value === undefined ? ABSENT : { present: true, value }
}

/**
 * The value of a query location in parsed search parameters (a string, or an array when the
 * parameter is repeated).
 *
 * @example
 * ```ts
 * import { extractFromQuery } from "./EvaluateStages.ts" // internal: not part of the package's API
 * extractFromQuery("stage", { stage: "Series A" }) // => { present: true, value: "Series A" }
 * ```
 * @since 0.1.0
 * @category extracting
 */
export const extractFromQuery = (
  param: string,
  params: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
): ExtractedValue => {
  if (!Object.hasOwn(params, param)) return ABSENT
  const value = params[param]
  return value === undefined ? ABSENT : { present: true, value }
}

/**
 * The outcome of the boundary for one request.
 *
 * @since 0.1.0
 * @category models
 */
export interface StageEvaluation<D extends BoundaryDecision = BoundaryDecision> {
  /** the decision the evaluation was made under */
  readonly decision: D
  readonly result: ValidationResult
  readonly invalid: boolean
  /** unknown stage strings (raw), for the offender log; never a metric label */
  readonly unknownStages: ReadonlyArray<string>
  readonly deprecatedInputs: ReadonlyArray<string>
  readonly data: NormalizedStageData
  /** the body with the stage field rewritten to canonical values (body locations) */
  readonly rewrite: (body: unknown) => unknown
  /** set when `result === "rejected"` */
  readonly errorBody: InvalidStageBody | undefined
  readonly headers: ReadonlyArray<readonly [string, string]>
  /** the same headers in every form the adapters write (shared, frozen) */
  readonly prepared: PreparedHeaders
}

const EMPTY: ReadonlyArray<never> = Object.freeze([])
const NO_SUGGESTIONS: Readonly<Record<string, never>> = Object.freeze(Object.create(null))
const identity = (body: unknown): unknown => body

const kindOf = (u: unknown): string => (u === null ? "null" : Array.isArray(u) ? "array" : typeof u)

const classify = (invalid: boolean, deprecated: boolean, decision: BoundaryDecision): ValidationResult =>
  invalid
    ? decision.shouldReject ? "rejected" : decision.shouldEmitWouldReject ? "would_reject" : "invalid"
    : deprecated
    ? "normalized"
    : "ok"

const rewriteField = (field: string, value: unknown) => (body: unknown): unknown =>
  isRecord(body) ? { ...body, [field]: value } : body

const isPlainObject = (u: unknown): u is Record<string, unknown> => {
  if (!isRecord(u)) return false
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/** Unknown-stage entries with their raw weights, only computed when there are some. */
const unrecognizedEntries = (value: unknown, invalid: ReadonlyArray<string>): ReadonlyArray<UnrecognizedEntry> => {
  if (invalid.length === 0) return EMPTY
  const unknown = new Set(invalid)
  const out: Array<UnrecognizedEntry> = []
  if (Array.isArray(value)) {
    for (const entry of value) {
      if (isPlainObject(entry)) {
        const stage = entry["stage"]
        if (typeof stage === "string" && unknown.has(stage)) out.push({ input: stage, weight: entry["weight"] })
      }
    }
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) if (unknown.has(key)) out.push({ input: key, weight: value[key] })
  }
  return out
}

const distributionIssues = (field: string, value: unknown, maxEntries: number): {
  readonly result: StageDistributionResult<CanonicalStage>
  readonly issues: ReadonlyArray<StageIssue>
} => {
  const result = parseStageDistribution(value, stageVocabulary, { maxEntries })
  if (result.isValid) return { result, issues: EMPTY }
  const issues: Array<StageIssue> = []
  for (const issue of result.issues) {
    if (issue._tag === "UnknownStage") continue
    if (issues.length >= 21) break
    issues.push({ path: [field, ...issue.path.map((p) => (typeof p === "number" ? p : String(p)))], message: issue.message })
  }
  if (result.issues.length === 0) {
    issues.push({ path: [field], message: `weights sum to ${result.sum}, expected 1 (±1e-6)` })
  }
  return { result, issues }
}

/**
 * Evaluates one request's stage value under a decision: see the module notes. `extracted` must
 * be present (an absent value is not validated and not counted).
 *
 * @example
 * ```ts
 * import { evaluateStages } from "./EvaluateStages.ts" // internal: not part of the package's API
 * import { StageLocation } from "stage-normalization/http"
 * const decision = { mode: "enforce", shouldEmitHeaders: true, shouldReject: true, shouldEmitWouldReject: false } as const
 * const e = evaluateStages(StageLocation.bodyDistribution(), [{ stage: "invalid", weight: 1 }], decision, {})
 * e.result            // => "rejected"
 * e.errorBody?.error  // => "INVALID_STAGE_DISTRIBUTION"
 * ```
 * @since 0.1.0
 * @category evaluating
 */
export const evaluateStages = <D extends BoundaryDecision>(
  location: StageLocation,
  value: unknown,
  decision: D,
  settings: HeaderSettings
): StageEvaluation<D> => {
  let invalid: boolean
  let unknownStages: ReadonlyArray<string>
  let deprecatedInputs: ReadonlyArray<string>
  let suggestions: Readonly<Record<string, ReadonlyArray<CanonicalStage>>>
  let issues: ReadonlyArray<StageIssue>
  let data: NormalizedStageData
  let rewrite: (body: unknown) => unknown
  switch (location._tag) {
    case "BodyDistribution": {
      const parsed = distributionIssues(location.field, value, location.maxEntries ?? BOUNDARY_MAX_DISTRIBUTION_ENTRIES)
      const r = parsed.result
      invalid = !r.isValid
      unknownStages = r.invalidInputs
      deprecatedInputs = r.deprecatedInputs
      suggestions = r.suggestions
      issues = parsed.issues
      data = {
        _tag: "Distribution",
        entries: r.normalized,
        unrecognized: unrecognizedEntries(value, r.invalidInputs),
        deprecatedInputs: r.deprecatedInputs,
        sum: r.sum,
        isValid: r.isValid
      }
      rewrite = rewriteField(location.field, r.normalized)
      break
    }
    case "BodyStage": {
      if (typeof value === "string") {
        const r = normalizeStage(value)
        if (r._tag === "Canonical") {
          invalid = false
          unknownStages = EMPTY
          deprecatedInputs = r.deprecated ? [value] : EMPTY
          suggestions = NO_SUGGESTIONS
          data = { _tag: "Stage", stage: r.stage, input: value }
          rewrite = rewriteField(location.field, r.stage)
        } else {
          invalid = true
          unknownStages = [value]
          deprecatedInputs = EMPTY
          const s: Record<string, ReadonlyArray<CanonicalStage>> = Object.create(null)
          s[value] = r.suggestions
          suggestions = s
          data = { _tag: "Stage", stage: undefined, input: value }
          rewrite = identity
        }
        issues = EMPTY
      } else {
        invalid = true
        unknownStages = EMPTY
        deprecatedInputs = EMPTY
        suggestions = NO_SUGGESTIONS
        issues = [{ path: [location.field], message: `stage must be a string, got ${kindOf(value)}` }]
        data = { _tag: "Stage", stage: undefined, input: value }
        rewrite = identity
      }
      break
    }
    case "QueryStage": {
      const values: ReadonlyArray<unknown> = Array.isArray(value) ? value : [value]
      const found = new Set<CanonicalStage>()
      const unknown: Array<string> = []
      const deprecated: Array<string> = []
      const s: Record<string, ReadonlyArray<CanonicalStage>> = Object.create(null)
      for (const v of values) {
        const text = typeof v === "string" ? v : String(v)
        const r = normalizeStage(text)
        if (r._tag === "Canonical") {
          found.add(r.stage)
          if (r.deprecated && !deprecated.includes(text)) deprecated.push(text)
        } else if (!(text in s)) {
          unknown.push(text)
          s[text] = r.suggestions
        }
      }
      invalid = unknown.length > 0
      unknownStages = unknown
      deprecatedInputs = deprecated
      suggestions = s
      issues = EMPTY
      const stages = [...found].sort((a, b) => STAGE_ORDER[a] - STAGE_ORDER[b])
      data = { _tag: "Stages", stages, unrecognized: unknown }
      rewrite = identity
      break
    }
  }
  const result = classify(invalid, deprecatedInputs.length > 0, decision)
  const rejected = result === "rejected"
  const prepared = prepareStageHeaders({
    shouldEmitHeaders: decision.shouldEmitHeaders,
    wouldReject: result === "would_reject",
    rejected,
    invalid,
    deprecatedInputs
  }, settings)
  return {
    decision,
    result,
    invalid,
    unknownStages,
    deprecatedInputs,
    data,
    rewrite,
    errorBody: rejected
      ? invalidStageBody(
        location._tag === "BodyDistribution" ? "INVALID_STAGE_DISTRIBUTION" : "INVALID_STAGE",
        unknownStages,
        suggestions,
        issues
      )
      : undefined,
    headers: prepared.pairs,
    prepared
  }
}

const STAGE_ORDER: Readonly<Record<CanonicalStage, number>> = {
  "pre-seed": 0,
  "seed": 1,
  "series-a": 2,
  "series-b": 3,
  "series-c": 4,
  "series-c+": 5
}
