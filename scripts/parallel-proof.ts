/**
 * The parallel backfill's proofs (issue 15), on the real PostgreSQL, in a scratch database that is
 * dropped afterwards. Each part prints what it measured and fails (exit 1) on the first broken
 * guarantee.
 *
 * 1. **million**: 1,000,000 rows, half non-canonical, `migrate` with 4 workers: every changed row
 *    audited exactly once, no range applied twice (the succeeded batches' ranges are disjoint and
 *    cover every row), `verify` passes, `rollback` with 4 workers restores the table's checksum.
 * 2. **faults**: 20 runs of 4 workers across 2 CLI processes (`--workers 2` each); in each, one of
 *    the processes is killed with SIGKILL at a random moment (both its workers die, mid-batch or
 *    between batches), and a third process joins afterwards: every run completes, 0 lost or
 *    duplicated rows, the audit consistent with the table.
 * 3. **writer**: an application writer doing bounded random updates (some non-canonical) and
 *    inserts during a 4-worker run: the run completes and every row holds the writer's last
 *    value — or, where the run normalised that very value after the write, its canonical form with
 *    the audit row saying so (0 lost writes).
 *
 * Run: `node scripts/parallel-proof.ts [--only million|faults|writer] [--runs 20] [--rows 1000000]`
 * (Node ≥ 22.19). `PROOF_PG_URL` names the server (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Fiber, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { layerFromUrl } from "../src/migration/database/Database.ts"
import { rollback } from "../src/migration/rollback/Rollback.ts"
import { migrate } from "../src/migration/run/Runner.ts"
import { verify } from "../src/migration/verify/Verify.ts"
import { normalizeStage } from "../src/normalizer/NormalizeStage.ts"

const ADMIN_URL = process.env["PROOF_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : undefined
}
const ONLY = arg("only")
const RUNS = Number(arg("runs") ?? 20)
const ROWS = Number(arg("rows") ?? 1_000_000)
const CLI = fileURLToPath(new URL("../src/cli/bin.ts", import.meta.url))

const MESSY = ["Series A", "Seed Round", "series_b", "growth", "Pre Seed", "SERIES C", "series c plus", "seed stage", "no idea"]
const CANONICAL = ["seed", "series-a", "pre-seed", "series-b", "series-c", "series-c+"]
const expected = (v: string | null): string | null => {
  if (v === null) return null
  const r = normalizeStage(v)
  return r._tag === "Canonical" ? r.stage : v
}

const fail = (message: string): never => {
  throw new Error(message)
}
const check = (ok: boolean, message: string) => {
  if (!ok) fail(message)
}
const f = (n: number) => n.toLocaleString("en-US")

const withDatabase = (name: string) => {
  const u = new URL(ADMIN_URL)
  u.pathname = `/${name}`
  return u.toString()
}

const admin = (statement: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(statement).unprepared
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(ADMIN_URL), maxConnections: 1 })), Effect.scoped)

/** A table of `rows` rows: every other one non-canonical (a few unknown), some NULL. */
const createTable = (name: string, rows: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`DROP TABLE IF EXISTS ${name}`).unprepared
    yield* sql.unsafe(`CREATE TABLE ${name} (id bigint PRIMARY KEY, stage text)`).unprepared
    yield* sql.unsafe(
      `INSERT INTO ${name} (id, stage)
       SELECT g, CASE WHEN g % 97 = 0 THEN NULL WHEN g % 2 = 0 THEN ($1::text[])[1 + (g / 2) % $2::int]
                      ELSE ($3::text[])[1 + g % $4::int] END
       FROM generate_series(1, $5::int) g`,
      [MESSY, MESSY.length, CANONICAL, CANONICAL.length, rows]
    )
    yield* sql.unsafe(`ANALYZE ${name}`).unprepared
  })

const checksum = (table: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ sum: string }>(
      `SELECT md5(string_agg(id::text || ':' || coalesce(stage, '∅'), ',' ORDER BY id)) AS sum FROM ${table}`
    )
    return rows[0]!.sum
  })

/** The expected table: the original values (a copy) normalised in TypeScript, per distinct value. */
const mismatches = (table: string, original: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const values = [...MESSY, ...CANONICAL]
    const rows = yield* sql.unsafe<{ n: number }>(
      `WITH m AS (SELECT * FROM unnest($1::text[], $2::text[]) AS m(old, new))
       SELECT count(*)::int AS n FROM ${original} o JOIN ${table} t USING (id) LEFT JOIN m ON m.old = o.stage
       WHERE t.stage IS DISTINCT FROM CASE WHEN o.stage IS NULL THEN NULL ELSE m.new END`,
      [values, values.map((v) => expected(v))]
    )
    return rows[0]!.n
  })

