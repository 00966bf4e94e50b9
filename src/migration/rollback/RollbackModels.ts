/**
 * What a rollback is asked (`RollbackOptions`) and what it reports (`RollbackSummary`, with the
 * rows it left alone as `RollbackConflict`s).
 *
 * @since 0.2.0
 */
import type { Effect } from "effect"
import type { MigrationEvent } from "../MigrationEvent.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface RollbackOptions {
  /** The normalisation run to undo. */
  readonly runId: string
  /** Only this batch of it. */
  readonly batchId?: string | undefined
  /** Write (default false: report what would be restored and what conflicts, writing nothing). */
  readonly apply?: boolean | undefined
  /** Audit rows per batch (default 1,000). */
  readonly batchSize?: number | undefined
  /** Pause between batches (default 100 ms). */
  readonly sleepMs?: number | undefined
  /** Workers in this process (default 1); other processes running the same rollback join it. */
  readonly workers?: number | undefined
  /** How long a claimed batch stays a worker's without renewal (default 30 s). */
  readonly leaseMs?: number | undefined
  /** Conflicts listed in the summary (default 100; all are in `stage_rollback_conflicts`). */
  readonly conflictsLimit?: number | undefined
  readonly onEvent?: ((event: MigrationEvent) => Effect.Effect<void>) | undefined
  /** Polled between batches: `true` pauses the rollback (signals). */
  readonly shouldStop?: Effect.Effect<boolean> | undefined
  readonly owner?: string | undefined
  /** Attempts per batch for transient errors (default 3). */
  readonly maxAttempts?: number | undefined
}

/**
 * A row the rollback left alone.
 *
 * @since 0.1.0
 * @category models
 */
export interface RollbackConflict {
  readonly pk: string
  /** What the run wrote (and the rollback expected to find). */
  readonly expected: string | null
  /** What the row holds now (null when deleted or NULL). */
  readonly found: string | null
  readonly missing: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RollbackSummary {
  readonly sourceRunId: string
  readonly batchId: string | null
  /** The rollback's own run (null for a dry run). */
  readonly rollbackRunId: string | null
  readonly status: "dry-run" | "succeeded" | "paused" | "cancelled" | "failed"
  readonly target: string
  readonly column: string
  readonly kind: "scalar" | "distribution"
  readonly resumed: boolean
  /** Audit rows of the source run in scope. */
  readonly auditRows: number
  /** Reverted by an earlier rollback. */
  readonly alreadyRestored: number
  /** Restored (dry run: restorable now). */
  readonly restored: number
  /** Changed or deleted since the run: left alone. */
  readonly conflicts: number
  readonly conflictList: ReadonlyArray<RollbackConflict>
  readonly batches: number
  readonly durationMs: number
  readonly error: string | null
}

