/**
 * The executor of a rollback: its batches are ranges of the source run's **audit rows** (by log
 * id), and a batch restores each audited row that still holds the value the run wrote, records
 * the rows changed since as conflicts, and audits every restore — in one transaction with the
 * batch record (see `RollbackStatements`). A rollback batch is never split:
 * it touches only the rows its audit range names.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { elapsedSince, nowMillis } from "../../shared/WallClock.ts"
import type { BatchExecutor, ClaimedBatch, ExecutedBatch } from "../run/BatchDriver.ts"
import { commitBatch } from "../run/RangeClaims.ts"
import { renewLease, type WorkerIdentity } from "../run/RangeLeases.ts"
import { ALL_ROWS } from "../sql/BoundStatement.ts"
import type { ResolvedTarget } from "../schema/Target.ts"
import { exec } from "../sql/BoundStatement.ts"
import { nextRollbackRangeEnd, rollbackBatch, type RollbackScope } from "./RollbackStatements.ts"

/** One attempt of a rollback batch, in one transaction. */
const rollbackAttempt = (target: ResolvedTarget, scope: RollbackScope, who: WorkerIdentity, batch: ClaimedBatch) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const runId = who.runId
    return yield* sql.withTransaction(Effect.gen(function*() {
      const started = yield* nowMillis
      yield* renewLease(who, batch.batchId)
      const counts = (yield* exec<{ in_range: number; pending: number; restored: number; conflicts: number }>(
        rollbackBatch(target, scope, { runId, batchId: batch.batchId, lo: batch.lo, hi: batch.hi })
      ))[0]!
      const result = {
        scanned: counts.in_range,
        updated: counts.restored,
        skipped: counts.in_range - counts.pending,
        failed: counts.conflicts
      }
      const run = yield* commitBatch(who, batch, result, batch.size)
      return { ...result, hi: batch.hi, nextSize: batch.size, durationMs: yield* elapsedSince(started), run } satisfies ExecutedBatch
    }))
  })

/**
 * The ranges and execute step of a rollback run.
 *
 * @example
 * ```ts
 * import { rollbackExecutor } from "./RollbackExecutor.ts" // internal: the rollback plugs it into the batch driver
 * // drive(rollbackExecutor(target, scope), options)
 * ```
 *
 * @since 0.2.0
 * @category executors
 */
export const rollbackExecutor = (
  target: ResolvedTarget,
  scope: RollbackScope
): BatchExecutor<SqlClient.SqlClient> => ({
  planner: {
    partitions: [ALL_ROWS],
    nextRangeEnd: (_partition, lo, size) =>
      exec<{ range_end: string }>(nextRollbackRangeEnd(scope, { lo, limit: size })).pipe(Effect.map((rows) => rows[0]?.range_end))
  },
  execute: (batch, who) => rollbackAttempt(target, scope, who, batch)
})
