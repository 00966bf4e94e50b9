/**
 * Schema migration 2: the operator views over the tracking tables.
 *
 * - `stage_migration_progress`: one row per run, newest first — counters, `percent_complete`
 *   (100 once the run succeeded), batch counts, rows/s and an ETA while running;
 * - `stage_migration_progress_by_fund`: one row per run and fund (from the baselines recorded at
 *   run start); per-fund progress is exact when the run batches by fund, and jumps to 100 % at the
 *   end of a run that batches by id;
 * - `stage_migration_failures`: failed batches with their error, attempts and `resolution`
 *   (`redone` once the range was re-run from the checkpoint).
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * The DDL, in order.
 *
 * @since 0.1.0
 * @category schema
 */
export const statements: ReadonlyArray<string> = [
  `CREATE OR REPLACE VIEW stage_migration_progress AS
   SELECT
     r.run_id,
     r.target_table,
     r.target_column,
     r.kind,
     r.fund_id,
     r.status,
     r.dry_run,
     r.rows_total,
     r.rows_scanned,
     r.rows_updated,
     r.rows_skipped,
     r.rows_failed,
     CASE
       WHEN r.status = 'succeeded' THEN 100.00
       WHEN coalesce(r.rows_total, 0) = 0 THEN 0.00
       ELSE round(100.0 * LEAST(r.rows_scanned, r.rows_total) / r.rows_total, 2)
     END AS percent_complete,
     coalesce(b.batches_total, 0) AS batches_total,
     coalesce(b.batches_succeeded, 0) AS batches_succeeded,
     coalesce(b.batches_failed, 0) AS batches_failed,
     coalesce(b.batches_running, 0) AS batches_running,
     CASE
       WHEN extract(epoch FROM coalesce(r.finished_at, now()) - r.started_at) > 0
       THEN round(r.rows_scanned / extract(epoch FROM coalesce(r.finished_at, now()) - r.started_at), 1)
     END AS rows_per_second,
     CASE
       WHEN r.status = 'running' AND r.rows_scanned > 0 AND r.rows_total > r.rows_scanned
       THEN (now() - r.started_at) * ((r.rows_total - r.rows_scanned)::float8 / r.rows_scanned)
     END AS eta,
     r.started_at,
     r.finished_at,
     r.heartbeat_at,
     r.verified_at
   FROM stage_migration_runs r
   LEFT JOIN LATERAL (
     SELECT
       count(*) AS batches_total,
       count(*) FILTER (WHERE status = 'succeeded') AS batches_succeeded,
       count(*) FILTER (WHERE status = 'failed' AND resolution IS NULL) AS batches_failed,
       count(*) FILTER (WHERE status = 'running') AS batches_running
     FROM stage_migration_batches
     WHERE run_id = r.run_id
   ) b ON true
   ORDER BY r.run_id DESC`,

  `CREATE OR REPLACE VIEW stage_migration_progress_by_fund AS
   SELECT
     f.run_id,
     r.target_table,
     r.target_column,
     f.fund_id,
     r.status AS run_status,
     f.rows_total,
     f.rows_null,
     f.rows_noncanonical,
     coalesce(b.rows_scanned, 0) AS rows_scanned,
     coalesce(b.rows_updated, 0) AS rows_updated,
     coalesce(b.rows_skipped, 0) AS rows_skipped,
     coalesce(b.rows_failed, 0) AS rows_failed,
     coalesce(b.batches_succeeded, 0) AS batches_succeeded,
     coalesce(b.batches_failed, 0) AS batches_failed,
     CASE
       WHEN r.status = 'succeeded' THEN 100.00
       WHEN f.rows_total = 0 THEN 0.00
       ELSE round(100.0 * LEAST(coalesce(b.rows_scanned, 0), f.rows_total) / f.rows_total, 2)
     END AS percent_complete,
     b.first_started_at,
     b.last_finished_at
   FROM stage_migration_run_funds f
   JOIN stage_migration_runs r ON r.run_id = f.run_id
   LEFT JOIN LATERAL (
     SELECT
       sum(rows_scanned) FILTER (WHERE status = 'succeeded') AS rows_scanned,
       sum(rows_updated) FILTER (WHERE status = 'succeeded') AS rows_updated,
       sum(rows_skipped) FILTER (WHERE status = 'succeeded') AS rows_skipped,
       sum(rows_failed) FILTER (WHERE status = 'succeeded') AS rows_failed,
       count(*) FILTER (WHERE status = 'succeeded') AS batches_succeeded,
       count(*) FILTER (WHERE status = 'failed' AND resolution IS NULL) AS batches_failed,
       min(started_at) AS first_started_at,
       max(finished_at) AS last_finished_at
     FROM stage_migration_batches
     WHERE run_id = f.run_id AND fund_id IS NOT DISTINCT FROM f.fund_id
       AND (r.batch_by = 'fund' OR r.fund_id IS NOT NULL)
   ) b ON true
   ORDER BY f.run_id DESC, f.position`,

  `CREATE OR REPLACE VIEW stage_migration_failures AS
   SELECT
     b.batch_id,
     b.run_id,
     r.target_table,
     r.target_column,
     r.status AS run_status,
     b.batch_no,
     b.fund_id,
     b.range_start,
     b.range_end,
     b.attempts,
     b.error_message,
     b.resolution,
     b.started_at,
     b.updated_at
   FROM stage_migration_batches b
   JOIN stage_migration_runs r ON r.run_id = b.run_id
   WHERE b.status = 'failed'
   ORDER BY b.updated_at DESC`
]

/**
 * @since 0.1.0
 * @category schema
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const statement of statements) yield* sql.unsafe(statement).unprepared
})
