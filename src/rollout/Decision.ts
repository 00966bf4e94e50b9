/**
 * The decision engine: what stage validation does for one request, from a config. Pure,
 * synchronous, and allocation-free — every possible decision is a frozen object built once at
 * module load, route templates are compiled once per config, and bucketing hashes in place.
 *
 * Resolution order (ARCHITECTURE.md):
 * 1. the endpoint override of the most specific matching route template, else `defaultMode`;
 * 2. with `enforceWriteOnly`, writes enforce and reads are capped at `warn`;
 * 3. with `dryRun` (shadow mode), every request whose mode is not `off` is evaluated as if
 *    enforcing (`mode: "enforce"`, `isDryRun: true`) and never rejected — except reads capped by
 *    `enforceWriteOnly`, which stay `warn`: under write-only enforcement reads are never enforced,
 *    not even in shadow;
 * 4. an enforce decision, real or shadow, holds only for requests whose bucket falls under
 *    `enforcementPercent`; the rest warn.
 *
 * `off` still lets the caller validate and count (the observation phase), but emits no headers
 * and never rejects.
 *
 * @since 0.1.0
 */
import { isInPercent } from "./Bucketing.ts"
import { DEFAULT_ENFORCEMENT_SALT, type Mode, type Operation, type StageValidationConfig } from "./Config.ts"
import { packedMode, packedOperation, resolvePacked } from "./Routes.ts"

/**
 * What stage validation does for one request.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT, getValidationDecision, type ValidationDecision } from "stage-normalization/rollout"
 * const d: ValidationDecision = getValidationDecision(DEFAULT_DOCUMENT, { method: "GET", path: "/x", requestId: "r1" })
 * d.shouldEmitHeaders // => true
 * ```
 * @since 0.1.0
 * @category models
 */
export interface ValidationDecision {
  /** effective mode for this request */
  readonly mode: Mode
  readonly operation: "read" | "write"
  /** mode !== "off" */
  readonly shouldEmitHeaders: boolean
  /** this request is in the enforced set */
  readonly shouldEnforce: boolean
  /** shouldEnforce && !isDryRun: invalid input gets a 400 */
  readonly shouldReject: boolean
  /** shouldEnforce && isDryRun */
  readonly shouldEmitWouldReject: boolean
  readonly isDryRun: boolean
}

/**
 * The request facts a decision depends on. The bucketing key of the percentage rollout is
 * `stickinessKey` when present and non-empty, else `requestId`. It must be a value the caller
 * cannot pick, or a client could stay outside the enforced set: the HTTP boundaries pass the
 * host's key (tenant, principal), else the config's `stickinessHeader` value, else a
 * server-generated key — never a client's `x-request-id` unless the host opts in. When calling
 * this directly, pass a server-generated `requestId` (or a trusted `stickinessKey`).
 *
 * @example
 * ```ts
 * import type { ValidationRequest } from "stage-normalization/rollout"
 * const request: ValidationRequest = { method: "POST", path: "/api/funds/42/companies", requestId: "r1", stickinessKey: "fund-42" }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface ValidationRequest {
  readonly method: string
  /** a route template or a concrete path */
  readonly path: string
  readonly requestId: string
  readonly stickinessKey?: string | undefined
}

const makeDecision = (mode: Mode, operation: Operation, shouldEnforce: boolean, isDryRun: boolean): ValidationDecision =>
  Object.freeze({
    mode,
    operation,
    shouldEmitHeaders: mode !== "off",
    shouldEnforce,
    shouldReject: shouldEnforce && !isDryRun,
    shouldEmitWouldReject: shouldEnforce && isDryRun,
    isDryRun
  })

// [operation][dryRun] for each reachable (mode, enforce) pair
const OFF = { read: makeDecision("off", "read", false, false), write: makeDecision("off", "write", false, false) }
const WARN = {
  read: [makeDecision("warn", "read", false, false), makeDecision("warn", "read", false, true)],
  write: [makeDecision("warn", "write", false, false), makeDecision("warn", "write", false, true)]
} as const
const ENFORCE = {
  read: [makeDecision("enforce", "read", true, false), makeDecision("enforce", "read", true, true)],
  write: [makeDecision("enforce", "write", true, false), makeDecision("enforce", "write", true, true)]
} as const

/**
 * Decides what stage validation does for a request. Pure and synchronous; returns one of a fixed
 * set of frozen decision objects.
 *
 * @example
 * ```ts
 * import { getValidationDecision, type StageValidationConfig } from "stage-normalization/rollout"
 * const phase25: StageValidationConfig = {
 *   defaultMode: "warn", endpointMode: {}, enforceWriteOnly: true, enforcementPercent: 100, dryRun: false
 * }
 * getValidationDecision(phase25, { method: "POST", path: "/api/portfolio/strategies", requestId: "r1" }).shouldReject // => true
 * getValidationDecision(phase25, { method: "POST", path: "/api/monte-carlo/simulate", requestId: "r1" }).mode // => "warn"
 * ```
 * @since 0.1.0
 * @category decisions
 */
export const getValidationDecision = (
  config: StageValidationConfig,
  request: ValidationRequest
): ValidationDecision => {
  const resolved = resolvePacked(config, request.method, request.path)
  const operation = packedOperation(resolved)
  // (1) endpoint override, else default
  let mode: Mode = packedMode(resolved) ?? config.defaultMode
  if (mode === "off") return OFF[operation]
  // (2) write-only enforcement: writes enforce, reads capped at warn
  const capped = config.enforceWriteOnly && operation === "read"
  if (config.enforceWriteOnly) mode = capped ? "warn" : "enforce"
  // (3) shadow mode: evaluate as if enforcing, never reject
  const dry = config.dryRun ? 1 : 0
  if (dry === 1 && !capped) mode = "enforce"
  if (mode !== "enforce") return WARN[operation][dry]
  // (4) percentage: the enforced set is the keys whose bucket is under the percentage
  const percent = config.enforcementPercent
  if (percent >= 100) return ENFORCE[operation][dry]
  const sticky = request.stickinessKey
  const key = sticky !== undefined && sticky.length > 0 ? sticky : request.requestId
  return isInPercent(key, config.enforcementSalt ?? DEFAULT_ENFORCEMENT_SALT, percent, config.bucketAlgorithm ?? "murmur3")
    ? ENFORCE[operation][dry]
    : WARN[operation][dry]
}
