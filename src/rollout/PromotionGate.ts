/**
 * The promotion gate: a pure verdict on whether the rollout may take its next step, from a
 * metrics snapshot and criteria. Defaults from the seeds (runbook 001, handoff 003/004):
 * would-reject ratio < 0.5 %, validator p99 < 1 ms, error ratio < 0.1 %, unknown-stage ratio
 * < 0.5 %, none of the named alerts active, and enough traffic to judge.
 *
 * Verdicts: a missing (or non-finite, negative) metric **fails** — silence is not health (Flagger
 * #1689, #1581); an active blocking alert fails; too little traffic is **inconclusive**, never a
 * pass; otherwise every threshold must hold (strictly below). {@link evaluatePromotionWindows}
 * requires N consecutive passing windows.
 *
 * @since 0.1.0
 */

/**
 * Aggregated rollout metrics over one window. Every field is required for a pass; `undefined`
 * means the metric could not be read.
 *
 * @example
 * ```ts
 * import type { MetricsSnapshot } from "stage-normalization/rollout"
 * const window: MetricsSnapshot = {
 *   requests: 42_000, wouldRejectRatio: 0.002, validatorP99Seconds: 0.0004,
 *   errorRatio: 0, unknownStageRatio: 0.001, activeAlerts: []
 * }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface MetricsSnapshot {
  /** validations in the window */
  readonly requests?: number | undefined
  /** would_reject / all validations */
  readonly wouldRejectRatio?: number | undefined
  /** p99 of stage_validation_duration_seconds */
  readonly validatorP99Seconds?: number | undefined
  /** failed validations (errors, not rejections) / all validations */
  readonly errorRatio?: number | undefined
  /** unknown stages / all validations */
  readonly unknownStageRatio?: number | undefined
  /** names of firing alerts */
  readonly activeAlerts?: ReadonlyArray<string> | undefined
  /** ISO timestamp of the window end, for reports */
  readonly windowEnd?: string | undefined
}

/**
 * Gate thresholds. Ratios are fractions (0.005 = 0.5 %).
 *
 * @example
 * ```ts
 * import { DEFAULT_GATE_CRITERIA, type GateCriteria } from "stage-normalization/rollout"
 * const strict: GateCriteria = { ...DEFAULT_GATE_CRITERIA, maxWouldRejectRatio: 0.001, minRequests: 10_000 }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface GateCriteria {
  readonly maxWouldRejectRatio: number
  readonly maxValidatorP99Seconds: number
  readonly maxErrorRatio: number
  readonly maxUnknownStageRatio: number
  readonly blockingAlerts: ReadonlyArray<string>
  readonly minRequests: number
}

/**
 * The seeds' alerts that block a promotion while firing.
 *
 * @example
 * ```ts
 * import { BLOCKING_ALERTS } from "stage-normalization/rollout"
 * BLOCKING_ALERTS.includes("RedisModeFetchFailing") // => true
 * ```
 * @since 0.1.0
 * @category constants
 */
export const BLOCKING_ALERTS: ReadonlyArray<string> = [
  "StageValidatorLatencyRegression",
  "EnforceGateUnknownRateHigh",
  "RedisModeFetchFailing",
  "StageValidationBlastRadius"
]

/**
 * Default criteria: would-reject < 0.5 %, p99 < 1 ms, errors < 0.1 %, unknown < 0.5 %, no blocking
 * alert, at least 1,000 validations in the window (enough for the 0.1 % error threshold to be
 * measurable at all).
 *
 * @example
 * ```ts
 * import { DEFAULT_GATE_CRITERIA } from "stage-normalization/rollout"
 * DEFAULT_GATE_CRITERIA.maxValidatorP99Seconds // => 0.001
 * ```
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_GATE_CRITERIA: GateCriteria = {
  maxWouldRejectRatio: 0.005,
  maxValidatorP99Seconds: 0.001,
  maxErrorRatio: 0.001,
  maxUnknownStageRatio: 0.005,
  blockingAlerts: BLOCKING_ALERTS,
  minRequests: 1_000
}

/**
 * @example
 * ```ts
 * import { evaluatePromotionGate, type GateVerdict } from "stage-normalization/rollout"
 * const verdict: GateVerdict = evaluatePromotionGate({}).verdict // => "fail"
 * ```
 * @since 0.1.0
 * @category models
 */
export type GateVerdict = "pass" | "fail" | "inconclusive"

