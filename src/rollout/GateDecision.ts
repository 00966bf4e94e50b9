/**
 * Decision records of the promotion gate: what one evaluation saw and concluded — the measured
 * values and the threshold of every criterion per window, the PromQL (or other) queries the
 * metrics source ran, the verdict with its reasons, and what `promote` did with it. `promote`
 * attaches one to the audit entry of every attempt (promoted, forced, held), so the history shows
 * why a step was taken or not long after Prometheus has dropped the data.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"
import type { GateResult, GateRow, GateVerdict as GateVerdictType } from "./PromotionGate.ts"

/**
 * `pass`, `fail` or `inconclusive`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { GateVerdictSchema } from "stage-normalization/rollout"
 * Schema.is(GateVerdictSchema)("inconclusive") // => true
 * ```
 * @since 0.2.0
 * @category schemas
 */
export const GateVerdictSchema = Schema.Literals(["pass", "fail", "inconclusive"])

const Threshold = Schema.Union([Schema.Number, Schema.Array(Schema.String)])

/**
 * One criterion of one window: the threshold, the measured value (`null` when it could not be
 * read) and its status.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { GateDecisionRow } from "stage-normalization/rollout"
 * Schema.is(GateDecisionRow)({ criterion: "errorRatio", comparison: "<", threshold: 0.001, measured: 0, status: "pass" }) // => true
 * ```
 * @since 0.2.0
 * @category schemas
 */
export const GateDecisionRow = Schema.Struct({
  criterion: Schema.String,
  comparison: Schema.String,
  threshold: Threshold,
  measured: Schema.NullOr(Threshold),
  status: Schema.String
})

/**
 * One evaluation window: when it ended, its verdict and reasons, its rows.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { GateDecisionWindow } from "stage-normalization/rollout"
 * Schema.is(GateDecisionWindow)({ verdict: "pass", reasons: ["every criterion holds"], rows: [] }) // => true
 * ```
 * @since 0.2.0
 * @category schemas
 */
export const GateDecisionWindow = Schema.Struct({
  windowEnd: Schema.optionalKey(Schema.String),
  verdict: GateVerdictSchema,
  reasons: Schema.Array(Schema.String),
  rows: Schema.Array(GateDecisionRow)
})

/**
 * The record of one gate evaluation. `decision` is what `promote` made of it: `promote` (a pass),
 * `force` (past a verdict that was not a pass), `hold` (nothing changes); the audit entry's
 * outcome says whether the change then landed (the finalisation guard may still refuse it). `metricsError` says
 * why nothing was measured (the metrics source could not be read: always inconclusive).
 * `onInconclusive` is the policy the caller chose for an inconclusive verdict.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { GateDecision } from "stage-normalization/rollout"
 * const decode = Schema.decodeUnknownSync(GateDecision)
 * decode({
 *   verdict: "inconclusive", reasons: ["only 12 validations"], decision: "hold", fromPercent: 10, toPercent: 25,
 *   requiredPasses: 3, windowSeconds: 600, windows: [], queries: {}
 * }).decision // => "hold"
 * ```
 * @since 0.2.0
 * @category schemas
 */
export const GateDecision = Schema.Struct({
  verdict: GateVerdictSchema,
  reasons: Schema.Array(Schema.String),
  decision: Schema.Literals(["promote", "force", "hold"]),
  fromPercent: Schema.Number,
  toPercent: Schema.Number,
  requiredPasses: Schema.Int,
  windowSeconds: Schema.Int,
  windows: Schema.Array(GateDecisionWindow),
  queries: Schema.Record(Schema.String, Schema.String),
  metricsError: Schema.optionalKey(Schema.String),
  onInconclusive: Schema.optionalKey(Schema.Literals(["hold", "fail"]))
})

/**
 * @example
 * ```ts
 * import type { GateDecision } from "stage-normalization/rollout"
 * const held = (d: GateDecision) => d.decision === "hold"
 * ```
 * @since 0.2.0
 * @category models
 */
export type GateDecision = typeof GateDecision.Type

const rowOf = (row: GateRow): typeof GateDecisionRow.Type => ({
  criterion: row.criterion,
  comparison: row.comparison,
  threshold: row.threshold,
  measured: row.measured,
  status: row.status
})

/**
 * Builds the record of an evaluation: per window its end (when the snapshot says), verdict,
 * reasons and rows.
 *
 * @example
 * ```ts
 * import { evaluatePromotionWindows, makeGateDecision } from "stage-normalization/rollout"
 * const evaluation = evaluatePromotionWindows([], undefined, 3)
 * makeGateDecision({
 *   evaluation, windowEnds: [], decision: "hold", fromPercent: 10, toPercent: 25,
 *   requiredPasses: 3, windowSeconds: 600, queries: {}
 * }).verdict // => "inconclusive"
 * ```
 * @since 0.2.0
 * @category constructors
 */
export const makeGateDecision = (options: {
  readonly evaluation: { readonly verdict: GateVerdictType; readonly reasons: ReadonlyArray<string>; readonly windows: ReadonlyArray<GateResult> }
  readonly windowEnds: ReadonlyArray<string | undefined>
  readonly decision: GateDecision["decision"]
  readonly fromPercent: number
  readonly toPercent: number
  readonly requiredPasses: number
  readonly windowSeconds: number
  readonly queries: Readonly<Record<string, string>>
  readonly metricsError?: string | undefined
  readonly onInconclusive?: "hold" | "fail" | undefined
}): GateDecision => ({
  verdict: options.evaluation.verdict,
  reasons: options.evaluation.reasons,
  decision: options.decision,
  fromPercent: options.fromPercent,
  toPercent: options.toPercent,
  requiredPasses: Math.max(1, Math.floor(options.requiredPasses)),
  windowSeconds: Math.max(1, Math.round(options.windowSeconds)),
  windows: options.evaluation.windows.map((w, i) => {
    const end = options.windowEnds[i]
    return { ...(end !== undefined ? { windowEnd: end } : {}), verdict: w.verdict, reasons: w.reasons, rows: w.table.map(rowOf) }
  }),
  queries: options.queries,
  ...(options.metricsError !== undefined ? { metricsError: options.metricsError } : {}),
  ...(options.onInconclusive !== undefined ? { onInconclusive: options.onInconclusive } : {})
})