/** The audit of a run against the table: one row per changed row, none twice, ranges disjoint and covering. */
const auditConsistency = (runId: string, table: string, original: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const changed = (yield* sql.unsafe<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${original} o JOIN ${table} t USING (id) WHERE t.stage IS DISTINCT FROM o.stage`
    ))[0]!.n
    const audit = (yield* sql.unsafe<{ n: number; pks: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT pk)::int AS pks FROM stage_normalization_log WHERE run_id = $1::bigint`,
      [runId]
    ))[0]!
    const overlaps = (yield* sql.unsafe<{ n: number }>(
      `SELECT count(*)::int AS n FROM stage_migration_batches a JOIN stage_migration_batches b
         ON a.run_id = b.run_id AND a.batch_id < b.batch_id
        AND coalesce(a.range_start, '0')::bigint < b.range_end::bigint AND coalesce(b.range_start, '0')::bigint < a.range_end::bigint
       WHERE a.run_id = $1::bigint AND a.status = 'succeeded' AND b.status = 'succeeded'`,
      [runId]
    ))[0]!.n
    const uncovered = (yield* sql.unsafe<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${original} o WHERE NOT EXISTS (
         SELECT 1 FROM stage_migration_batches b WHERE b.run_id = $1::bigint AND b.status = 'succeeded'
           AND o.id > coalesce(b.range_start, '0')::bigint AND o.id <= b.range_end::bigint)`,
      [runId]
    ))[0]!.n
    const redone = (yield* sql.unsafe<{ n: number }>(
      `SELECT count(*)::int AS n FROM stage_migration_batches WHERE run_id = $1::bigint AND resolution = 'redone'`,
      [runId]
    ))[0]!.n
    return { changed, audited: audit.n, auditedRows: audit.pks, overlaps, uncovered, redone }
  })

const million = Effect.gen(function*() {
  console.error(`million: preparing ${f(ROWS)} rows …`)
  yield* createTable("proof_million", ROWS)
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe("CREATE TABLE proof_million_original AS SELECT * FROM proof_million").unprepared
  const before = yield* checksum("proof_million")
  const started = performance.now()
  const run = yield* migrate({ table: "proof_million", column: "stage", workers: 4, sleepMs: 0, fundColumn: null })
  const migrateMs = Math.round(performance.now() - started)
  check(run.status === "succeeded", `million: run ${run.runId} ${run.status}: ${run.error}`)
  const wrong = yield* mismatches("proof_million", "proof_million_original")
  check(wrong === 0, `million: ${wrong} rows differ from the expected result`)
  const audit = yield* auditConsistency(run.runId, "proof_million", "proof_million_original")
  check(audit.audited === audit.changed && audit.auditedRows === audit.changed, `million: audit ${JSON.stringify(audit)}`)
  check(audit.overlaps === 0 && audit.uncovered === 0, `million: ranges ${JSON.stringify(audit)}`)
  const workers = (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM stage_migration_workers WHERE run_id = ${run.runId}::bigint AND batches > 0`)[0]!.n
  check(workers === 4, `million: ${workers} workers committed batches, expected 4`)
  const report = yield* verify({ runId: run.runId, sampleSize: 1_000 })
  check(report.summary.ok && report.summary.failed === 0, `million: verify failed: ${JSON.stringify(report.checks.filter((c) => c.status !== "pass"))}`)
  const rbStarted = performance.now()
  const undone = yield* rollback({ runId: run.runId, apply: true, workers: 4, sleepMs: 0, batchSize: 5_000 })
  const rollbackMs = Math.round(performance.now() - rbStarted)
  check(undone.status === "succeeded" && undone.conflicts === 0, `million: rollback ${undone.status}, ${undone.conflicts} conflicts`)
  const after = yield* checksum("proof_million")
  check(after === before, `million: checksum after rollback ${after} ≠ before ${before}`)
  return {
    rows: ROWS,
    migrateMs,
    rowsPerSecond: Math.round(ROWS / (migrateMs / 1000)),
    changed: audit.changed,
    audited: audit.audited,
    batches: run.batches,
    workersWithBatches: workers,
    verify: { passed: report.summary.passed, warnings: report.summary.warnings, failed: report.summary.failed },
    rollbackMs,
    restored: undone.restored,
    checksumRestored: after === before
  }
})

interface Child {
  readonly exit: Promise<number | null>
  /** Resolves at the first batch this process commits (or when it exits). */
  readonly committed: Promise<void>
  readonly kill: () => void
  readonly output: () => string
}

