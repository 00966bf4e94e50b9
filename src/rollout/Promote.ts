/**
 * The step ramp: `promote` moves `enforcementPercent` one step up the ramp (default
 * 10 → 25 → 50 → 100) only when the promotion gate passes on N consecutive windows from the
 * `MetricsSource`. `force` overrides the gate (and the finalisation guard) and is audited as forced;
 * a held promotion is audited as refused, so the history shows every attempt. Every evaluation is
 * recorded: a decision record (values, thresholds, queries, verdict; see `GateDecision.ts`) in the
 * attempt's audit entry, and `stage_validation_gate_evaluations_total{verdict}` with the
 * `stage_validation_gate_last_*` gauges in this process' metrics.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Metric } from "effect"
import type { ChangeMeta } from "./AuditLog.ts"
import { escapeAuditText } from "./AuditText.ts"
import type { RolloutDocument } from "./Config.ts"
import { type GateDecision, makeGateDecision } from "./GateDecision.ts"
import { MetricsSource } from "./MetricsSource.ts"
import { ModeStore } from "./ModeStore.ts"
import {
  DEFAULT_GATE_CRITERIA,
  evaluatePromotionWindows,
  type GateCriteria,
  type GateResult,
  type GateRow,
  type GateVerdict
} from "./PromotionGate.ts"
import {
  gateEvaluationsTotal,
  gateLastEvaluationSeconds,
  gateLastValueGauge,
  gateLastVerdictGauge
} from "../observability/metrics.ts"

/**
 * How the ramp advances.
 *
 * @example
 * ```ts
 * import { DEFAULT_PROMOTION_POLICY, type PromotionPolicy } from "stage-normalization/rollout"
 * const cautious: PromotionPolicy = { ...DEFAULT_PROMOTION_POLICY, ramp: [5, 10, 25, 50, 100], requiredPasses: 6 }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface PromotionPolicy {
  /** ascending percentages, e.g. [10, 25, 50, 100] */
  readonly ramp: ReadonlyArray<number>
  /** consecutive passing windows required before a step */
  readonly requiredPasses: number
  /** length of one evaluation window (the seeds' promotion window is 30 minutes: 3 × 10 min) */
  readonly windowSeconds: number
  readonly criteria: GateCriteria
}

/**
 * Default policy: ramp 10 → 25 → 50 → 100, three consecutive passing 10-minute windows (the
 * seeds' 30-minute promotion window), the default gate criteria.
 *
 * @example
 * ```ts
 * import { DEFAULT_PROMOTION_POLICY } from "stage-normalization/rollout"
 * DEFAULT_PROMOTION_POLICY.ramp // => [10, 25, 50, 100]
 * ```
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_PROMOTION_POLICY: PromotionPolicy = {
  ramp: [10, 25, 50, 100],
  requiredPasses: 3,
  windowSeconds: 600,
  criteria: DEFAULT_GATE_CRITERIA
}

/**
 * The next ramp step strictly above `percent`, or `undefined` at (or past) the last step.
 *
 * @example
 * ```ts
 * import { nextRampStep } from "stage-normalization/rollout"
 * nextRampStep(0) // => 10
 * nextRampStep(10) // => 25
 * nextRampStep(30) // => 50
 * nextRampStep(100) // => undefined
 * ```
 * @since 0.1.0
 * @category ramp
 */
export const nextRampStep = (
  percent: number,
  ramp: ReadonlyArray<number> = DEFAULT_PROMOTION_POLICY.ramp
): number | undefined => [...ramp].sort((a, b) => a - b).find((step) => step > percent)

/**
 * A promotion request: who, why, from where, and whether to force past the gate.
 *
 * @example
 * ```ts
 * import type { PromoteRequest } from "stage-normalization/rollout"
 * const request: PromoteRequest = { actor: "ops@example.com", reason: "week 2", source: "cli", policy: { requiredPasses: 2 } }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface PromoteRequest extends Omit<ChangeMeta, "gate"> {
  readonly force?: boolean | undefined
  readonly policy?: Partial<PromotionPolicy> | undefined
  /**
   * What an inconclusive verdict means to the caller: `hold` (default: wait for more data) or
   * `fail` (treat it as a failed gate). Either way nothing is promoted without `force`; the choice
   * is recorded in the decision record.
   */
  readonly onInconclusive?: "hold" | "fail" | undefined
}

/**
 * What `promote` did: `promoted` (gate passed), `forced` (gate overridden), `held` (gate did not
 * pass, nothing changed) or `at-final-step`; with the verdict, the per-window results and the
 * newest window's table for the CLI.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { formatGateTable, promote } from "stage-normalization/rollout"
 * const report = promote({ actor: "ops", reason: "ramp", source: "cli" }).pipe(Effect.map((r) => formatGateTable(r.table)))
 * ```
 * @since 0.1.0
 * @category models
 */
export interface PromotionResult {
  readonly outcome: "promoted" | "forced" | "held" | "at-final-step"
  readonly verdict: GateVerdict
  readonly reasons: ReadonlyArray<string>
  readonly fromPercent: number
  readonly toPercent: number | undefined
  readonly table: ReadonlyArray<GateRow>
  readonly windows: ReadonlyArray<GateResult>
  readonly document: RolloutDocument
  /** the decision record written to the audit history (absent at the final step: no evaluation) */
  readonly decision?: GateDecision | undefined
}

