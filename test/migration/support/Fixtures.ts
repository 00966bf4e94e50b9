/**
 * Test tables for the migration suites: messy scalar stages and distributions, created in the
 * current database under a unique name, plus snapshots to compare tables before and after.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { uniqueName } from "./Databases.ts"

/** Stored spellings: canonical, aliases, messy variants, unknowns, NULL. */
export const STORED_STAGES: ReadonlyArray<string | null> = [
  "seed",
  "series-a",
  "Series A",
  "Seed Round",
  "  SERIES_B ",
  "growth",
  "Pre Seed",
  "series c plus",
  "ＳＥＥＤ",
  "early stage",
  "serie a",
  null
]

export interface ScalarRow {
  readonly id: number
  readonly fund: number | null
  readonly stage: string | null
}

export const scalarRows = (count: number, funds = 3): ReadonlyArray<ScalarRow> =>
  Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    fund: i % 17 === 16 ? null : i % funds,
    stage: STORED_STAGES[(i * 7) % STORED_STAGES.length] ?? null
  }))

/** Create `<prefix>_<unique>` (id bigint PK, fund_id int, stage text, note text) with rows. */
export const createScalarTable = (
  prefix: string,
  rows: ReadonlyArray<ScalarRow>,
  options: { readonly fundIdIndex?: boolean; readonly stageType?: string } = {}
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const name = uniqueName(prefix)
    yield* sql.unsafe(
      `CREATE TABLE ${name} (id bigint PRIMARY KEY, fund_id int, stage ${options.stageType ?? "text"}, note text DEFAULT 'keep')`
    ).unprepared
    if (rows.length > 0) {
      yield* sql.unsafe(
        `INSERT INTO ${name} (id, fund_id, stage) SELECT r.id, r.fund, r.stage FROM json_to_recordset($1::text::json) AS r(id bigint, fund int, stage text)`,
        [JSON.stringify(rows)]
      )
    }
    if (options.fundIdIndex === true) yield* sql.unsafe(`CREATE INDEX ${name}_fund_id_idx ON ${name} (fund_id, id)`).unprepared
    return name
  })

export interface DistributionRow {
  readonly id: number
  readonly fund: number | null
  readonly mix: unknown
}

export const STORED_MIXES: ReadonlyArray<unknown> = [
  [{ stage: "seed", weight: 0.5 }, { stage: "series-a", weight: 0.5 }],
  [{ stage: "Series A", weight: 0.25 }, { stage: "series_a", weight: 0.25 }, { stage: "Seed", weight: 0.5 }],
  { "Seed Round": 0.1, "seed": 0.2, "SERIES B": 0.7 },
  { "seed": 0.3, "series-c+": 0.7 },
  [{ stage: "growth", weight: 0.3333333333333333 }, { stage: "series-d", weight: 0.3333333333333333 }, { stage: "pre seed", weight: 0.3333333333333334 }],
  { "Seed": 0.5, "serie x": 0.5 },
  [{ stage: "Series B", weight: 1, note: "kept" }],
  [{ stage: "seed", weight: -1 }, { stage: "Series A", weight: 2 }],
  "not a distribution",
  null
]

export const distributionRows = (count: number, funds = 3): ReadonlyArray<DistributionRow> =>
  Array.from({ length: count }, (_, i) => ({ id: i + 1, fund: i % funds, mix: STORED_MIXES[(i * 3) % STORED_MIXES.length] ?? null }))

/** Create `<prefix>_<unique>` (id bigint PK, fund_id int, mix jsonb) with rows. */
export const createDistributionTable = (prefix: string, rows: ReadonlyArray<DistributionRow>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const name = uniqueName(prefix)
    yield* sql.unsafe(`CREATE TABLE ${name} (id bigint PRIMARY KEY, fund_id int, mix jsonb)`).unprepared
    yield* sql.unsafe(
      `INSERT INTO ${name} (id, fund_id, mix)
       SELECT r.id, r.fund, CASE WHEN r.mix IS NULL OR r.mix = 'null'::jsonb THEN NULL ELSE r.mix END
       FROM json_to_recordset($1::text::json) AS r(id bigint, fund int, mix jsonb)`,
      [JSON.stringify(rows)]
    )
    return name
  })

/** Every row as [id, column as text], ordered by id. */
export const snapshot = (table: string, column = "stage") =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ k: string; v: string | null }>(
      `SELECT t.id::text AS k, t.${column}::text AS v FROM ${table} AS t ORDER BY t.id`
    )
    return rows.map((r) => [r.k, r.v] as const)
  })

/** Audit rows of a table: [pk, old, new] (text or JSON text), ordered by pk. */
export const auditRows = (table: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.unsafe<{ pk: string; old: string | null; new: string | null; run_id: string; batch_id: string }>(
      `SELECT pk, coalesce(old_value, old_json::text) AS old, coalesce(new_value, new_json::text) AS new,
              run_id::text AS run_id, batch_id::text AS batch_id
       FROM stage_normalization_log WHERE table_name = 'public.' || $1 ORDER BY pk::bigint, log_id`,
      [table]
    )
  })

export const trackingExists = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ runs: boolean; twin: boolean }>`
    SELECT to_regclass('stage_migration_runs') IS NOT NULL AS runs,
           to_regprocedure('stage_normalization.normalize_stage(text)') IS NOT NULL AS twin`
  return rows[0]!
})

/** The whole table as one ordered checksum: byte-identical tables have equal checksums. */
export const tableChecksum = (table: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ md5: string; n: string }>(
      `SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) AS md5, count(*)::text AS n FROM ${table} AS t`
    )
    return `${rows[0]!.n}:${rows[0]!.md5}`
  })

/** A BEFORE UPDATE trigger sleeping `seconds` per updated row: makes batches slow enough to interrupt. */
export const slowUpdates = (table: string, seconds: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`CREATE FUNCTION ${table}_slow() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(${seconds}); RETURN NEW; END $$`).unprepared
    yield* sql.unsafe(`CREATE TRIGGER ${table}_slow BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_slow()`)
      .unprepared
  })
