/**
 * The SQL of a rollback, built for a resolved target. A rollback walks the **audit rows** of the
 * run it undoes in `log_id` order, in keyset batches, and restores each row's old value **only
 * where the row still holds the value the run wrote** (a compare-and-set in the UPDATE itself, so
 * a row changed since — even concurrently — is left alone and listed in
 * `stage_rollback_conflicts`, never clobbered). Each restored row gets an audit row of its own
 * (`reason = 'rollback'`, `reverts_log_id` = the audit row it reverts; unique, so no audit row is
 * ever reverted twice), and batch row, checkpoint and counters commit in the same transaction.
 *
 * @since 0.1.0
 */
import type { BoundStatement } from "../sql/BoundStatement.ts"
import type { ResolvedTarget } from "../schema/Target.ts"

/**
 * Which audit rows of the source run a rollback covers.
 *
 * @since 0.1.0
 * @category models
 */
export interface RollbackScope {
  readonly sourceRunId: string
  /** Only this batch of the source run. */
  readonly batchId: string | null
}

const scopeWhere = (scope: RollbackScope, first: number): { readonly text: string; readonly params: Array<unknown> } =>
  scope.batchId === null
    ? { text: `l.run_id = $${first}::bigint`, params: [scope.sourceRunId] }
    : { text: `l.run_id = $${first}::bigint AND l.batch_id = $${first + 1}::bigint`, params: [scope.sourceRunId, scope.batchId] }

/**
 * The log id ending the next range of at most `limit` of the source run's audit rows after `lo`
 * (`log_id` in `(lo, hi]`); no row when there is none left.
 *
 * @since 0.3.0
 * @category statements
 */
export const nextRollbackRangeEnd = (
  scope: RollbackScope,
  args: { readonly lo: string | null; readonly limit: number }
): BoundStatement => {
  const s = scopeWhere(scope, 3)
  return {
    text: `SELECT max(r.log_id)::text AS range_end FROM (
  SELECT l.log_id FROM stage_normalization_log l
  WHERE ${s.text} AND l.log_id > coalesce($1::text, '0')::bigint
  ORDER BY l.log_id LIMIT $2::int
) r HAVING count(*) > 0`,
    params: [args.lo, args.limit, ...s.params]
  }
}

/**
 * One rollback batch: restore, audit, record conflicts; returns the counts (`in_range`,
 * `pending` — not yet reverted —, `restored`, `conflicts`).
 *
 * @since 0.1.0
 * @category statements
 */
export const rollbackBatch = (
  target: ResolvedTarget,
  scope: RollbackScope,
  args: { readonly runId: string; readonly batchId: string; readonly lo: string | null; readonly hi: string }
): BoundStatement => {
  const s = scopeWhere(scope, 7)
  const col = target.column.sql
  const id = target.id.sql
  const scalar = target.kind === "scalar"
  return {
    text: `WITH src AS MATERIALIZED (
  SELECT l.log_id, l.pk, l.old_value, l.new_value, l.old_json, l.new_json FROM stage_normalization_log l
  WHERE ${s.text} AND l.log_id > coalesce($3::text, '0')::bigint AND l.log_id <= $4::text::bigint
    AND NOT EXISTS (SELECT 1 FROM stage_normalization_log r WHERE r.reverts_log_id = l.log_id)
), upd AS (
  UPDATE ${target.sql} AS t SET ${col} = ${scalar ? "src.old_value" : "src.old_json"}
  FROM src
  WHERE t.${id} = src.pk::${target.id.type} AND t.${col} = ${scalar ? "src.new_value" : "src.new_json"}
  RETURNING src.log_id, src.pk, src.old_value, src.new_value, src.old_json, src.new_json
), audit AS (
  INSERT INTO stage_normalization_log
    (run_id, batch_id, table_name, pk, column_name, old_value, new_value, old_json, new_json, reason, reverts_log_id)
  SELECT $1::bigint, $2::bigint, $5::text, upd.pk, $6::text, upd.new_value, upd.old_value, upd.new_json, upd.old_json,
         'rollback', upd.log_id
  FROM upd
  RETURNING 1
), conflicts AS (
  INSERT INTO stage_rollback_conflicts (run_id, log_id, pk, expected, found, row_missing)
  SELECT $1::bigint, src.log_id, src.pk, coalesce(src.new_value, src.new_json::text), t.${col}::text, t.${id} IS NULL
  FROM src LEFT JOIN ${target.sql} AS t ON t.${id} = src.pk::${target.id.type}
  WHERE src.log_id NOT IN (SELECT log_id FROM upd)
  ON CONFLICT (run_id, log_id) DO UPDATE SET found = EXCLUDED.found, row_missing = EXCLUDED.row_missing, at = now()
  RETURNING 1
)
SELECT
  (SELECT count(*) FROM stage_normalization_log l
    WHERE ${s.text} AND l.log_id > coalesce($3::text, '0')::bigint AND l.log_id <= $4::text::bigint)::int AS in_range,
  (SELECT count(*) FROM src)::int AS pending,
  (SELECT count(*) FROM audit)::int AS restored,
  (SELECT count(*) FROM conflicts)::int AS conflicts`,
    params: [args.runId, args.batchId, args.lo, args.hi, target.label, target.column.name, ...s.params]
  }
}

/**
 * Dry run: what a rollback would do now — audit rows in scope, already reverted, restorable, and
 * the conflicts (rows changed or deleted since), without writing. `reverted` tells whether the
 * database has the `reverts_log_id` column yet (before tracking migration 3 nothing was reverted).
 *
 * @since 0.1.0
 * @category statements
 */
export const previewRollback = (
  target: ResolvedTarget,
  scope: RollbackScope,
  args: { readonly reverted: boolean; readonly limit: number }
): BoundStatement => {
  const s = scopeWhere(scope, 1)
  const col = target.column.sql
  const id = target.id.sql
  const written = target.kind === "scalar" ? "l.new_value" : "l.new_json"
  const revertedExpr = args.reverted
    ? "EXISTS (SELECT 1 FROM stage_normalization_log r WHERE r.reverts_log_id = l.log_id)"
    : "false"
  return {
    text: `WITH a AS MATERIALIZED (
  SELECT l.log_id, l.pk, coalesce(l.new_value, l.new_json::text) AS expected, t.${col}::text AS found,
         (t.${id} IS NULL) AS missing, ${revertedExpr} AS reverted,
         (t.${id} IS NOT NULL AND t.${col} = ${written}) AS restorable
  FROM stage_normalization_log l LEFT JOIN ${target.sql} AS t ON t.${id} = l.pk::${target.id.type}
  WHERE ${s.text}
)
SELECT
  (SELECT count(*) FROM a)::int AS total,
  (SELECT count(*) FROM a WHERE reverted)::int AS already,
  (SELECT count(*) FROM a WHERE NOT reverted AND restorable)::int AS restorable,
  (SELECT count(*) FROM a WHERE NOT reverted AND NOT restorable)::int AS conflicts,
  (SELECT coalesce(json_agg(json_build_object('pk', x.pk, 'expected', x.expected, 'found', x.found, 'missing', x.missing)), '[]')::text
     FROM (SELECT * FROM a WHERE NOT reverted AND NOT restorable ORDER BY log_id LIMIT ${Math.max(0, Math.floor(args.limit))}) x) AS examples`,
    params: s.params
  }
}
