/**
 * The counting behind the dry run: each page of `(value, rows)` groups the preview scan reads is
 * added here — scalar values by what `migrate` would do with them, distributions by their plan and
 * by the stage strings inside them — bounded to `maxDistinct` listed values (the counts stay
 * exact beyond it).
 *
 * @since 0.2.0
 */
import { normalizeStage } from "../../normalizer/NormalizeStage.ts"
import type { Vocabulary } from "../../normalizer/Vocabulary.ts"
import type { UnknownValue } from "../MigrationEvent.ts"
import type { TargetKind } from "../schema/Target.ts"
import { planForcedDistributionJson } from "./DistributionPlan.ts"
import { forcedStage, type ForceUnknownOptions } from "./ForceUnknown.ts"

/**
 * What a stored value would become.
 *
 * @since 0.2.0
 * @category models
 */
export type PreviewAction = "unchanged" | "update" | "unknown" | "forced"

interface ValueEntry {
  stage: string | null
  rows: number
  action: PreviewAction
  reason?: string
}

/** The stage strings of a distribution value (array entries' `stage`, or object keys). */
const stagesOf = (parsed: unknown): ReadonlySet<string> => {
  const stages = new Set<string>()
  if (Array.isArray(parsed)) {
    for (const entry of parsed) {
      const stage = typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>)["stage"] : undefined
      if (typeof stage === "string") stages.add(stage)
    }
  } else if (typeof parsed === "object" && parsed !== null) {
    for (const key of Object.keys(parsed)) stages.add(key)
  }
  return stages
}

const byRowsThenValue = (a: { rows: number; value: string }, b: { rows: number; value: string }) =>
  b.rows - a.rows || (a.value < b.value ? -1 : 1)

/**
 * A preview's running counts.
 *
 * @example
 * ```ts
 * import { stageVocabulary } from "../../normalizer/StageVocabulary.ts" // internal
 * import { PreviewTally } from "./PreviewTally.ts" // internal: not part of the package's API
 * const tally = new PreviewTally("scalar", stageVocabulary, undefined, 10_000)
 * tally.add([["Series A", 3], [null, 1]])
 * tally.counts.update // => 3
 * ```
 *
 * @since 0.2.0
 * @category preview
 */
export class PreviewTally {
  readonly counts = { scanned: 0, nulls: 0, unchanged: 0, update: 0, skipped: 0, forced: 0 }
  truncated = false
  private readonly values = new Map<string, ValueEntry>()
  private readonly skips = new Map<string, { kind: string; value: string; rows: number }>()

  private readonly kind: TargetKind
  private readonly vocabulary: Vocabulary<string>
  private readonly force: ForceUnknownOptions | undefined
  private readonly maxDistinct: number

  constructor(kind: TargetKind, vocabulary: Vocabulary<string>, force: ForceUnknownOptions | undefined, maxDistinct: number) {
    this.kind = kind
    this.vocabulary = vocabulary
    this.force = force
    this.maxDistinct = maxDistinct
  }

  /** Add one page of `(stored value, rows)` groups. */
  add(groups: ReadonlyArray<readonly [string | null, number]>): void {
    for (const [value, rows] of groups) {
      this.counts.scanned += rows
      if (value === null) this.counts.nulls += rows
      else if (this.kind === "scalar") this.addScalar(value, rows)
      else this.addDistribution(value, rows)
    }
  }

  /** The values seen, most rows first. */
  listedValues() {
    return Array.from(this.values, ([value, v]) => ({ value, ...v })).sort(byRowsThenValue)
  }

  /** The values `migrate` would leave alone, most rows first, with suggestions. */
  unknowns(): ReadonlyArray<UnknownValue> {
    return Array.from(this.skips.values()).sort(byRowsThenValue).map((u): UnknownValue => {
      const r = u.kind === "unknown-stage" ? normalizeStage(u.value, this.vocabulary) : undefined
      return { kind: u.kind, value: u.value, rows: u.rows, suggestions: r?._tag === "Unknown" ? r.suggestions : [], examplePk: null }
    })
  }

  private addScalar(value: string, rows: number): void {
    const action = this.countValue(value, rows)
    if (action === "unknown") {
      this.counts.skipped += rows
      this.countSkip("unknown-stage", value, rows)
    } else if (action === "forced") {
      this.counts.update += rows
      this.counts.forced += rows
    } else if (action === "update") this.counts.update += rows
    else this.counts.unchanged += rows
  }

  private addDistribution(value: string, rows: number): void {
    const parsed = JSON.parse(value) as unknown
    const plan = planForcedDistributionJson(value, this.force, this.vocabulary)
    if (plan._tag === "Unchanged") this.counts.unchanged += rows
    else if (plan._tag === "Changed") {
      this.counts.update += rows
      if (plan.reason !== "normalized") this.counts.forced += rows
    } else {
      this.counts.skipped += rows
      const seen = new Set<string>()
      for (const issue of plan.issues) {
        if (seen.has(issue.kind + issue.value)) continue
        seen.add(issue.kind + issue.value)
        this.countSkip(issue.kind, issue.value, rows)
      }
    }
    for (const stage of stagesOf(parsed)) this.countValue(stage, rows)
  }

  private countValue(value: string, rows: number): PreviewAction {
    const entry = this.values.get(value)
    if (entry !== undefined) {
      entry.rows += rows
      return entry.action
    }
    const r = normalizeStage(value, this.vocabulary)
    const forced = r._tag === "Unknown" && this.force !== undefined ? forcedStage(value, this.force, this.vocabulary) : undefined
    const stage = r._tag === "Canonical" ? r.stage : forced?.stage ?? null
    const action = forced !== undefined ? "forced" : stage === null ? "unknown" : stage === value ? "unchanged" : "update"
    if (this.values.size < this.maxDistinct) this.values.set(value, { stage, rows, action, ...(forced === undefined ? {} : { reason: forced.reason }) })
    else this.truncated = true
    return action
  }

  private countSkip(kind: string, value: string, rows: number): void {
    const key = `${kind}\u0000${value}`
    const entry = this.skips.get(key)
    if (entry !== undefined) entry.rows += rows
    else if (this.skips.size < this.maxDistinct) this.skips.set(key, { kind, value, rows })
    else this.truncated = true
  }
}
