/**
 * The SQL of one batch, built for a resolved target. Identifiers come from the catalog (quoted),
 * values are always bound parameters (ids and fund values travel as text and are cast to the
 * column's type), and each statement has one text per shape so the driver's prepared-statement
 * cache serves every batch after the first.
 *
 * A batch's range is `(range_start, range_end]` in id order within a partition (all rows, one
 * fund, or the rows without a fund).
 *
 * **Concurrent writers.** The scalar statement reads the range once (`scan`), then updates each
 * row only if its value is still the one scanned (`t.col = s.old`): under READ COMMITTED a row
 * another transaction changed meanwhile is re-checked against its newest version and skipped, so
 * the new value is always derived from the row's current value, the audit's old value is exactly
 * what was overwritten, and a concurrent write is never lost. Skipped ("raced") rows are
 * re-scanned by the same transaction until none is left (bounded). This compare-and-set costs
 * less than locking the rows with `SELECT … FOR UPDATE` first and gives the same guarantee.
 *
 * @since 0.1.0
 */
import type { ResolvedTarget } from "../schema/Target.ts"
import { type BoundStatement, Params, type Partition, partitionPredicate, rangePredicate } from "../sql/BoundStatement.ts"


/**
 * Forced mappings for one batch, as parallel arrays (stored value, stage, audit reason).
 *
 * @since 0.1.0
 * @category models
 */
export interface ForcedValues {
  readonly olds: ReadonlyArray<string>
  readonly news: ReadonlyArray<string>
  readonly reasons: ReadonlyArray<string>
}

/**
 * The distinct non-NULL values of a range the SQL twin does not recognise (the candidates for
 * `--force-unknown`).
 *
 * @since 0.1.0
 * @category statements
 */
export const unknownValuesInRange = (
  target: ResolvedTarget,
  args: { readonly twin: string; readonly partition: Partition; readonly lo: string | null; readonly hi: string }
): BoundStatement => {
  const p = new Params()
  const where = `${partitionPredicate(target, args.partition, p)} AND ${rangePredicate(target, p, args.lo, args.hi)}`
  return {
    text: `SELECT DISTINCT t.${target.column.sql}::text AS value FROM ${target.sql} AS t
WHERE ${where} AND t.${target.column.sql} IS NOT NULL AND ${args.twin}(t.${target.column.sql}::text) IS NULL`,
    params: p.values
  }
}

/**
 * The id splitting `(lo, hi]` after its first `half` rows (for a statement-timeout split).
 *
 * @since 0.1.0
 * @category statements
 */
export const splitPoint = (
  target: ResolvedTarget,
  args: { readonly partition: Partition; readonly lo: string | null; readonly hi: string; readonly half: number }
): BoundStatement => {
  const p = new Params()
  const where = `${partitionPredicate(target, args.partition, p)} AND ${rangePredicate(target, p, args.lo, args.hi)}`
  return {
    text: `SELECT max(s.id)::text AS mid FROM (
  SELECT t.${target.id.sql} AS id FROM ${target.sql} AS t WHERE ${where}
  ORDER BY t.${target.id.sql} LIMIT ${p.add(args.half, "int")}
) s`,
    params: p.values
  }
}

/**
 * Scalar batch: scan the range, update the rows whose value changes (compare-and-set on the
 * scanned value), audit each updated row, and add the range's unknown values to
 * `stage_migration_unknowns` (only when `countUnknowns`; re-scans of raced rows pass false).
 * Returns the counts.
 *
 * @since 0.1.0
 * @category statements
 */
