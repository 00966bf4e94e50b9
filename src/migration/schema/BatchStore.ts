/**
 * A batch's record in `stage_migration_batches` beyond its claim and its commit (which the batch
 * statements write in the batch's own transaction): the failed attempts of a batch being retried
 * or split, and a batch failed for good. Written outside the batch's transaction, so they survive
 * its rollback.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { queryFailed } from "../MigrationError.ts"


/**
 * Record a failed attempt of a batch (and optionally narrow its range after a split).
 *
 * @since 0.1.0
 * @category batches
 */
export const recordAttempt = (batchId: string, error: string, rangeEnd: string | null) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(
      `UPDATE stage_migration_batches
       SET attempts = attempts + 1, error_message = $2, range_end = coalesce($3, range_end)
       WHERE batch_id = $1::bigint`,
      [batchId, error, rangeEnd]
    ).pipe(Effect.mapError(queryFailed(`recording an attempt of batch ${batchId}`)))
  })

/**
 * Mark a batch failed for good, and with it the run (when `runId` is given), in one statement:
 * every other worker of the run stops at its next guard, and none reclaims the batch until the
 * run is resumed.
 *
 * @since 0.1.0
 * @category batches
 */
export const failBatch = (batchId: string, error: string, runId?: string, runError?: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(
      `WITH b AS (
         UPDATE stage_migration_batches SET status = 'failed', error_message = $2, finished_at = clock_timestamp()
         WHERE batch_id = $1::bigint RETURNING run_id
       )
       UPDATE stage_migration_runs SET status = 'failed', error_message = $4, finished_at = now()
       WHERE run_id = $3::bigint AND run_id IN (SELECT run_id FROM b) AND status = 'running'`,
      [batchId, error, runId ?? null, runError ?? error]
    ).pipe(Effect.mapError(queryFailed(`failing batch ${batchId}`)))
  })