/**
 * One line of the gate report, for the CLI: criterion, comparison, threshold, measured value and
 * status (`missing` when the metric was absent or invalid, `insufficient` for too little traffic).
 *
 * @example
 * ```ts
 * import { evaluatePromotionGate } from "stage-normalization/rollout"
 * evaluatePromotionGate({}).table[0]?.status // => "missing"
 * ```
 * @since 0.1.0
 * @category models
 */
export interface GateRow {
  readonly criterion: string
  readonly comparison: "<" | "≥" | "none of"
  readonly threshold: number | ReadonlyArray<string>
  readonly measured: number | ReadonlyArray<string> | null
  readonly status: "pass" | "fail" | "missing" | "insufficient"
}

/**
 * The gate's verdict, human-readable reasons, and the per-criterion table.
 *
 * @example
 * ```ts
 * import { evaluatePromotionGate } from "stage-normalization/rollout"
 * evaluatePromotionGate({ requests: 3 }).reasons.length > 0 // => true
 * ```
 * @since 0.1.0
 * @category models
 */
export interface GateResult {
  readonly verdict: GateVerdict
  readonly reasons: ReadonlyArray<string>
  readonly table: ReadonlyArray<GateRow>
}

const valid = (n: number | undefined): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0

const pct = (n: number): string => `${+(n * 100).toPrecision(4)} %`

/**
 * Evaluates one snapshot against criteria. Pure.
 *
 * @example
 * ```ts
 * import { DEFAULT_GATE_CRITERIA, evaluatePromotionGate } from "stage-normalization/rollout"
 * const healthy = {
 *   requests: 50_000, wouldRejectRatio: 0.001, validatorP99Seconds: 0.0004,
 *   errorRatio: 0, unknownStageRatio: 0.002, activeAlerts: []
 * }
 * evaluatePromotionGate(healthy, DEFAULT_GATE_CRITERIA).verdict // => "pass"
 * evaluatePromotionGate({ ...healthy, requests: 10 }, DEFAULT_GATE_CRITERIA).verdict // => "inconclusive"
 * evaluatePromotionGate({ ...healthy, errorRatio: undefined }, DEFAULT_GATE_CRITERIA).verdict // => "fail"
 * ```
 * @since 0.1.0
 * @category gate
 */
export const evaluatePromotionGate = (
  snapshot: MetricsSnapshot,
  criteria: GateCriteria = DEFAULT_GATE_CRITERIA
): GateResult => {
  const table: Array<GateRow> = []
  const missing: Array<string> = []
  const breaches: Array<string> = []

  const ratio = (criterion: string, measured: number | undefined, max: number, label: string, format: (n: number) => string) => {
    if (!valid(measured)) {
      missing.push(criterion)
      table.push({ criterion, comparison: "<", threshold: max, measured: null, status: "missing" })
      return
    }
    const pass = measured < max
    if (!pass) breaches.push(`${label} ${format(measured)} is not below ${format(max)}`)
    table.push({ criterion, comparison: "<", threshold: max, measured, status: pass ? "pass" : "fail" })
  }

  // traffic
  const requests = snapshot.requests
  let insufficient = false
  if (!valid(requests)) {
    missing.push("requests")
    table.push({ criterion: "requests", comparison: "≥", threshold: criteria.minRequests, measured: null, status: "missing" })
  } else {
    insufficient = requests < criteria.minRequests
    table.push({
      criterion: "requests",
      comparison: "≥",
      threshold: criteria.minRequests,
      measured: requests,
      status: insufficient ? "insufficient" : "pass"
    })
  }
  ratio("wouldRejectRatio", snapshot.wouldRejectRatio, criteria.maxWouldRejectRatio, "would-reject ratio", pct)
  ratio(
    "validatorP99Seconds",
    snapshot.validatorP99Seconds,
    criteria.maxValidatorP99Seconds,
    "validator p99",
    (s) => `${+(s * 1000).toPrecision(4)} ms`
  )
  ratio("errorRatio", snapshot.errorRatio, criteria.maxErrorRatio, "error ratio", pct)
  ratio("unknownStageRatio", snapshot.unknownStageRatio, criteria.maxUnknownStageRatio, "unknown-stage ratio", pct)

  // alerts
  let firing: ReadonlyArray<string> = []
  if (snapshot.activeAlerts === undefined) {
    missing.push("activeAlerts")
    table.push({ criterion: "activeAlerts", comparison: "none of", threshold: criteria.blockingAlerts, measured: null, status: "missing" })
  } else {
    firing = criteria.blockingAlerts.filter((name) => snapshot.activeAlerts!.includes(name))
    table.push({
      criterion: "activeAlerts",
      comparison: "none of",
      threshold: criteria.blockingAlerts,
      measured: firing,
      status: firing.length === 0 ? "pass" : "fail"
    })
  }

  if (missing.length > 0) {
    return {
      verdict: "fail",
      reasons: [`missing or invalid metric(s): ${missing.join(", ")} — a metric that cannot be read never passes`],
      table
    }
  }
  if (firing.length > 0) {
    return { verdict: "fail", reasons: [`blocking alert(s) firing: ${firing.join(", ")}`, ...breaches], table }
  }
  if (insufficient) {
    return {
      verdict: "inconclusive",
      reasons: [
        `only ${requests} validations in the window (need ≥ ${criteria.minRequests}) — too little traffic to judge`,
        ...breaches
      ],
      table
    }
  }
  if (breaches.length > 0) return { verdict: "fail", reasons: breaches, table }
  return { verdict: "pass", reasons: ["every criterion holds"], table }
}

