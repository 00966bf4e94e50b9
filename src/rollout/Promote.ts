/**
 * The step ramp: `promote` moves `enforcementPercent` one step up the ramp (default
 * 10 → 25 → 50 → 100) only when the promotion gate passes on N consecutive windows from the
 * `MetricsSource`. `force` overrides the gate (and the finalisation guard) and is audited as forced;
 * a held promotion is audited as refused, so the history shows every attempt.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { ChangeMeta } from "./AuditLog.ts"
import type { RolloutDocument } from "./Config.ts"
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
export interface PromoteRequest extends ChangeMeta {
  readonly force?: boolean | undefined
  readonly policy?: Partial<PromotionPolicy> | undefined
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
}

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

  const snapshots = yield* Effect.result(
    metrics.snapshots({ windows: policy.requiredPasses, windowSeconds: policy.windowSeconds })
  )
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
  const gateNote = `gate ${evaluation.verdict}: ${evaluation.reasons.join("; ")}`

  if (evaluation.verdict !== "pass" && !force) {
    yield* store.audit({
      actor: request.actor,
      reason: `promotion ${fromPercent} → ${toPercent} % held (${gateNote}); ${request.reason}`,
      source: request.source,
      action: "promote",
      outcome: "refused"
    }).pipe(Effect.ignore)
    return {
      outcome: "held",
      verdict: evaluation.verdict,
      reasons: evaluation.reasons,
      fromPercent,
      toPercent,
      table: evaluation.table,
      windows: evaluation.windows,
      document: current
    } satisfies PromotionResult
  }

  const forcedPastGate = evaluation.verdict !== "pass"
  const { document } = yield* store.set({
    document: { ...current, enforcementPercent: toPercent },
    expectedVersion: current.version,
    actor: request.actor,
    reason: forcedPastGate ? `${request.reason} [forced past the gate — ${gateNote}]` : request.reason,
    source: request.source,
    action: "promote",
    force
  })
  return {
    outcome: forcedPastGate ? "forced" : "promoted",
    verdict: evaluation.verdict,
    reasons: evaluation.reasons,
    fromPercent,
    toPercent,
    table: evaluation.table,
    windows: evaluation.windows,
    document
  } satisfies PromotionResult
})
