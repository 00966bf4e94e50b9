/**
 * Schema migration 4: many workers on one run (issue 15).
 *
 * - `stage_migration_batches.owner` / `owner_session` / `lease_expires_at` / `heartbeat_at`: a
 *   running batch belongs to one worker under a lease. The worker's session holds an advisory
 *   lock named after `owner_session` for as long as it lives, so a claimer can tell a dead owner
 *   (its lock is free: process killed, connection lost) from a live one at once, and falls back
 *   to the lease's expiry when it cannot (a machine gone whose socket PostgreSQL has not closed yet);
 * - `stage_migration_control.last_id` / `fund_position` / `plan_partition` become the **planning
 *   frontier** (the end of the last range handed out), `planned_all` says the planner reached the end, and the run's
 *   shared throttle lives beside them: `throttled_until` + `throttle_reasons` (database health,
 *   one verdict for every worker), `max_rows_per_second` + `rate_tat` (the global ceiling, a GCRA
 *   "theoretical arrival time"), `sleep_ms` (the pause between batches, changeable while running);
 * - `stage_migration_workers`: one row per worker of a run (who, since when, last heartbeat, its
 *   counters and current batch) — what `stage_migration_progress.workers` and the CLI show;
 * - `stage_migration_runs.start_xid`: the id of the transaction that created the run, so that
 *   `verify` tells rows written after the run started (by the application, while workers ran)
 *   from the rows the run itself should have normalised;
 * - the progress view gains `workers_active` and `workers` (appended, as `CREATE OR REPLACE VIEW`
 *   requires).
 *
 * Runs left incomplete by an earlier version walked the table with one worker whose checkpoint was
 * the end of the last committed batch: their open batches (running, or failed and unresolved) are
 * marked `redone` here, because the planner re-plans their ranges from that checkpoint.
 *
 * @since 0.3.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * The DDL, in order.
 *
 * @since 0.3.0
 * @category schema
 */
export const statements: ReadonlyArray<string> = [
  `ALTER TABLE stage_migration_batches
     ADD COLUMN IF NOT EXISTS owner text,
     ADD COLUMN IF NOT EXISTS owner_session text,
     ADD COLUMN IF NOT EXISTS lease_expires_at timestamptz,
     ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz`,
  `CREATE INDEX IF NOT EXISTS stage_migration_batches_open_idx
     ON stage_migration_batches (run_id, batch_no)
     WHERE status = 'running' OR (status = 'failed' AND resolution IS NULL)`,
  `ALTER TABLE stage_migration_control
     ADD COLUMN IF NOT EXISTS plan_partition integer NOT NULL DEFAULT 0,
     ADD COLUMN IF NOT EXISTS planned_all boolean NOT NULL DEFAULT false,
     ADD COLUMN IF NOT EXISTS throttled_until timestamptz,
     ADD COLUMN IF NOT EXISTS throttle_reasons text[] NOT NULL DEFAULT '{}',
     ADD COLUMN IF NOT EXISTS max_rows_per_second double precision,
     ADD COLUMN IF NOT EXISTS rate_tat timestamptz,
     ADD COLUMN IF NOT EXISTS sleep_ms integer`,
  // a run batching by fund planned up to `fund_position`: its index in the run's fund order
  `UPDATE stage_migration_control c
     SET plan_partition = (SELECT count(*) FROM stage_migration_run_funds f
                           WHERE f.run_id = c.run_id AND f.position < (
                             SELECT g.position FROM stage_migration_run_funds g
                             WHERE g.run_id = c.run_id AND g.fund_id IS NOT DISTINCT FROM c.fund_position))
   FROM stage_migration_runs r
   WHERE r.run_id = c.run_id AND r.batch_by = 'fund' AND c.last_id IS NOT NULL
     AND EXISTS (SELECT 1 FROM stage_migration_run_funds g
                 WHERE g.run_id = c.run_id AND g.fund_id IS NOT DISTINCT FROM c.fund_position)`,
  `UPDATE stage_migration_batches b
     SET status = 'failed', resolution = 'redone', finished_at = coalesce(b.finished_at, now()),
         error_message = coalesce(b.error_message || '; ', '') || 'interrupted: range redone from the checkpoint'
   FROM stage_migration_runs r
   WHERE r.run_id = b.run_id AND r.status IN ('running', 'paused', 'failed')
     AND (b.status = 'running' OR (b.status = 'failed' AND b.resolution IS NULL))`,

  // the transaction that created the run: rows whose version is newer were written after the run started
  `ALTER TABLE stage_migration_runs ADD COLUMN IF NOT EXISTS start_xid text`,

  `CREATE TABLE IF NOT EXISTS stage_migration_workers (
     run_id bigint NOT NULL REFERENCES stage_migration_runs (run_id) ON DELETE CASCADE,
     worker_id text NOT NULL,
     session text NOT NULL,
     host text,
     pid integer,
     state text NOT NULL DEFAULT 'working' CHECK (state IN ('working', 'waiting', 'throttled', 'finished', 'stopped', 'failed')),
     batches integer NOT NULL DEFAULT 0,
     rows_scanned bigint NOT NULL DEFAULT 0,
     rows_updated bigint NOT NULL DEFAULT 0,
     current_batch_id bigint,
     started_at timestamptz NOT NULL DEFAULT now(),
     heartbeat_at timestamptz NOT NULL DEFAULT now(),
     finished_at timestamptz,
     PRIMARY KEY (run_id, worker_id)
   )`,

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
     r.verified_at,
     r.operation,
     r.rollback_of,
     coalesce(w.active, 0) AS workers_active,
     coalesce(w.workers, '[]'::jsonb) AS workers
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
   LEFT JOIN LATERAL (
     SELECT
       count(*) FILTER (WHERE finished_at IS NULL AND heartbeat_at > now() - interval '2 minutes') AS active,
       jsonb_agg(jsonb_build_object(
         'worker', worker_id, 'host', host, 'pid', pid, 'state', state, 'batches', batches,
         'rows_scanned', rows_scanned, 'rows_updated', rows_updated, 'current_batch_id', current_batch_id,
         'started_at', started_at, 'heartbeat_at', heartbeat_at, 'finished_at', finished_at
       ) ORDER BY started_at, worker_id) AS workers
     FROM stage_migration_workers
     WHERE run_id = r.run_id
   ) w ON true
   ORDER BY r.run_id DESC`
]

/**
 * @since 0.3.0
 * @category schema
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const statement of statements) yield* sql.unsafe(statement).unprepared
})