/**
 * Evaluates the newest `requiredPasses` windows (newest first): pass only if each passes; any
 * failure fails; otherwise — including fewer windows than required — inconclusive.
 *
 * @example
 * ```ts
 * import { DEFAULT_GATE_CRITERIA, evaluatePromotionWindows } from "stage-normalization/rollout"
 * const ok = { requests: 5_000, wouldRejectRatio: 0, validatorP99Seconds: 0.0002, errorRatio: 0, unknownStageRatio: 0, activeAlerts: [] }
 * evaluatePromotionWindows([ok, ok], DEFAULT_GATE_CRITERIA, 3).verdict // => "inconclusive"
 * evaluatePromotionWindows([ok, ok, ok], DEFAULT_GATE_CRITERIA, 3).verdict // => "pass"
 * ```
 * @since 0.1.0
 * @category gate
 */
export const evaluatePromotionWindows = (
  snapshots: ReadonlyArray<MetricsSnapshot>,
  criteria: GateCriteria = DEFAULT_GATE_CRITERIA,
  requiredPasses = 1
): GateResult & { readonly windows: ReadonlyArray<GateResult> } => {
  const required = Math.max(1, Math.floor(requiredPasses))
  const windows = snapshots.slice(0, required).map((s) => evaluatePromotionGate(s, criteria))
  const newest = windows[0]
  const table = newest?.table ?? []
  const failed = windows.findIndex((w) => w.verdict === "fail")
  if (failed !== -1) {
    return {
      verdict: "fail",
      reasons: windows[failed]!.reasons.map((r) => `window ${failed + 1}: ${r}`),
      table,
      windows
    }
  }
  if (windows.length < required) {
    return {
      verdict: "inconclusive",
      reasons: [`${windows.length} of ${required} required consecutive windows available`],
      table,
      windows
    }
  }
  const unsure = windows.findIndex((w) => w.verdict === "inconclusive")
  if (unsure !== -1) {
    return {
      verdict: "inconclusive",
      reasons: windows[unsure]!.reasons.map((r) => `window ${unsure + 1}: ${r}`),
      table,
      windows
    }
  }
  return { verdict: "pass", reasons: [`${required} consecutive windows pass`], table, windows }
}

const show = (v: number | ReadonlyArray<string> | null): string =>
  v === null ? "—" : typeof v === "number" ? String(v) : v.length === 0 ? "(none)" : v.join(", ")

/**
 * Renders a gate table as aligned text for the CLI.
 *
 * @example
 * ```ts
 * import { evaluatePromotionGate, formatGateTable } from "stage-normalization/rollout"
 * formatGateTable(evaluatePromotionGate({}).table).split("\n")[0]?.startsWith("criterion") // => true
 * ```
 * @since 0.1.0
 * @category gate
 */
export const formatGateTable = (rows: ReadonlyArray<GateRow>): string => {
  const lines = [["criterion", "threshold", "measured", "status"]].concat(
    rows.map((r) => [r.criterion, `${r.comparison} ${show(r.threshold)}`, show(r.measured), r.status])
  )
  const widths = [0, 1, 2, 3].map((i) => Math.max(...lines.map((l) => l[i]!.length)))
  return lines.map((l) => l.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n")
}
