/**
 * Schema migration 3: what verification, rollback and forced mappings need (issue 7).
 *
 * - `stage_migration_runs.operation` (`normalize` | `rollback`) and `rollback_of` (the run a
 *   rollback undoes): a rollback is a run of its own, with batches, a checkpoint and audit rows;
 * - `stage_migration_runs.verification`: the summary of the latest `verify` of the run (the
 *   existing `verified_at` is set by a passing one and cleared by a failing one);
 * - `stage_normalization_log.reverts_log_id`: on a rollback's audit row, the audit row it reverts.
 *   A unique partial index makes "reverted at most once" a database invariant, so a crashed and
 *   resumed (or repeated) rollback can never restore a row twice;
 * - indexes for the rollback's keyset walk over a run's audit rows `(run_id, log_id)` and for
 *   verification's per-row lookups `(run_id, pk)`;
 * - `stage_rollback_conflicts`: the rows a rollback left alone because they changed since the run
 *   (never clobbered), with the value the run wrote and the value found;
 * - the progress view gains `operation` and `rollback_of` (appended, as `CREATE OR REPLACE VIEW`
 *   requires).
 *
 * Every statement is idempotent. Applied migrations are never edited: later changes go in 0004…
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
  `ALTER TABLE stage_migration_runs
     ADD COLUMN IF NOT EXISTS operation text NOT NULL DEFAULT 'normalize'
       CHECK (operation IN ('normalize', 'rollback'))`,
  `ALTER TABLE stage_migration_runs
     ADD COLUMN IF NOT EXISTS rollback_of bigint REFERENCES stage_migration_runs (run_id)`,
  `ALTER TABLE stage_migration_runs ADD COLUMN IF NOT EXISTS verification jsonb`,
  `CREATE INDEX IF NOT EXISTS stage_migration_runs_rollback_of_idx
     ON stage_migration_runs (rollback_of) WHERE rollback_of IS NOT NULL`,

  `ALTER TABLE stage_normalization_log ADD COLUMN IF NOT EXISTS reverts_log_id bigint`,
  `CREATE UNIQUE INDEX IF NOT EXISTS stage_normalization_log_reverts_idx
     ON stage_normalization_log (reverts_log_id) WHERE reverts_log_id IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS stage_normalization_log_run_log_idx ON stage_normalization_log (run_id, log_id)`,
  `CREATE INDEX IF NOT EXISTS stage_normalization_log_run_pk_idx ON stage_normalization_log (run_id, pk)`,

  `CREATE TABLE IF NOT EXISTS stage_rollback_conflicts (
     run_id bigint NOT NULL REFERENCES stage_migration_runs (run_id) ON DELETE CASCADE,
     log_id bigint NOT NULL,
     pk text NOT NULL,
     expected text,
     found text,
     row_missing boolean NOT NULL DEFAULT false,
     at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (run_id, log_id)
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
     r.rollback_of
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
   ORDER BY r.run_id DESC`
]

/**
 * @since 0.1.0
 * @category schema
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const statement of statements) yield* sql.unsafe(statement).unprepared
})
