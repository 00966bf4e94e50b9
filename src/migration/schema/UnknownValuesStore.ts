/**
 * What a run could not normalise and what it forced: the unknown values it recorded
 * (`stage_migration_unknowns`, most frequent first) with the suggestions stored back for
 * `verify`, and the values `--force-unknown` mapped, read from the audit.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { queryFailed } from "../MigrationError.ts"


/**
 * The values a run left unchanged, most frequent first.
 *
 * @since 0.1.0
 * @category runs
 */
export const readUnknowns = (runId: string, limit: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<
      { kind: string; value_md5: string; raw_value: string; rows: string; example_pk: string | null; suggestions: ReadonlyArray<string> }
    >(
      `SELECT kind, value_md5, raw_value, rows::text AS rows, example_pk, suggestions
       FROM stage_migration_unknowns WHERE run_id = $1::bigint
       ORDER BY rows DESC, raw_value LIMIT $2::int`,
      [runId, limit]
    ).pipe(Effect.mapError(queryFailed(`reading the unknown values of run ${runId}`)))
    return rows
  })

/**
 * Store the suggestions computed for a run's unknown values.
 *
 * @since 0.1.0
 * @category runs
 */
export const storeSuggestions = (
  runId: string,
  entries: ReadonlyArray<{ readonly kind: string; readonly md5: string; readonly suggestions: ReadonlyArray<string> }>
) =>
  Effect.gen(function*() {
    if (entries.length === 0) return
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(
      `UPDATE stage_migration_unknowns u SET suggestions = CASE WHEN x.s = '' THEN '{}'::text[] ELSE string_to_array(x.s, ',') END
       FROM unnest($2::text[], $3::text[], $4::text[]) AS x(kind, md5, s)
       WHERE u.run_id = $1::bigint AND u.kind = x.kind AND u.value_md5 = x.md5`,
      [runId, entries.map((e) => e.kind), entries.map((e) => e.md5), entries.map((e) => e.suggestions.join(","))]
    ).pipe(Effect.mapError(queryFailed(`storing suggestions of run ${runId}`)))
  })

/**
 * The values a run forced (`--force-unknown`), from its audit rows, most rows first.
 *
 * @since 0.1.0
 * @category runs
 */
export const readForced = (runId: string, limit: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ value: string; stage: string; reason: string; n: string }>(
      `SELECT coalesce(old_value, old_json::text) AS value, coalesce(new_value, new_json::text) AS stage, reason,
              count(*)::text AS n
       FROM stage_normalization_log WHERE run_id = $1::bigint AND reason LIKE 'forced:%'
       GROUP BY 1, 2, 3 ORDER BY count(*) DESC, 1 LIMIT $2::int`,
      [runId, limit]
    ).pipe(Effect.mapError(queryFailed(`reading the forced values of run ${runId}`)))
    return rows.map((r) => ({ value: r.value, stage: r.stage, reason: r.reason, rows: Number(r.n) }))
  })
