/**
 * Migration benchmark (issue 6 G), on the real PostgreSQL, in one run:
 *
 * - **ours**: `migrate` (the library pipeline: claimed batch rows, compare-and-set UPDATE through
 *   the SQL twin, one audit row per changed row, checkpoint, health checks) on 1,000,000 rows,
 *   50 % non-canonical, fixed 5,000-row batches, no sleep;
 * - **floor**: a PL/pgSQL procedure doing the same 5,000-row keyset batches in-server with the
 *   same SQL twin, one COMMIT per batch, no audit, no bookkeeping;
 * - **naive**: a per-row loop from the client (read, normalise in TypeScript, one autocommit
 *   UPDATE per changed row) on 20,000 rows;
 * - **10k budget**: the seeds' budget, 10,000 rows in < 1 s, through our pipeline (median of 3).
 *
 * Writes `baselines/migration.json` and prints a table. Uses a scratch database (created, then
 * dropped whatever happens) on `BENCH_PG_URL` (default postgres://postgres@127.0.0.1:5432/postgres).
 * Run: `node bench/migration.ts` (Node ≥ 22.19); `--rows N` to change the size.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { fileURLToPath } from "node:url"
import { layerFromUrl } from "../src/migration/database/Database.ts"
import { migrate } from "../src/migration/run/Runner.ts"
import { ensureSqlTwin } from "../src/migration/sql/SqlTwinInstaller.ts"
import { ensureTrackingSchema } from "../src/migration/schema/TrackingSchema.ts"
import { normalizeStage } from "../src/normalizer/NormalizeStage.ts"
import { workersScaling } from "./migration-workers.ts"

const ADMIN_URL = process.env["BENCH_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"
const rowsArg = process.argv.indexOf("--rows")
const ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 1_000_000
const NAIVE_ROWS = 20_000
const BUDGET_ROWS = 10_000
const BATCH = 5_000
const baselineFile = fileURLToPath(new URL("../baselines/migration.json", import.meta.url))

const MESSY = ["Series A", "Seed Round", "series_b", "growth", "Pre Seed", "SERIES C", "series c plus", "seed stage"]
const CANONICAL = ["seed", "series-a", "pre-seed", "series-b", "series-c", "series-c+"]

const admin = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.gen(function*() {
    return yield* f(yield* SqlClient.SqlClient)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(ADMIN_URL), maxConnections: 1 })), Effect.scoped)

const withDatabase = (name: string) => {
  const u = new URL(ADMIN_URL)
  u.pathname = `/${name}`
  return u.toString()
}

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const started = performance.now()
    const value = yield* effect
    return { value, ms: performance.now() - started }
  })

/** A table of `rows` rows, every other one non-canonical. */
const createTable = (name: string, rows: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`DROP TABLE IF EXISTS ${name}`).unprepared
    yield* sql.unsafe(`CREATE TABLE ${name} (id bigint PRIMARY KEY, fund_id int NOT NULL, stage text)`).unprepared
    yield* sql.unsafe(
      `INSERT INTO ${name} (id, fund_id, stage)
       SELECT g, g % 50, CASE WHEN g % 2 = 0 THEN ($1::text[])[1 + (g / 2) % $2::int] ELSE ($3::text[])[1 + g % $4::int] END
       FROM generate_series(1, $5::int) g`,
      [MESSY, MESSY.length, CANONICAL, CANONICAL.length, rows]
    )
    yield* sql.unsafe(`VACUUM ANALYZE ${name}`).unprepared
  })

const checkpoint = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe("CHECKPOINT").unprepared
})

const floorProcedure = `CREATE OR REPLACE PROCEDURE bench_floor(target regclass, batch int)
LANGUAGE plpgsql AS $floor$
DECLARE lo bigint := 0; hi bigint;
BEGIN
  LOOP
    EXECUTE format('SELECT max(id) FROM (SELECT id FROM %s WHERE id > $1 ORDER BY id LIMIT $2) s', target)
      INTO hi USING lo, batch;
    EXIT WHEN hi IS NULL;
    EXECUTE format(
      'UPDATE %1$s AS t SET stage = n.new
       FROM (SELECT id, stage AS old, stage_normalization.normalize_stage(stage) AS new
             FROM %1$s WHERE id > $1 AND id <= $2 OFFSET 0) n
       WHERE t.id > $1 AND t.id <= $2 AND t.id = n.id AND n.new IS NOT NULL AND n.old <> n.new', target)
      USING lo, hi;
    lo := hi;
    COMMIT;
  END LOOP;
END
$floor$`

