/**
 * What the rollout timeline shows, read from the audit history alone: the document's state over
 * time (its runbook phase and the share of requests in the enforced set), every applied change,
 * every gate verdict the history records (one per decision record: promoted, forced or held) and
 * every applied downgrade. Pure: the same entries give the same model, whatever their order.
 *
 * @since 0.3.0
 */
import type { AuditEntry } from "../rollout/AuditLog.ts"
import type { RolloutDocument } from "../rollout/Config.ts"
import type { GateDecision } from "../rollout/GateDecision.ts"
import { phaseOf, type RolloutPhase } from "./RolloutPhase.ts"

/**
 * A stretch of time in one runbook phase.
 *
 * @since 0.3.0
 * @category models
 */
export interface TimelineSegment {
  readonly from: number
  readonly to: number
  readonly phase: RolloutPhase["id"]
  readonly title: string
}

/**
 * An applied change of the document (a step of the line).
 *
 * @since 0.3.0
 * @category models
 */
export interface TimelineChange {
  readonly at: number
  readonly entry: AuditEntry
  readonly enforcedPercent: number
}

/**
 * A gate evaluation recorded in the history, with what `promote` made of it.
 *
 * @since 0.3.0
 * @category models
 */
export interface TimelineGate {
  readonly at: number
  readonly entry: AuditEntry
  readonly gate: GateDecision
}

/**
 * The whole picture's data, times in epoch milliseconds.
 *
 * @since 0.3.0
 * @category models
 */
export interface TimelineModel {
  readonly start: number
  readonly end: number
  /** `[time, percent of requests in the enforced set]`, a step line (each value holds until the next) */
  readonly steps: ReadonlyArray<readonly [number, number]>
  readonly segments: ReadonlyArray<TimelineSegment>
  readonly changes: ReadonlyArray<TimelineChange>
  readonly gates: ReadonlyArray<TimelineGate>
  readonly downgrades: ReadonlyArray<TimelineChange>
}

/**
 * The share of requests (in %) that the document rejects invalid input for: its
 * `enforcementPercent` while anything enforces (the default mode, an endpoint, or writes under
 * `enforceWriteOnly`) and shadow mode is off; 0 otherwise.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * import { enforcedPercent } from "./TimelineModel.ts" // internal: not part of the package's API
 * enforcedPercent({ ...DEFAULT_DOCUMENT, defaultMode: "enforce", enforcementPercent: 25 }) // => 25
 * enforcedPercent({ ...DEFAULT_DOCUMENT, defaultMode: "enforce", dryRun: true }) // => 0
 * ```
 * @since 0.3.0
 * @category models
 */
export const enforcedPercent = (document: RolloutDocument): number => {
  const modes = [document.defaultMode, ...Object.values(document.endpointMode)]
  const enforces = (document.defaultMode !== "off" && document.enforceWriteOnly) || modes.includes("enforce")
  return enforces && !document.dryRun ? document.enforcementPercent : 0
}

/**
 * The entries that carry a gate verdict: one per decision record (`promote` entries with `gate`).
 *
 * @example
 * ```ts
 * import { gateVerdictEntries } from "./TimelineModel.ts" // internal: not part of the package's API
 * gateVerdictEntries([]) // => []
 * ```
 * @since 0.3.0
 * @category models
 */
export const gateVerdictEntries = (entries: ReadonlyArray<AuditEntry>): ReadonlyArray<AuditEntry & { readonly gate: GateDecision }> =>
  entries.filter((e): e is AuditEntry & { readonly gate: GateDecision } => e.gate !== undefined)

const time = (entry: AuditEntry): number => {
  const t = Date.parse(entry.at)
  return Number.isFinite(t) ? t : 0
}

const isDowngrade = (e: AuditEntry): boolean => e.action === "downgrade" && e.outcome === "applied"

const phaseIdOf = (document: RolloutDocument, downgraded: boolean): RolloutPhase =>
  phaseOf(document as unknown as Readonly<Record<string, unknown>>, downgraded).phase

/**
 * Builds the model: entries oldest first (by time, then version, then their order in the input),
 * the state before the first entry from its `from` document. `since` / `until` widen the range
 * (e.g. to now, or to the first metric sample); they never cut entries off.
 *
 * @example
 * ```ts
 * import { timelineModel } from "./TimelineModel.ts" // internal: not part of the package's API
 * timelineModel([], { since: 0, until: 60_000 }).segments // => []
 * ```
 * @since 0.3.0
 * @category constructors
 */
export const timelineModel = (
  entries: ReadonlyArray<AuditEntry>,
  range: { readonly since?: number | undefined; readonly until?: number | undefined } = {}
): TimelineModel => {
  const ordered = entries
    .map((entry, index) => ({ entry, index, at: time(entry) }))
    .sort((a, b) => a.at - b.at || a.entry.version - b.entry.version || a.index - b.index)
  const times = ordered.map((o) => o.at)
  const start = Math.min(range.since ?? Infinity, times[0] ?? Infinity, range.until ?? Infinity)
  const end = Math.max(range.until ?? -Infinity, times.at(-1) ?? -Infinity, range.since ?? -Infinity)
  if (!Number.isFinite(start) || !Number.isFinite(end)) {
    return { start: 0, end: 0, steps: [], segments: [], changes: [], gates: [], downgrades: [] }
  }
  const applied = ordered.filter((o) => o.entry.outcome === "applied")
  const steps: Array<readonly [number, number]> = []
  const states: Array<{ readonly at: number; readonly phase: RolloutPhase }> = []
  const first = applied[0]
  if (first !== undefined && first.entry.from !== null) {
    steps.push([start, enforcedPercent(first.entry.from)])
    states.push({ at: start, phase: phaseIdOf(first.entry.from, false) })
  }
  const changes: Array<TimelineChange> = []
  for (const { entry, at } of applied) {
    const percent = enforcedPercent(entry.to)
    steps.push([at, percent])
    states.push({ at, phase: phaseIdOf(entry.to, isDowngrade(entry) && entry.source === "webhook") })
    changes.push({ at, entry, enforcedPercent: percent })
  }
  if (steps.length > 0) steps.push([end, steps.at(-1)![1]])

  const segments: Array<TimelineSegment> = []
  states.forEach((s, i) => {
    const to = states[i + 1]?.at ?? end
    const last = segments.at(-1)
    if (last !== undefined && last.phase === s.phase.id) segments[segments.length - 1] = { ...last, to }
    else segments.push({ from: s.at, to, phase: s.phase.id, title: s.phase.title })
  })
  return {
    start,
    end,
    steps,
    segments,
    changes,
    gates: ordered.flatMap(({ entry, at }) => (entry.gate === undefined ? [] : [{ at, entry, gate: entry.gate }])),
    downgrades: changes.filter((c) => isDowngrade(c.entry))
  }
}
