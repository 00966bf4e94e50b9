/**
 * The events a migration emits while it runs: the CLI renders them as a progress bar on a TTY
 * and as JSON lines otherwise; a host can log or meter them. Each is a plain object tagged by
 * `_tag`; {@link toJsonLine} writes one as `{"event": "<tag>", …}`.
 *
 * @since 0.1.0
 */
import type { TargetKind } from "./schema/Target.ts"

/**
 * Counters of a run so far.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunTotals {
  readonly scanned: number
  readonly updated: number
  readonly skipped: number
  readonly failed: number
}

/**
 * A value a run left unchanged, with the stages it resembles.
 *
 * @since 0.1.0
 * @category models
 */
export interface UnknownValue {
  /** `unknown-stage`, or why a distribution was skipped (`invalid-weight`, …). */
  readonly kind: string
  readonly value: string
  readonly rows: number
  readonly suggestions: ReadonlyArray<string>
  readonly examplePk: string | null
}

/**
 * @since 0.1.0
 * @category models
 */
export type MigrationEvent =
  | {
    readonly _tag: "RunStarted"
    readonly runId: string
    readonly target: string
    readonly column: string
    readonly kind: TargetKind
    readonly batchBy: "id" | "fund"
    readonly fundId: string | null
    readonly resumed: boolean
    readonly rowsTotal: number
    readonly alreadyScanned: number
    readonly batchSize: number
  }
  | { readonly _tag: "StuckBatchesRecovered"; readonly runId: string; readonly batchIds: ReadonlyArray<string> }
  | {
    readonly _tag: "BatchCompleted"
    readonly runId: string
    /** The worker that committed it (`<session>#<n>`). */
    readonly worker: string
    readonly batchId: string
    readonly batchNo: number
    readonly fundId: string | null
    readonly rangeStart: string | null
    readonly rangeEnd: string
    readonly scanned: number
    readonly updated: number
    readonly skipped: number
    readonly failed: number
    readonly durationMs: number
    readonly attempts: number
    /** The whole run's counters after this batch, every worker's and process's included. */
    readonly totals: RunTotals
    readonly rowsTotal: number
    readonly rowsPerSecond: number
    readonly etaSeconds: number | null
    readonly nextBatchSize: number
  }
  | {
    readonly _tag: "BatchRetrying"
    readonly runId: string
    readonly batchId: string
    readonly attempt: number
    readonly delayMs: number
    readonly error: string
  }
  | {
    readonly _tag: "BatchSplit"
    readonly runId: string
    readonly batchId: string
    readonly fromSize: number
    readonly toSize: number
    readonly error: string
  }
  | { readonly _tag: "Throttled"; readonly runId: string; readonly reasons: ReadonlyArray<string>; readonly waitMs: number }
  | {
    /** A worker's batch was taken over by another worker after its lease expired: it left it. */
    readonly _tag: "BatchAbandoned"
    readonly runId: string
    readonly worker: string
    readonly batchId: string
  }
  | {
    /** A worker started, waits for other workers' batches, or ended. */
    readonly _tag: "WorkerChanged"
    readonly runId: string
    readonly worker: string
    readonly state: "started" | "waiting" | "finished" | "stopped" | "failed"
    readonly batches: number
  }
  | {
    readonly _tag: "PreviewProgress"
    readonly scanned: number
    readonly rowsTotal: number
  }
  | {
    readonly _tag: "RunFinished"
    readonly runId: string
    readonly status: "succeeded" | "paused" | "cancelled" | "failed"
    readonly totals: RunTotals
    readonly durationMs: number
    readonly error: string | null
  }

/**
 * One event as a JSON line (no trailing newline).
 *
 * @example
 * ```ts
 * import { toJsonLine } from "stage-normalization/migration"
 * toJsonLine({ _tag: "Throttled", runId: "1", reasons: ["autovacuum"], waitMs: 1000 })
 * // => '{"event":"Throttled","runId":"1","reasons":["autovacuum"],"waitMs":1000}'
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const toJsonLine = (event: MigrationEvent): string => {
  const { _tag, ...rest } = event
  return JSON.stringify({ event: _tag, ...rest })
}