const naiveLoop = (name: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ id: string; stage: string | null }>(`SELECT id::text AS id, stage FROM ${name} ORDER BY id`)
    let updated = 0
    for (const row of rows) {
      if (row.stage === null) continue
      const r = normalizeStage(row.stage)
      if (r._tag !== "Canonical" || r.stage === row.stage) continue
      yield* sql.unsafe(`UPDATE ${name} SET stage = $1 WHERE id = $2::bigint`, [r.stage, row.id])
      updated++
    }
    return updated
  })

const ours = (table: string) =>
  migrate({ table, batchSize: BATCH, adaptive: false, sleepMs: 0, fundColumn: null })

const f = (n: number) => n.toLocaleString("en-US")

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const bench = (url: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const version = (yield* sql<{ v: string }>`SELECT current_setting('server_version') AS v`)[0]!.v
    yield* ensureTrackingSchema
    yield* ensureSqlTwin()
    yield* sql.unsafe(floorProcedure).unprepared

    console.error(`preparing 2 × ${ROWS.toLocaleString("en-US")} rows …`)
    yield* createTable("bench_floor", ROWS)
    yield* createTable("bench_ours", ROWS)
    yield* checkpoint
    console.error("floor (PL/pgSQL, in-server, no audit) …")
    const floor = yield* timed(sql.unsafe(`CALL bench_floor('bench_floor', ${BATCH})`).unprepared)
    yield* checkpoint
    console.error("ours (migrate, audited) …")
    const run = yield* timed(ours("bench_ours"))
    if (run.value.status !== "succeeded") throw new Error(`bench run ${run.value.status}: ${run.value.error}`)
    const same = yield* sql<{ diff: string }>`
      SELECT count(*)::text AS diff FROM bench_floor f JOIN bench_ours o USING (id) WHERE f.stage IS DISTINCT FROM o.stage`
    const audited = yield* sql<{ n: string }>`
      SELECT count(*)::text AS n FROM stage_normalization_log WHERE run_id = ${run.value.runId}::bigint`
    yield* sql.unsafe("DROP TABLE bench_floor").unprepared
    yield* sql.unsafe("DROP TABLE bench_ours").unprepared

    console.error(`naive per-row loop on ${NAIVE_ROWS.toLocaleString("en-US")} rows …`)
    yield* createTable("bench_naive", NAIVE_ROWS)
    yield* createTable("bench_naive_ours", NAIVE_ROWS)
    const naive = yield* timed(naiveLoop("bench_naive"))
    const oursSmall = yield* timed(ours("bench_naive_ours"))

    console.error(`${BUDGET_ROWS.toLocaleString("en-US")}-row budget …`)
    const budgetRuns: Array<number> = []
    for (let i = 0; i < 3; i++) {
      yield* createTable(`bench_budget_${i}`, BUDGET_ROWS)
      budgetRuns.push((yield* timed(ours(`bench_budget_${i}`))).ms)
    }

    const workers = yield* workersScaling(ROWS, BATCH, (name) =>
      Effect.gen(function*() {
        yield* createTable(name, ROWS)
        yield* checkpoint
      })
    )

    const ratio = run.ms / floor.ms
    const result = {
      suite: "migration",
      description: "Batched audited normalisation (migrate) vs an in-server PL/pgSQL floor without audit, same run",
      date: new Date().toISOString(),
      environment: { node: process.version, cpus: cpus().length, postgres: version, database: url.replace(/\/\/[^@]*@/, "//") },
      rows: ROWS,
      nonCanonicalFraction: 0.5,
      batchSize: BATCH,
      floor: { ms: Math.round(floor.ms), rowsPerSecond: Math.round((ROWS * 1000) / floor.ms) },
      ours: {
        ms: Math.round(run.ms),
        rowsPerSecond: Math.round((ROWS * 1000) / run.ms),
        updated: run.value.totals.updated,
        audited: Number(audited[0]!.n),
        batches: run.value.batches,
        sameResultAsFloor: same[0]!.diff === "0"
      },
      ratioToFloor: Number(ratio.toFixed(2)),
      naive: {
        rows: NAIVE_ROWS,
        ms: Math.round(naive.ms),
        rowsPerSecond: Math.round((NAIVE_ROWS * 1000) / naive.ms),
        updated: naive.value,
        oursOnSameRowsMs: Math.round(oursSmall.ms),
        speedupOfOurs: Number((naive.ms / oursSmall.ms).toFixed(1))
      },
      budget: { rows: BUDGET_ROWS, budgetMs: 1000, medianMs: Math.round(median(budgetRuns)), runsMs: budgetRuns.map(Math.round) },
      workers,
      goals: [
        { description: "ours ≤ 2× the floor", maxRatio: 2, ratio: Number(ratio.toFixed(2)), met: ratio <= 2 },
        { description: "10,000 rows < 1 s (seeds' budget)", met: median(budgetRuns) < 1000 },
        workers.goal
      ]
    }
    return result
  })