const GATE_VERDICTS: ReadonlyArray<GateVerdict> = ["pass", "fail", "inconclusive"]

/** The evaluation counter and the last-evaluation gauges (numeric criteria of the newest window). */
const recordGateMetrics = (verdict: GateVerdict, table: ReadonlyArray<GateRow>) =>
  Effect.gen(function*() {
    yield* Metric.update(Metric.withAttributes(gateEvaluationsTotal, { verdict }), 1)
    for (const v of GATE_VERDICTS) yield* Metric.update(Metric.withAttributes(gateLastVerdictGauge, { verdict: v }), v === verdict ? 1 : 0)
    for (const row of table) {
      if (typeof row.threshold !== "number") continue
      const value = typeof row.measured === "number" ? row.measured : Number.NaN
      yield* Metric.update(Metric.withAttributes(gateLastValueGauge, { criterion: row.criterion }), value)
    }
    yield* Metric.update(gateLastEvaluationSeconds, (yield* Clock.currentTimeMillis) / 1000)
  })

/**
 * Evaluates the gate and, on a pass (or with `force`), moves `enforcementPercent` to the next ramp
 * step with a compare-and-set on the version it read.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { promote } from "stage-normalization/rollout"
 * const program = promote({ actor: "ops@example.com", reason: "week 2", source: "cli" }).pipe(
 *   Effect.tap((r) => Effect.log(`${r.outcome}: ${r.fromPercent} → ${r.toPercent ?? "-"}`))
 * )
 * ```
 * @since 0.1.0
 * @category ramp
 */
export const promote = Effect.fn("promote")(function*(request: PromoteRequest) {
  const policy: PromotionPolicy = { ...DEFAULT_PROMOTION_POLICY, ...request.policy }
  const store = yield* ModeStore
  const metrics = yield* MetricsSource
  const current = yield* store.refresh
  const fromPercent = current.enforcementPercent
  const toPercent = nextRampStep(fromPercent, policy.ramp)
  if (toPercent === undefined) {
    return {
      outcome: "at-final-step",
      verdict: "inconclusive",
      reasons: [`already at the last ramp step (${fromPercent} %)`],
      fromPercent,
      toPercent,
      table: [],
      windows: [],
      document: current
    } satisfies PromotionResult
  }

  const snapshotRequest = { windows: policy.requiredPasses, windowSeconds: policy.windowSeconds }
  const snapshots = yield* Effect.result(metrics.snapshots(snapshotRequest))
  const evaluation = snapshots._tag === "Success"
    ? evaluatePromotionWindows(snapshots.success, policy.criteria, policy.requiredPasses)
    : {
      // No measurement is not a measurement of failure: unreachable metrics are inconclusive
      // (never a pass). A metric that is reachable but missing fails inside the gate.
      verdict: "inconclusive" as const,
      reasons: [`metrics unavailable: ${snapshots.failure.message}`],
      table: [],
      windows: []
    }
  const force = request.force === true
  // escaped: the reasons may quote a metrics backend's error text
  const gateNote = escapeAuditText(`gate ${evaluation.verdict}: ${evaluation.reasons.join("; ")}`)
  yield* recordGateMetrics(evaluation.verdict, evaluation.table)
  const decisionOf = (decision: GateDecision["decision"]) =>
    makeGateDecision({
      evaluation,
      windowEnds: snapshots._tag === "Success" ? snapshots.success.map((s) => s.windowEnd) : [],
      decision,
      fromPercent,
      toPercent,
      requiredPasses: policy.requiredPasses,
      windowSeconds: policy.windowSeconds,
      queries: metrics.queries?.(snapshotRequest) ?? {},
      metricsError: snapshots._tag === "Failure" ? snapshots.failure.message : undefined,
      onInconclusive: request.onInconclusive ?? "hold"
    })

  if (evaluation.verdict !== "pass" && !force) {
    const decision = decisionOf("hold")
    yield* store.audit({
      actor: request.actor,
      reason: `promotion ${fromPercent} → ${toPercent} % held (${gateNote}); ${request.reason}`,
      source: request.source,
      action: "promote",
      outcome: "refused",
      gate: decision
    }).pipe(Effect.ignore)
    return {
      outcome: "held",
      verdict: evaluation.verdict,
      reasons: evaluation.reasons,
      fromPercent,
      toPercent,
      table: evaluation.table,
      windows: evaluation.windows,
      document: current,
      decision
    } satisfies PromotionResult
  }

  const forcedPastGate = evaluation.verdict !== "pass"
  const decision = decisionOf(forcedPastGate ? "force" : "promote")
  const { document } = yield* store.set({
    document: { ...current, enforcementPercent: toPercent },
    expectedVersion: current.version,
    actor: request.actor,
    reason: forcedPastGate ? `${request.reason} [forced past the gate — ${gateNote}]` : request.reason,
    source: request.source,
    action: "promote",
    force,
    gate: decision
  })
  return {
    outcome: forcedPastGate ? "forced" : "promoted",
    verdict: evaluation.verdict,
    reasons: evaluation.reasons,
    fromPercent,
    toPercent,
    table: evaluation.table,
    windows: evaluation.windows,
    document,
    decision
  } satisfies PromotionResult
})
