/**
 * Check 9, distributions only: the migration changed nothing but stages. For every row the run
 * audited, the audit's old value and the row as it is now are compared in SQL on `jsonb` with the
 * stages taken out, and any difference fails the check:
 *
 * - an array of the same length: entry by entry, each entry without its `stage` field, as jsonb
 *   text (so `12345678901234567890` ≠ `12345678901234567000`, `0.333333333333333333333` ≠
 *   `0.3333333333333333`);
 * - an array whose entries were merged: both sides hold only `stage` and numeric `weight` fields,
 *   and the weights' exact `numeric` sums are equal;
 * - an object (`{ stage: weight }`) with as many keys: the same weights (as jsonb texts, a multiset:
 *   keys are stages); with fewer keys (merged): only numbers, and equal exact `numeric` sums;
 * - anything else: the whole value.
 *
 * A row set to NULL counts as changed; a deleted row is counted (a warning: the row-count and
 * audit checks own deletions; not with a fund filter, as its fund is gone with it). A row the application changed since the run fails too — run
 * `verify` right after the migration. Skipped for scalar targets (the stage is the whole value).
 *
 * @since 0.4.0
 */
import { Effect } from "effect"
import { check, example, fundFilter, MAX_EXAMPLES, n, num, params, type VerifyContext } from "./VerifyContext.ts"
import type { CheckStatus } from "./VerifyReport.ts"

/** SQL: do jsonb `o` (audited old value) and `c` (the row now) agree outside their stages? */
const sameOutsideStages = (o: string, c: string): string => `CASE
  WHEN ${c} IS NULL THEN false
  WHEN jsonb_typeof(${o}) = 'array' AND jsonb_typeof(${c}) = 'array' THEN CASE
    WHEN jsonb_array_length(${o}) = jsonb_array_length(${c}) THEN NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(${o}) WITH ORDINALITY AS x(e, i) JOIN jsonb_array_elements(${c}) WITH ORDINALITY AS y(e, i) USING (i)
      WHERE jsonb_typeof(x.e) <> 'object' OR jsonb_typeof(y.e) <> 'object' OR (x.e - 'stage')::text <> (y.e - 'stage')::text)
    ELSE NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(${o} || ${c}) AS x(e)
      WHERE jsonb_typeof(x.e) <> 'object' OR jsonb_typeof(x.e -> 'weight') IS DISTINCT FROM 'number' OR (x.e - 'stage' - 'weight') <> '{}'::jsonb)
      AND (SELECT sum((x.e ->> 'weight')::numeric) FROM jsonb_array_elements(${o}) AS x(e))
        = (SELECT sum((x.e ->> 'weight')::numeric) FROM jsonb_array_elements(${c}) AS x(e))
  END
  WHEN jsonb_typeof(${o}) = 'object' AND jsonb_typeof(${c}) = 'object' THEN CASE
    WHEN (SELECT count(*) FROM jsonb_object_keys(${o})) = (SELECT count(*) FROM jsonb_object_keys(${c}))
    THEN (SELECT array_agg(x.v::text ORDER BY x.v::text) FROM jsonb_each(${o}) AS x(k, v))
      IS NOT DISTINCT FROM (SELECT array_agg(x.v::text ORDER BY x.v::text) FROM jsonb_each(${c}) AS x(k, v))
    ELSE NOT EXISTS (
      SELECT 1 FROM (SELECT x.v FROM jsonb_each(${o}) AS x(k, v) UNION ALL SELECT x.v FROM jsonb_each(${c}) AS x(k, v)) AS w
      WHERE jsonb_typeof(w.v) <> 'number')
      AND (SELECT sum(x.v::text::numeric) FROM jsonb_each(${o}) AS x(k, v))
        = (SELECT sum(x.v::text::numeric) FROM jsonb_each(${c}) AS x(k, v))
  END
  ELSE ${o}::text = ${c}::text
END`

/**
 * @since 0.4.0
 * @category checks
 */
export const checkNonStageContent = (ctx: VerifyContext) =>
  Effect.gen(function*() {
    if (ctx.target.kind !== "distribution") return check("non-stage-content", "skipped", "scalar column: the stage is the whole value")
    const p = params()
    const run = p.bind(ctx.run.runId, "bigint")
    const id = ctx.target.id.sql
    // one fund: rows of that fund only (a deleted row's fund is unknown, so it is not counted)
    const fund = fundFilter(ctx, p.bind)
    const rows = `WITH a AS (
  SELECT l.pk, l.log_id, l.old_json AS o, t.${ctx.target.column.sql} AS c, t.${id} IS NULL AS gone
  FROM stage_normalization_log l LEFT JOIN ${ctx.target.sql} AS t ON t.${id} = l.pk::${ctx.target.id.type}
  WHERE l.run_id = ${run} AND l.old_json IS NOT NULL AND l.reverts_log_id IS NULL
    AND ${fund === "TRUE" ? "TRUE" : fund}
), d AS (
  SELECT pk, log_id, o, c, gone, NOT gone AND NOT coalesce(${sameOutsideStages("o", "c")}, false) AS differs FROM a
)`
    const totals = yield* ctx.query(
      `${rows} SELECT count(*)::text AS audited, count(*) FILTER (WHERE differs)::text AS changed,
                      count(*) FILTER (WHERE gone)::text AS deleted FROM d`,
      p.values
    )
    const audited = num(totals[0]?.["audited"])
    const changed = num(totals[0]?.["changed"])
    const deleted = num(totals[0]?.["deleted"])
    const found = changed === 0 ? [] : yield* ctx.query(
      `${rows} SELECT pk, c::text AS c, o::text AS o FROM d WHERE differs ORDER BY log_id LIMIT ${MAX_EXAMPLES}`,
      p.values
    )
    const examples = found.map((r) =>
      example(String(r["pk"]), (r["c"] as string | null) ?? null, String(r["o"]), "differs from the audited old value outside its stages")
    )
    const status: CheckStatus = changed > 0 ? "fail" : deleted > 0 ? "warn" : "pass"
    const summary = [
      changed > 0
        ? `${n(changed, "audited row")} changed outside its stages`
        : `every audited row kept everything but its stages exactly (${n(audited - deleted, "row")})`,
      deleted > 0 ? `${n(deleted, "audited row")} deleted since` : ""
    ].filter((s) => s !== "").join("; ")
    return check("non-stage-content", status, summary, { audited, changed, deleted }, examples)
  })