const program = Effect.gen(function*() {
  const name = `mig_bench_${Date.now().toString(36)}`
  yield* admin((sql) => sql.unsafe(`CREATE DATABASE ${name}`).unprepared)
  const url = withDatabase(name)
  const result = yield* bench(url).pipe(
    Effect.provide(layerFromUrl(url, { applicationName: "stage-normalization bench", maxConnections: 8 })),
    Effect.ensuring(admin((sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).unprepared).pipe(Effect.ignore))
  )
  writeFileSync(baselineFile, JSON.stringify(result, null, 2) + "\n")
  console.log(`
migration benchmark — ${f(ROWS)} rows, 50 % non-canonical, ${f(BATCH)}-row batches, PostgreSQL ${result.environment.postgres}

task                                   time        rows/s      ratio
-------------------------------------  ----------  ----------  -----
floor: PL/pgSQL in-server, no audit    ${(f(result.floor.ms) + " ms").padEnd(10)}  ${f(result.floor.rowsPerSecond).padEnd(10)}  1.00
ours: migrate, audited                 ${(f(result.ours.ms) + " ms").padEnd(10)}  ${f(result.ours.rowsPerSecond).padEnd(10)}  ${result.ratioToFloor.toFixed(2)}  (goal ≤ 2)
naive per-row loop (${f(NAIVE_ROWS)} rows)       ${(f(result.naive.ms) + " ms").padEnd(10)}  ${f(result.naive.rowsPerSecond).padEnd(10)}  ours ${result.naive.speedupOfOurs}× faster on the same rows
budget: ${f(BUDGET_ROWS)} rows through migrate   ${(f(result.budget.medianMs) + " ms").padEnd(10)}              budget 1,000 ms (median of 3)

ours updated ${f(result.ours.updated)} rows, audited ${f(result.ours.audited)}; same result as the floor: ${result.ours.sameResultAsFloor}

workers (same ${f(ROWS)} rows, ${f(BATCH)}-row batches)   time        rows/s      × 1 worker  PostgreSQL CPU
${result.workers.cases.map((c) =>
    `${`${c.workers} worker(s), ${c.sleepMs} ms sleep`.padEnd(40)} ${(f(c.ms) + " ms").padEnd(10)}  ${f(c.rowsPerSecond).padEnd(10)}  ${
      c.speedup.toFixed(2).padEnd(10)
    }  ${f(c.postgresCpuMs)} ms`
  ).join("\n")}
goal: ${result.workers.goal.description}: ${result.workers.goal.speedup}× — ${result.workers.goal.met ? "met" : "NOT met"}
written to baselines/migration.json`)
})

Effect.runPromise(program).catch((e: unknown) => {
  console.error("benchmark failed:", e)
  process.exitCode = 1
})
