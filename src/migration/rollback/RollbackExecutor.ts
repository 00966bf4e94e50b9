/**
 * The executor of a rollback: its batches are ranges of the source run's **audit rows** (by log
 * id), and a batch restores each audited row that still holds the value the run wrote, records
 * the rows changed since as conflicts, and audits every restore — in one transaction with the
 * batch record and the checkpoint (see `RollbackStatements`). A rollback batch is never split:
 * it touches only the rows its audit range names.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { elapsedSince, nowMillis } from "../../shared/WallClock.ts"
import type { BatchExecutor, ClaimedBatch, ExecutedBatch } from "../run/BatchDriver.ts"
import { finishBatch } from "../run/BatchStatements.ts"
import type { ResolvedTarget } from "../schema/Target.ts"
import { exec } from "../sql/BoundStatement.ts"
import { claimRollbackBatch, rollbackBatch, type RollbackScope } from "./RollbackStatements.ts"

/** One attempt of a rollback batch, in one transaction. */
const rollbackAttempt = (target: ResolvedTarget, scope: RollbackScope, runId: string, batch: ClaimedBatch) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      const started = yield* nowMillis
      const counts = (yield* exec<{ in_range: number; pending: number; restored: number; conflicts: number }>(
        rollbackBatch(target, scope, { runId, batchId: batch.batchId, lo: batch.lo, hi: batch.hi })
      ))[0]!
      const result = {
        scanned: counts.in_range,
        updated: counts.restored,
        skipped: counts.in_range - counts.pending,
        failed: counts.conflicts
      }
      yield* exec(finishBatch({ runId, batchId: batch.batchId, batchNo: batch.batchNo, partition: batch.partition, hi: batch.hi, nextBatchSize: batch.size, ...result }))
      return { ...result, hi: batch.hi, nextSize: batch.size, durationMs: yield* elapsedSince(started) } satisfies ExecutedBatch
    }))
  })

/**
 * The claim and execute steps of a rollback run.
 *
 * @example
 * ```ts
 * import { rollbackExecutor } from "./RollbackExecutor.ts" // internal: the rollback plugs it into the batch driver
 * // drive(rollbackExecutor(target, scope, runId), options)
 * ```
 *
 * @since 0.2.0
 * @category executors
 */
export const rollbackExecutor = (
  target: ResolvedTarget,
  scope: RollbackScope,
  runId: string
): BatchExecutor<SqlClient.SqlClient> => ({
  claim: ({ batchNo, lo, size }) =>
    exec<{ batch_id: string; range_end: string }>(claimRollbackBatch(scope, { runId, batchNo, lo, limit: size })).pipe(
      Effect.map((rows) => (rows[0] === undefined ? undefined : { batchId: rows[0].batch_id, hi: rows[0].range_end }))
    ),
  execute: (batch) => rollbackAttempt(target, scope, runId, batch)
})