export const scalarBatch = (
  target: ResolvedTarget,
  args: {
    readonly twin: string
    readonly runId: string
    readonly batchId: string
    readonly partition: Partition
    readonly lo: string | null
    readonly hi: string
    readonly countUnknowns: boolean
    /** Forced mappings of unknown values (`--force-unknown`): stored value → stage, audit reason. */
    readonly forced?: ForcedValues | undefined
  }
): BoundStatement => {
  const p = new Params()
  const col = target.column.sql
  const id = target.id.sql
  const forced = args.forced !== undefined && args.forced.olds.length > 0 ? args.forced : undefined
  const mapping = forced === undefined
    ? ""
    : `m AS (
  SELECT * FROM unnest(${p.add(forced.olds, "text[]")}, ${p.add(forced.news, "text[]")}, ${p.add(forced.reasons, "text[]")})
    AS m(old, new, reason)
), `
  const scanWhere = `${partitionPredicate(target, args.partition, p)} AND ${rangePredicate(target, p, args.lo, args.hi)}`
  const updateRange = rangePredicate(target, p, args.lo, args.hi)
  const run = p.add(args.runId, "bigint")
  const batch = p.add(args.batchId, "bigint")
  const label = p.add(target.label, "text")
  const column = p.add(target.column.name, "text")
  const countUnknowns = p.add(args.countUnknowns, "boolean")
  // Without forced values the statement is exactly issue 6's (the audit's reason defaults to
  // 'normalized'); with them, an unknown value found in the mapping gets its forced stage and reason.
  const scan = forced === undefined
    ? `SELECT t.${id} AS id, t.${col}::text AS old, ${args.twin}(t.${col}::text) AS new
  FROM ${target.sql} AS t
  WHERE ${scanWhere}`
    : `SELECT x.id, x.old, coalesce(x.twin, m.new) AS new,
         CASE WHEN x.twin IS NULL AND m.new IS NOT NULL THEN m.reason ELSE 'normalized' END AS reason
  FROM (SELECT t.${id} AS id, t.${col}::text AS old, ${args.twin}(t.${col}::text) AS twin
        FROM ${target.sql} AS t WHERE ${scanWhere}) x
  LEFT JOIN m ON m.old = x.old`
  return {
    text: `WITH ${mapping}scan AS MATERIALIZED (
  ${scan}
), upd AS (
  UPDATE ${target.sql} AS t SET ${col} = s.new
  FROM scan s
  WHERE ${updateRange} AND t.${id} = s.id
    AND s.new IS NOT NULL AND s.old <> s.new AND t.${col} = s.old
  RETURNING t.${id} AS id, s.old, s.new${forced === undefined ? "" : ", s.reason"}
), audit AS (
  INSERT INTO stage_normalization_log (run_id, batch_id, table_name, pk, column_name, old_value, new_value${
      forced === undefined ? "" : ", reason"
    })
  SELECT ${run}, ${batch}, ${label}, upd.id::text, ${column}, upd.old, upd.new${forced === undefined ? "" : ", upd.reason"} FROM upd
  RETURNING 1
), unknown AS (
  SELECT s.old AS value, count(*) AS n, min(s.id)::text AS example
  FROM scan s WHERE ${countUnknowns} AND s.old IS NOT NULL AND s.new IS NULL
  GROUP BY s.old
), recorded AS (
  INSERT INTO stage_migration_unknowns (run_id, kind, value_md5, raw_value, rows, example_pk)
  SELECT ${run}, 'unknown-stage', md5(u.value), u.value, u.n, u.example FROM unknown u
  ON CONFLICT (run_id, kind, value_md5) DO UPDATE SET rows = stage_migration_unknowns.rows + EXCLUDED.rows
  RETURNING 1
)
SELECT
  (SELECT count(*) FROM scan)::int AS scanned,
  (SELECT count(*) FROM scan WHERE old IS NULL)::int AS nulls,
  (SELECT count(*) FROM scan WHERE old IS NOT NULL AND new IS NULL)::int AS unknown,
  (SELECT count(*) FROM scan WHERE new IS NOT NULL AND old <> new)::int AS candidates,
  (SELECT count(*) FROM audit)::int AS updated,
  (SELECT count(*) FROM recorded)::int AS unknown_values`,
    params: p.values
  }
}

/**
 * Record values a distribution batch left unchanged (aggregated in TypeScript).
 *
 * @since 0.1.0
 * @category statements
 */
export const recordUnknowns = (
  runId: string,
  values: ReadonlyArray<{ readonly kind: string; readonly value: string; readonly rows: number; readonly example: string }>
): BoundStatement => ({
  text: `INSERT INTO stage_migration_unknowns (run_id, kind, value_md5, raw_value, rows, example_pk)
SELECT $1::bigint, u.kind, md5(u.value), u.value, u.n::int8, u.example
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(kind, value, n, example)
ON CONFLICT (run_id, kind, value_md5) DO UPDATE SET rows = stage_migration_unknowns.rows + EXCLUDED.rows`,
  params: [
    runId,
    values.map((v) => v.kind),
    values.map((v) => v.value),
    values.map((v) => String(v.rows)),
    values.map((v) => v.example)
  ]
})

/**
 * Close a batch inside its transaction: the batch row, the run's shared batch size (adaptive
 * sizing is the run's, not a worker's), the worker's and the run's counters. Returns the run's
 * counters after this batch (every worker's), for progress.
 *
 * @since 0.1.0
 * @category statements
 */