const startCli = (args: ReadonlyArray<string>): Child => {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  const signal = { resolve: (): void => undefined }
  const firstBatch = new Promise<void>((resolve) => (signal.resolve = resolve))
  const committed = () => signal.resolve()
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString()
    if (output.includes(`"event":"BatchCompleted"`)) committed()
  })
  child.stderr.on("data", (d: Buffer) => (output += d.toString()))
  child.on("exit", () => committed())
  return {
    committed: firstBatch,
    exit: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
    kill: () => child.kill("SIGKILL"),
    output: () => output
  }
}

const faultRun = (url: string, n: number) =>
  Effect.gen(function*() {
    const table = `proof_fault_${n}`
    yield* createTable(table, 40_000)
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`CREATE TABLE ${table}_original AS SELECT * FROM ${table}`).unprepared
    const args = ["migrate", "--database-url", url, "--table", table, "--column", "stage", "--apply", "--no-backup-check", "--json",
      "--workers", "2", "--batch-size", "200", "--no-adaptive", "--sleep-ms", "50", "--lease-ms", "3000"]
    const a = startCli(args)
    const b = startCli(args)
    const victim = Math.random() < 0.5 ? a : b
    const survivor = victim === a ? b : a
    // at a random moment once the victim's workers are committing batches (the CLIs start in ~1–3 s)
    yield* Effect.promise(() => victim.committed)
    const killAfter = Math.floor(Math.random() * 1_500)
    yield* Effect.sleep(killAfter)
    const activeAtKill = (yield* sql.unsafe<{ n: number }>(
      `SELECT count(*)::int AS n FROM stage_migration_runs WHERE target_table = $1 AND status = 'running'`,
      [`public.${table}`]
    ).pipe(Effect.orElseSucceed(() => [{ n: 0 }])))[0]?.n === 1
    victim.kill()
    yield* Effect.promise(() => victim.exit)
    yield* Effect.sleep(Math.floor(Math.random() * 1_000))
    const joiner = startCli(args)
    const codes = yield* Effect.promise(() => Promise.all([survivor.exit, joiner.exit]))
    if (codes.some((c) => c !== 0)) fail(`faults run ${n}: exit codes ${codes.join(", ")}\n${survivor.output().slice(-2_000)}\n${joiner.output().slice(-2_000)}`)
    // the run that changed the rows; a joiner that came after it ended starts a run that finds nothing to do
    const runs = yield* sql.unsafe<{ run_id: string; status: string; rows_updated: string }>(
      `SELECT run_id::text AS run_id, status, rows_updated::text AS rows_updated FROM stage_migration_runs WHERE target_table = $1 ORDER BY run_id`,
      [`public.${table}`]
    )
    check(runs.every((r) => r.status === "succeeded"), `faults run ${n}: runs ${JSON.stringify(runs)}`)
    check(runs.slice(1).every((r) => r.rows_updated === "0"), `faults run ${n}: more than one run changed rows ${JSON.stringify(runs)}`)
    const run = runs[0]!
    const wrong = yield* mismatches(table, `${table}_original`)
    check(wrong === 0, `faults run ${n}: ${wrong} rows lost (differ from the expected result)`)
    const audit = yield* auditConsistency(run.run_id, table, `${table}_original`)
    check(audit.audited === audit.changed && audit.auditedRows === audit.changed, `faults run ${n}: audit ${JSON.stringify(audit)}`)
    check(audit.overlaps === 0 && audit.uncovered === 0, `faults run ${n}: ranges ${JSON.stringify(audit)}`)
    return { run: n, killAfterMs: killAfter, activeAtKill, joinedSameRun: runs.length === 1, redone: audit.redone, changed: audit.changed }
  })

const faults = (url: string) =>
  Effect.gen(function*() {
    const results = []
    for (let n = 1; n <= RUNS; n++) {
      const r = yield* faultRun(url, n)
      console.error(
        `faults: run ${n}/${RUNS} ok — killed ${r.killAfterMs} ms after its first batch (${r.activeAtKill ? "mid-run" : "run already over"}), ` +
          `joiner ${r.joinedSameRun ? "joined the run" : "came after it"}, ${r.redone} batch(es) redone, ${f(r.changed)} rows changed, audited once`
      )
      results.push(r)
    }
    const midRun = results.filter((r) => r.activeAtKill).length
    check(midRun >= Math.ceil(RUNS * 0.75), `faults: only ${midRun} of ${RUNS} kills hit an active run`)
    return {
      runs: results.length,
      completed: results.length,
      killedMidRun: midRun,
      joinedSameRun: results.filter((r) => r.joinedSameRun).length,
      lostOrDuplicated: 0,
      redoneBatches: results.reduce((s, r) => s + r.redone, 0)
    }
  })

