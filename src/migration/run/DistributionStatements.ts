/**
 * The SQL of a distribution batch (a JSONB column): read the range's values, which the runner
 * normalises in TypeScript (see `DistributionPlan`), then write the changed ones back with their
 * audit rows — each update conditional on the row still holding the value read, so a concurrent
 * write is never lost (the same compare-and-set as the scalar statement in `BatchStatements`).
 *
 * @since 0.2.0
 */
import type { ResolvedTarget } from "../schema/Target.ts"
import { type BoundStatement, Params, type Partition, partitionPredicate, rangePredicate } from "../sql/BoundStatement.ts"

/**
 * Distribution batch, step 1: read the range (values as JSON text, exactly as stored).
 *
 * @since 0.1.0
 * @category statements
 */
export const readDistributions = (
  target: ResolvedTarget,
  args: { readonly partition: Partition; readonly lo: string | null; readonly hi: string }
): BoundStatement => {
  const p = new Params()
  const where = `${partitionPredicate(target, args.partition, p)} AND ${rangePredicate(target, p, args.lo, args.hi)}`
  return {
    text: `SELECT t.${target.id.sql}::text AS id, t.${target.column.sql}::text AS value
FROM ${target.sql} AS t WHERE ${where} ORDER BY t.${target.id.sql}`,
    params: p.values
  }
}

/**
 * Distribution batch, step 2: write the new values of the rows whose value is still the one read
 * (compare-and-set), auditing each; returns the ids written.
 *
 * @since 0.1.0
 * @category statements
 */
export const writeDistributions = (
  target: ResolvedTarget,
  args: {
    readonly runId: string
    readonly batchId: string
    readonly lo: string | null
    readonly hi: string
    readonly ids: ReadonlyArray<string>
    readonly olds: ReadonlyArray<string>
    readonly news: ReadonlyArray<string>
    /** Audit reason per row (`normalized`, or a `forced:…` reason). */
    readonly reasons: ReadonlyArray<string>
  }
): BoundStatement => {
  const p = new Params()
  const range = rangePredicate(target, p, args.lo, args.hi)
  const ids = p.add(args.ids, "text[]")
  const olds = p.add(args.olds, "text[]")
  const news = p.add(args.news, "text[]")
  const reasons = p.add(args.reasons, "text[]")
  const run = p.add(args.runId, "bigint")
  const batch = p.add(args.batchId, "bigint")
  const label = p.add(target.label, "text")
  const column = p.add(target.column.name, "text")
  return {
    text: `WITH v AS (
  SELECT * FROM unnest(${ids}, ${olds}, ${news}, ${reasons}) AS v(id, old, new, reason)
), upd AS (
  UPDATE ${target.sql} AS t SET ${target.column.sql} = v.new::jsonb
  FROM v
  WHERE ${range} AND t.${target.id.sql} = v.id::${target.id.type} AND t.${target.column.sql} = v.old::jsonb
  RETURNING t.${target.id.sql}::text AS id, v.old, v.new, v.reason
)
INSERT INTO stage_normalization_log (run_id, batch_id, table_name, pk, column_name, old_json, new_json, reason)
SELECT ${run}, ${batch}, ${label}, upd.id, ${column}, upd.old::jsonb, upd.new::jsonb, upd.reason FROM upd
RETURNING pk AS id`,
    params: p.values
  }
}

