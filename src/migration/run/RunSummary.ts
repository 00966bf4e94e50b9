/**
 * What a normalisation run reports when it ends (`RunSummary`): its status, the counters of the
 * whole run, the unknown values with their suggestions (stored back on the run for `verify`) and
 * the values `--force-unknown` mapped. `closeAndSummarise` closes the run and builds it.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { normalizeStage } from "../../normalizer/NormalizeStage.ts"
import { elapsedSince } from "../../shared/WallClock.ts"
import type { BackupEvidence } from "../backup/BackupGate.ts"
import type { UnknownValue } from "../MigrationEvent.ts"
import type { RunTotals } from "../MigrationEvent.ts"
import * as RunStore from "../schema/RunStore.ts"
import * as UnknownValuesStore from "../schema/UnknownValuesStore.ts"
import type { ResolvedTarget, TargetKind } from "../schema/Target.ts"
import type { Settings } from "./RunSettings.ts"

/**
 * The outcome of {@link migrate}. A run that failed (a batch failed for good) is reported here
 * with `status: "failed"`, not as an error: it can be resumed.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunSummary {
  readonly runId: string
  readonly status: "succeeded" | "paused" | "cancelled" | "failed"
  readonly target: string
  readonly column: string
  readonly kind: TargetKind
  readonly batchBy: "id" | "fund"
  readonly fundId: string | null
  readonly resumed: boolean
  /** Batches interrupted by an earlier runner, failed and redone by this one. */
  readonly interruptedBatches: ReadonlyArray<string>
  readonly rowsTotal: number
  /** Counters of the whole run (all sessions). */
  readonly totals: RunTotals
  /** Batches committed by this session. */
  readonly batches: number
  readonly durationMs: number
  readonly unknowns: ReadonlyArray<UnknownValue>
  /** Unknown values mapped by `--force-unknown` (whole run), with their rows. */
  readonly forced: ReadonlyArray<ForcedValue>
  /**
   * The backup the gate accepted, `{ skipped }`, or null (no gate: a library call). A resumed or
   * joined run reports the verdict recorded when it started (it is not gated again).
   */
  readonly backup: BackupEvidence | { readonly skipped: string } | null
  readonly error: string | null
}

/**
 * A value `--force-unknown` mapped onto a stage.
 *
 * @since 0.1.0
 * @category models
 */
export interface ForcedValue {
  readonly value: string
  readonly stage: string
  readonly reason: string
  readonly rows: number
}

const unknownsWithSuggestions = (runId: string, settings: Settings, limit: number) =>
  Effect.gen(function*() {
    const rows = yield* UnknownValuesStore.readUnknowns(runId, limit)
    const values = rows.map((r): UnknownValue & { md5: string } => {
      const result = r.kind === "unknown-stage" ? normalizeStage(r.raw_value, settings.vocabulary) : undefined
      return {
        kind: r.kind,
        value: r.raw_value,
        rows: Number(r.rows),
        suggestions: result?._tag === "Unknown" ? result.suggestions : [],
        examplePk: r.example_pk,
        md5: r.value_md5
      }
    })
    yield* UnknownValuesStore.storeSuggestions(runId, values.map((v) => ({ kind: v.kind, md5: v.md5, suggestions: v.suggestions })))
    return values.map(({ md5: _, ...v }) => v)
  })

/** What the runner knows of a run when it closes it. */
export interface OpenedRun {
  readonly runId: string
  readonly resumed: boolean
  readonly interruptedBatches: ReadonlyArray<string>
  readonly batchBy: "id" | "fund"
  readonly backup: RunSummary["backup"]
}

/**
 * Close a run with its final status and build its summary (emitting `RunFinished`).
 *
 * @example
 * ```ts
 * import { closeAndSummarise } from "./RunSummary.ts" // internal: not part of the package's API
 * // yield* closeAndSummarise({ target, settings, run, fundId, started, unknownsLimit: 100 }, "succeeded", null, 12)
 * ```
 *
 * @since 0.2.0
 * @category summary
 */
export const closeAndSummarise = (
  context: {
    readonly target: ResolvedTarget
    readonly settings: Settings
    readonly run: OpenedRun
    readonly fundId: string | null
    readonly started: number
    readonly unknownsLimit: number
  },
  status: RunSummary["status"],
  error: string | null,
  batches: number,
  /** Close the run with `status` (false: other workers still work on it, or it is closed already). */
  close = true
) =>
  Effect.gen(function*() {
    const { run: opened, settings, target } = context
    const runId = opened.runId
    if (close) yield* RunStore.closeRun(runId, status, error)
    const run = yield* RunStore.readRun(runId)
    const unknowns = yield* unknownsWithSuggestions(runId, settings, context.unknownsLimit)
    const forced = settings.force === undefined ? [] : yield* UnknownValuesStore.readForced(runId, context.unknownsLimit)
    const totals: RunTotals = { scanned: run.rowsScanned, updated: run.rowsUpdated, skipped: run.rowsSkipped, failed: run.rowsFailed }
    const durationMs = yield* elapsedSince(context.started)
    yield* settings.emit({ _tag: "RunFinished", runId, status, totals, durationMs, error })
    return {
      runId,
      status,
      target: target.label,
      column: target.column.name,
      kind: target.kind,
      batchBy: opened.batchBy,
      fundId: context.fundId,
      resumed: opened.resumed,
      interruptedBatches: opened.interruptedBatches,
      rowsTotal: run.rowsTotal,
      totals,
      batches,
      durationMs,
      unknowns,
      forced,
      backup: opened.backup,
      error
    } satisfies RunSummary as RunSummary
  })
