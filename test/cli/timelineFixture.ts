/**
 * A rehearsal-like audit history for the timeline tests: warn → write-only → shadow → enforce at
 * 10 %, three gate evaluations (a held fail, then passes 10 → 25 → 50), an inconclusive hold, the
 * webhook's downgrade and a duplicate of it — built with the library's own constructors.
 */
import type { AuditEntry, ChangeMeta } from "../../src/rollout/AuditLog.ts"
import { makeAuditEntry } from "../../src/rollout/AuditLog.ts"
import type { RolloutDocument } from "../../src/rollout/Config.ts"
import { type GateDecision, makeGateDecision } from "../../src/rollout/GateDecision.ts"
import { DEFAULT_DOCUMENT } from "../../src/rollout/index.ts"
import type { GateVerdict } from "../../src/rollout/PromotionGate.ts"

export const T0 = Date.parse("2026-12-01T10:00:00.000Z")

const gate = (verdict: GateVerdict, decision: GateDecision["decision"], fromPercent: number, toPercent: number): GateDecision =>
  makeGateDecision({
    evaluation: { verdict, reasons: verdict === "pass" ? ["every criterion holds"] : [`${verdict}: errorRatio 0.4 % ≥ 0.1 %`], windows: [] },
    windowEnds: [],
    decision,
    fromPercent,
    toPercent,
    requiredPasses: 1,
    windowSeconds: 20,
    queries: { requests: "sum(increase(stage_validation_validations_total[20s]))" }
  })

/** Builds a history; `hostile` puts markup and control characters into an actor and a reason. */
export const rehearsalHistory = (options: { readonly hostile?: boolean } = {}): ReadonlyArray<AuditEntry> => {
  const entries: Array<AuditEntry> = []
  let doc: RolloutDocument = { ...DEFAULT_DOCUMENT, defaultMode: "warn", enforcementPercent: 100, version: 1 }
  const push = (
    seconds: number,
    patch: Partial<RolloutDocument>,
    meta: Partial<ChangeMeta> & { readonly reason: string },
    action: AuditEntry["action"] = "set",
    outcome: AuditEntry["outcome"] = "applied"
  ) => {
    const to: RolloutDocument = outcome === "applied" ? { ...doc, ...patch, version: doc.version + 1 } : doc
    entries.push(makeAuditEntry({
      from: doc,
      to,
      meta: { actor: "rehearsal@stage-normalization", source: "api", ...meta },
      action,
      outcome,
      forced: false,
      at: new Date(T0 + seconds * 1000)
    }))
    doc = to
  }
  push(10, { enforceWriteOnly: true }, { reason: "phase 2.5: warn reads, enforce writes" })
  push(30, { enforceWriteOnly: false, dryRun: true }, {
    reason: options.hostile === true ? `</text><script>alert("x")</script> & \u0000 ]]>` : "phase 2.7: shadow",
    actor: options.hostile === true ? `"><g class="gate-verdict">` : "rehearsal@stage-normalization"
  })
  push(45, { defaultMode: "enforce", dryRun: false, enforcementPercent: 10 }, { reason: "phase 3: start at 10 %" })
  push(70, {}, { reason: "ramp to 25 %", source: "cli", gate: gate("fail", "hold", 10, 25) }, "promote", "refused")
  push(95, { enforcementPercent: 25 }, { reason: "ramp to 25 %", source: "cli", gate: gate("pass", "promote", 10, 25) }, "promote")
  push(120, { enforcementPercent: 50 }, { reason: "ramp to 50 %", source: "cli", gate: gate("pass", "promote", 25, 50) }, "promote")
  push(145, {}, { reason: "ramp to 100 %", source: "cli", gate: gate("inconclusive", "hold", 50, 100) }, "promote", "refused")
  push(150, { enforcementPercent: 100 }, { reason: "ramp to 100 %", source: "cli", gate: gate("pass", "promote", 50, 100) }, "promote")
  push(180, { defaultMode: "warn" }, { reason: "StageValidationBlastRadius firing", source: "webhook", actor: "webhook" }, "downgrade")
  push(185, {}, { reason: "StageValidationBlastRadius firing (repeat)", source: "webhook", actor: "webhook" }, "downgrade", "duplicate")
  return entries
}

/** Metric samples over the same range: a reject ratio that spikes before the downgrade, a flat p99. */
export const rehearsalMetrics = () => {
  const rejectRatio: Array<readonly [number, number]> = []
  const p99Seconds: Array<readonly [number, number]> = []
  for (let s = 0; s <= 200; s += 2) {
    const enforced = s < 45 ? 0 : s < 95 ? 0.1 : s < 120 ? 0.25 : s < 150 ? 0.5 : s < 180 ? 1 : 0
    const invalid = s >= 160 && s < 182 ? 0.2 : 0.002
    rejectRatio.push([T0 + s * 1000, s < 4 ? Number.NaN : enforced * invalid])
    p99Seconds.push([T0 + s * 1000, 0.00004 + (s % 10) * 0.000002])
  }
  return { rejectRatio, p99Seconds }
}