export const finishBatch = (args: {
  readonly runId: string
  readonly batchId: string
  readonly worker: string
  readonly nextBatchSize: number
  readonly scanned: number
  readonly updated: number
  readonly skipped: number
  readonly failed: number
}): BoundStatement => ({
  text: `WITH b AS (
  UPDATE stage_migration_batches
  SET status = 'succeeded', rows_scanned = $3::int, rows_updated = $4::int, rows_skipped = $5::int, rows_failed = $6::int,
      finished_at = clock_timestamp()
  WHERE batch_id = $2::bigint
  RETURNING 1
), c AS (
  UPDATE stage_migration_control SET batch_size = $7::int WHERE run_id = $1::bigint AND batch_size <> $7::int
  RETURNING 1
), w AS (
  UPDATE stage_migration_workers
  SET batches = batches + 1, rows_scanned = rows_scanned + $3::int, rows_updated = rows_updated + $4::int,
      current_batch_id = NULL, heartbeat_at = clock_timestamp()
  WHERE run_id = $1::bigint AND worker_id = $8::text
  RETURNING 1
)
UPDATE stage_migration_runs
SET rows_scanned = rows_scanned + $3::int, rows_updated = rows_updated + $4::int,
    rows_skipped = rows_skipped + $5::int, rows_failed = rows_failed + $6::int, heartbeat_at = now(),
    status = CASE WHEN status = 'paused' THEN 'running' ELSE status END
WHERE run_id = $1::bigint AND (SELECT count(*) FROM b) = 1
RETURNING rows_scanned::float8 AS scanned, rows_updated::float8 AS updated, rows_skipped::float8 AS skipped, rows_failed::float8 AS failed`,
  params: [
    args.runId,
    args.batchId,
    args.scanned,
    args.updated,
    args.skipped,
    args.failed,
    args.nextBatchSize,
    args.worker
  ]
})

/**
 * The id ending the next range of at most `limit` rows of a partition after `lo` (no row when the
 * partition has none left): how the planner cuts a target's ranges.
 *
 * @since 0.3.0
 * @category statements
 */
export const nextRangeEnd = (
  target: ResolvedTarget,
  args: { readonly partition: Partition; readonly lo: string | null; readonly limit: number }
): BoundStatement => {
  const p = new Params()
  const where = `${partitionPredicate(target, args.partition, p)} AND ${rangePredicate(target, p, args.lo, null)}`
  return {
    text: `SELECT max(r.id)::text AS range_end FROM (
  SELECT t.${target.id.sql} AS id FROM ${target.sql} AS t
  WHERE ${where}
  ORDER BY t.${target.id.sql} LIMIT ${p.add(args.limit, "int")}
) r HAVING count(*) > 0`,
    params: p.values
  }
}

/**
 * Dry-run scan of one range: the next `limit` rows after `lo`, grouped by value (as text).
 *
 * @since 0.1.0
 * @category statements
 */
export const previewRange = (
  target: ResolvedTarget,
  args: { readonly partition: Partition; readonly lo: string | null; readonly limit: number }
): BoundStatement => {
  const p = new Params()
  const where = `${partitionPredicate(target, args.partition, p)} AND ${rangePredicate(target, p, args.lo, null)}`
  return {
    text: `WITH r AS MATERIALIZED (
  SELECT t.${target.id.sql} AS id, t.${target.column.sql}::text AS v FROM ${target.sql} AS t
  WHERE ${where}
  ORDER BY t.${target.id.sql} LIMIT ${p.add(args.limit, "int")}
)
SELECT
  (SELECT max(id)::text FROM r) AS hi,
  (SELECT count(*) FROM r)::int AS n,
  (SELECT coalesce(json_agg(json_build_array(g.v, g.c)), '[]'::json)::text
     FROM (SELECT v, count(*)::int AS c FROM r GROUP BY v) g) AS groups`,
    params: p.values
  }
}

/**
 * The batch transaction's own statement and lock timeouts (`set_config(…, true)`: they end with
 * the transaction).
 *
 * @example
 * ```ts
 * import { batchTimeouts } from "./BatchStatements.ts" // internal: not part of the package's API
 * batchTimeouts({ statementTimeoutMs: 30_000, lockTimeoutMs: 5_000 }).params // => ["30000ms", "5000ms"]
 * ```
 *
 * @since 0.2.0
 * @category statements
 */
export const batchTimeouts = (timeouts: { readonly statementTimeoutMs: number; readonly lockTimeoutMs: number }): BoundStatement => ({
  text: "SELECT set_config('statement_timeout', $1::text, true), set_config('lock_timeout', $2::text, true)",
  params: [`${timeouts.statementTimeoutMs}ms`, `${timeouts.lockTimeoutMs}ms`]
})
