/**
 * What a backup's manifest says about its tables, and how a restore test checks it: the row
 * count, the number of distinct values of the stage column, an md5 digest of every
 * `value<TAB>rows` line in byte order (equal digests: equal value counts, without storing
 * thousands of values), and the most frequent values for people. The same queries run on the
 * source (inside the dump's snapshot) and on the restored copy.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { SqlClient } from "effect/sql"
import type { BackupTable } from "./BackupManifest.ts"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { BackupFailed, ColumnNotFound, QueryFailed, RestoreTestFailed, TableNotFound } from "../MigrationErrorReason.ts"
import { quoteIdentifier } from "../schema/Target.ts"

/**
 * A query function (a pooled client, a reserved connection or a scratch database's client).
 *
 * @since 0.1.0
 * @category models
 */
export type RunQuery = (
  text: string,
  params?: ReadonlyArray<unknown>
) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, MigrationError>

/**
 * A {@link RunQuery} over an `SqlClient`; failures become `MigrationError(reason)` naming `what`.
 *
 * @since 0.1.0
 * @category queries
 */
export const queryWith = (
  sql: SqlClient.SqlClient,
  what: string,
  reason: typeof BackupFailed | typeof RestoreTestFailed | typeof QueryFailed = BackupFailed
): RunQuery =>
(text, params = []) =>
  sql.unsafe<Record<string, unknown>>(text, params).pipe(
    Effect.mapError((cause) => new MigrationError({ reason: new reason({ detail: `${what}: ${describeCause(cause)}`, cause }) }))
  )

/**
 * A table to back up, resolved against the catalog.
 *
 * @since 0.1.0
 * @category models
 */
export interface BackupStatsTable {
  readonly schema: string
  readonly table: string
  /** `schema.table` */
  readonly label: string
  /** The stage column counted in the manifest, if any. */
  readonly column: string | null
}

/**
 * Resolve table names (and the stage column) for a backup. `table:column` names the stage column
 * of one table (a distribution's `mix`, say); otherwise `column`, else `stage` where it exists. A
 * table that does not exist, or an explicitly named column a table lacks, is an input error.
 *
 * @since 0.1.0
 * @category queries
 */
export const resolveBackupTables = (query: RunQuery, specs: ReadonlyArray<string>, defaultColumn: string | undefined) =>
  Effect.forEach(specs, (spec) =>
    Effect.gen(function*() {
      const colon = spec.lastIndexOf(":")
      const name = colon > 0 ? spec.slice(0, colon) : spec
      const column = colon > 0 ? spec.slice(colon + 1) : defaultColumn
      const rows = yield* query(
        `SELECT n.nspname AS schema, c.relname AS table, c.relkind::text AS kind,
                (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                   AND a.attname = $2) AS column
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
        [name, column ?? "stage"]
      ).pipe(
        Effect.mapError(() => new MigrationError({ reason: new TableNotFound({ detail: `${JSON.stringify(name)} is not a valid table name` }) }))
      )
      const row = rows[0]
      if (row === undefined) {
        return yield* new MigrationError({ reason: new TableNotFound({ detail: `table ${JSON.stringify(name)} does not exist` }) })
      }
      const label = `${String(row["schema"])}.${String(row["table"])}`
      if (row["kind"] !== "r" && row["kind"] !== "p") {
        return yield* new MigrationError({ reason: new TableNotFound({ detail: `${label} is not a table (relkind ${String(row["kind"])})` }) })
      }
      const found = typeof row["column"] === "string" ? row["column"] : null
      if (column !== undefined && found === null) {
        return yield* new MigrationError({ reason: new ColumnNotFound({ detail: `${label} has no column ${JSON.stringify(column)}` }) })
      }
      return { schema: String(row["schema"]), table: String(row["table"]), label, column: found } satisfies BackupStatsTable
    }))

/**
 * Row count and stage-value digest of one table (see the module header).
 *
 * @since 0.1.0
 * @category queries
 */
export const tableStats = (
  query: RunQuery,
  t: { readonly schema: string; readonly table: string; readonly column: string | null }
): Effect.Effect<BackupTable, MigrationError> =>
  Effect.gen(function*() {
    const rel = `${quoteIdentifier(t.schema)}.${quoteIdentifier(t.table)}`
    const label = `${t.schema}.${t.table}`
    if (t.column === null) {
      const rows = yield* query(`SELECT count(*)::text AS n FROM ${rel}`)
      return { table: label, rows: Number(rows[0]?.["n"] ?? 0), column: null, distinctValues: null, valuesMd5: null, topValues: [] }
    }
    const col = quoteIdentifier(t.column)
    const rows = yield* query(
      `WITH g AS MATERIALIZED (SELECT t.${col}::text AS v, count(*) AS n FROM ${rel} AS t GROUP BY 1)
       SELECT coalesce(sum(n), 0)::text AS rows, count(*)::text AS distinct_values,
              md5(coalesce(string_agg(coalesce(quote_literal(v), 'NULL') || E'\t' || n, E'\n'
                  ORDER BY v COLLATE "C" NULLS FIRST), '')) AS values_md5,
              coalesce((SELECT json_agg(json_build_object('value', x.v, 'rows', x.n))::text
                        FROM (SELECT v, n FROM g ORDER BY n DESC, v COLLATE "C" NULLS FIRST LIMIT 10) x), '[]') AS top
       FROM g`
    )
    const row = rows[0] ?? {}
    return {
      table: label,
      rows: Number(row["rows"] ?? 0),
      column: t.column,
      distinctValues: Number(row["distinct_values"] ?? 0),
      valuesMd5: String(row["values_md5"] ?? ""),
      topValues: (JSON.parse(String(row["top"] ?? "[]")) as Array<{ value: string | null; rows: number }>).map((v) => ({
        value: v.value,
        rows: Number(v.rows)
      }))
    }
  })

/**
 * The connected server: database name, version, and its system identifier when readable.
 *
 * @since 0.1.0
 * @category queries
 */
export const readServerInfo = (query: RunQuery) =>
  Effect.gen(function*() {
    const rows = yield* query(
      `SELECT current_database() AS name, current_setting('server_version') AS version,
              current_setting('server_version_num')::int AS num`
    )
    const id = yield* query(`SELECT system_identifier::text AS id FROM pg_control_system()`).pipe(
      Effect.map((r) => (typeof r[0]?.["id"] === "string" ? (r[0]["id"] as string) : null)),
      Effect.orElseSucceed(() => null)
    )
    return {
      name: String(rows[0]?.["name"] ?? ""),
      version: String(rows[0]?.["version"] ?? ""),
      versionNum: Number(rows[0]?.["num"] ?? 0),
      systemIdentifier: id
    }
  })