const writer = Effect.gen(function*() {
  const table = "proof_writer"
  const rows = 100_000
  yield* createTable(table, rows)
  const sql = yield* SqlClient.SqlClient
  const last = new Map<number, string>()
  let nextId = rows + 1
  const state = { running: true }
  const values = [...MESSY, ...CANONICAL]
  const writes = Effect.gen(function*() {
    let ops = 0
    while (state.running && ops < 3_000) {
      const v = values[Math.floor(Math.random() * values.length)]!
      if (Math.random() < 0.2) {
        const id = Math.random() < 0.5 ? nextId++ : Math.floor(Math.random() * rows) + 1 + rows * 10
        yield* sql.unsafe(`INSERT INTO ${table} (id, stage) VALUES ($1::bigint, $2) ON CONFLICT (id) DO UPDATE SET stage = EXCLUDED.stage`, [id, v])
        last.set(id, v)
      } else {
        const id = Math.floor(Math.random() * rows) + 1
        yield* sql.unsafe(`UPDATE ${table} SET stage = $2 WHERE id = $1::bigint`, [id, v])
        last.set(id, v)
      }
      ops++
      if (ops % 10 === 0) yield* Effect.sleep(2)
    }
    return ops
  })
  const writerFiber = yield* Effect.forkChild(writes)
  const run = yield* migrate({ table, column: "stage", workers: 4, sleepMs: 10, batchSize: 1_000, adaptive: false, fundColumn: null })
  state.running = false
  const ops = yield* Fiber.join(writerFiber)
  check(run.status === "succeeded", `writer: run ${run.runId} ${run.status}: ${run.error}`)
  const ids = [...last.keys()]
  const current = yield* sql.unsafe<{ id: string; stage: string | null; audited_old: string | null; audited_new: string | null }>(
    `SELECT t.id::text AS id, t.stage, l.old_value AS audited_old, l.new_value AS audited_new
     FROM ${table} t LEFT JOIN LATERAL (
       SELECT old_value, new_value FROM stage_normalization_log
       WHERE run_id = $2::bigint AND pk = t.id::text ORDER BY log_id DESC LIMIT 1) l ON true
     WHERE t.id = ANY($1::bigint[])`,
    [ids, run.runId]
  )
  let lost = 0
  let normalisedAfterWrite = 0
  for (const row of current) {
    const wrote = last.get(Number(row.id))!
    if (row.stage === wrote) continue
    if (row.audited_old === wrote && row.audited_new === row.stage && expected(wrote) === row.stage) normalisedAfterWrite++
    else lost++
  }
  check(current.length === ids.length, `writer: ${ids.length - current.length} written rows missing`)
  // verify tells the writer's rows from the run's: every failing row was written after the run started
  const report = yield* verify({ runId: run.runId, sampleSize: 0, record: false })
  const canonical = report.checks.find((c) => c.name === "canonical")!
  const byRun = Number(canonical.counts["notNormalisedByRun"])
  const since = Number(canonical.counts["writtenSinceRunStart"])
  check(byRun === 0, `writer: verify counts ${byRun} rows the run should have normalised`)
  check(lost === 0, `writer: ${lost} of ${ids.length} writes lost`)
  return { writerOps: ops, rowsWritten: ids.length, lost, normalisedAfterWrite, verifyWrittenSinceRunStart: since, verifyNotNormalisedByRun: byRun, runStatus: run.status, batches: run.batches }
})

/** One part of the proof, unless `--only` names another; its figures as a JSON line on stdout. */
const part = <A extends object>(label: string, effect: Effect.Effect<A, unknown, SqlClient.SqlClient>) =>
  ONLY !== undefined && ONLY !== label
    ? Effect.succeed(undefined)
    : effect.pipe(Effect.tap((r) => Effect.sync(() => console.log(JSON.stringify({ part: label, ...r })))))

const main = Effect.gen(function*() {
  const name = `parallel_proof_${Date.now().toString(36)}`
  yield* admin(`CREATE DATABASE ${name}`)
  const url = withDatabase(name)
  const layer = layerFromUrl(url, { maxConnections: 8, applicationName: "parallel-proof" })
  return yield* Effect.gen(function*() {
    const results = {
      million: yield* part("million", million),
      faults: yield* part("faults", faults(url)),
      writer: yield* part("writer", writer)
    }
    return results
  }).pipe(
    Effect.provide(layer as Layer.Layer<SqlClient.SqlClient, unknown>),
    Effect.ensuring(admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).pipe(Effect.ignore))
  )
})

Effect.runPromise(main).then(
  () => console.error("parallel proof: all guarantees held"),
  (e) => {
    console.error(`parallel proof FAILED: ${e instanceof Error ? e.message : String(e)}`)
    process.exit(1)
  }
)
