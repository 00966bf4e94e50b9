/**
 * The boundary's JSON error bodies. The 400 for invalid stage input is a public contract
 * (ARCHITECTURE.md):
 *
 * ```json
 * { "error": "INVALID_STAGE_DISTRIBUTION",
 *   "details": { "invalid": ["invalid"], "suggestions": { "invalid": [] },
 *                "validStages": ["pre-seed", "seed", "series-a", "series-b", "series-c", "series-c+"] } }
 * ```
 *
 * (`"error": "INVALID_STAGE"` for a single stage field or query parameter.) Two additions appear
 * only when they carry information, so the common case is exactly the contract: `details.issues`
 * (path + message) when the input is invalid for another reason than an unknown stage (a bad
 * weight, a sum off 1, a stage that is not a string, a distribution over 64 entries),
 * `details.reasons` (listed value → why it is invalid beyond being unknown: `"longer than 64
 * characters (4194304)"` for a value the normaliser never looks at), and `details.truncated:
 * true` when the lists were cut to their bounds (100 invalid values of at most 256 characters,
 * 20 issues). So the body stays a few KiB whatever the request held.
 *
 * @since 0.1.0
 */
import { MAX_INPUT_LENGTH } from "../normalizer/KeyFolding.ts"
import { CANONICAL_STAGES, type CanonicalStage } from "../normalizer/Stages.ts"

/**
 * The error code of a rejected stage input.
 *
 * @since 0.1.0
 * @category models
 */
export type StageErrorCode = "INVALID_STAGE_DISTRIBUTION" | "INVALID_STAGE"

/**
 * One non-unknown-stage problem, as reported in `details.issues`.
 *
 * @since 0.1.0
 * @category models
 */
export interface StageIssue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

/**
 * The 400 body for invalid stage input.
 *
 * @since 0.1.0
 * @category models
 */
export interface InvalidStageBody {
  readonly error: StageErrorCode
  readonly details: {
    readonly invalid: ReadonlyArray<string>
    readonly suggestions: Readonly<Record<string, ReadonlyArray<CanonicalStage>>>
    readonly validStages: ReadonlyArray<CanonicalStage>
    readonly issues?: ReadonlyArray<StageIssue>
    /** listed value (as listed in `invalid`) → why it is invalid, for values too long to be a stage */
    readonly reasons?: Readonly<Record<string, string>>
    readonly truncated?: true
  }
}

/**
 * Most invalid values listed in one body.
 *
 * @since 0.1.0
 * @category constants
 */
const MAX_INVALID_LISTED = 100

/**
 * Longest invalid value listed (characters; longer ones are cut and end with `…`).
 *
 * @since 0.1.0
 * @category constants
 */
const MAX_INVALID_LENGTH = 256

/**
 * Most issues listed in one body.
 *
 * @since 0.1.0
 * @category constants
 */
const MAX_ISSUES_LISTED = 20

const cut = (s: string): string => (s.length > MAX_INVALID_LENGTH ? s.slice(0, MAX_INVALID_LENGTH) + "…" : s)

/** Sets `record[key]` as an ordinary own property, `"__proto__"` included. */
const put = <V>(record: Record<string, V>, key: string, value: V): void => {
  if (key === "__proto__") Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true })
  else record[key] = value
}

/**
 * Builds the contract body. `invalid` and `suggestions` come straight from the normaliser;
 * `issues` are the other problems (pass an empty list when there are none).
 *
 * @example
 * ```ts
 * import { invalidStageBody } from "stage-normalization/http"
 * invalidStageBody("INVALID_STAGE_DISTRIBUTION", ["invalid"], { invalid: [] }, [])
 * // => { error: "INVALID_STAGE_DISTRIBUTION",
 * //      details: { invalid: ["invalid"], suggestions: { invalid: [] }, validStages: [...6 stages] } }
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const invalidStageBody = (
  error: StageErrorCode,
  invalid: ReadonlyArray<string>,
  suggestions: Readonly<Record<string, ReadonlyArray<CanonicalStage>>>,
  issues: ReadonlyArray<StageIssue>
): InvalidStageBody => {
  let truncated = invalid.length > MAX_INVALID_LISTED || issues.length > MAX_ISSUES_LISTED
  const listed: Array<string> = []
  const listedSuggestions: Record<string, ReadonlyArray<CanonicalStage>> = {}
  let reasons: Record<string, string> | undefined
  const n = Math.min(invalid.length, MAX_INVALID_LISTED)
  for (let i = 0; i < n; i++) {
    const raw = invalid[i]!
    const shown = cut(raw)
    if (shown !== raw) truncated = true
    listed.push(shown)
    // spread, not `slice()`: slicing a frozen array (the normaliser's lists) takes V8's slow path
    const found = suggestions[raw]
    const listedFor = found === undefined ? [] : [...found]
    put(listedSuggestions, shown, listedFor)
    if (raw.length > MAX_INPUT_LENGTH) put((reasons ??= {}), shown, `longer than ${MAX_INPUT_LENGTH} characters (${raw.length})`)
  }
  const details: {
    invalid: ReadonlyArray<string>
    suggestions: Readonly<Record<string, ReadonlyArray<CanonicalStage>>>
    validStages: ReadonlyArray<CanonicalStage>
    issues?: ReadonlyArray<StageIssue>
    reasons?: Readonly<Record<string, string>>
    truncated?: true
  } = {
    invalid: listed,
    // Shaped for `JSON.stringify`'s fast path, which a null-prototype record or a frozen array
    // (the normaliser's shared lists) sends down the generic one: an ordinary object ("__proto__"
    // defined as an ordinary key, as in the normaliser) and fresh arrays.
    // Measured inside the plain-Node server at a fixed load, serialising the 400 body took
    // ~10 µs a request before, against ~4 µs for the 200 body it replaces.
    suggestions: listedSuggestions,
    validStages: [...CANONICAL_STAGES]
  }
  if (issues.length > 0) details.issues = issues.slice(0, MAX_ISSUES_LISTED)
  if (reasons !== undefined) details.reasons = reasons
  if (truncated) details.truncated = true
  return { error, details }
}

/**
 * A generic JSON error body for requests the boundary cannot read at all (malformed JSON, a body
 * over the limit): `{ error, message }`.
 *
 * @example
 * ```ts
 * import { requestErrorBody } from "./ErrorBody.ts" // internal: not part of the package's API
 * requestErrorBody("INVALID_JSON", "the request body is not valid JSON")
 * // => { error: "INVALID_JSON", message: "the request body is not valid JSON" }
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const requestErrorBody = (error: string, message: string): { readonly error: string; readonly message: string } => ({
  error,
  message
})
