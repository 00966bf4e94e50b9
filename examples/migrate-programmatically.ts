/**
 * Normalising stored stages from code: the migration API the CLI's `migrate` and `verify` use.
 *
 * It creates a scratch database on a real PostgreSQL (`DATABASE_URL` names the server to create it
 * on, default `postgres://postgres@127.0.0.1:5432/postgres`), fills a small, messy
 * `portfolio_companies` table, then:
 *
 *   1. `preview`: the dry run — every distinct stored value, what it would become, nothing written;
 *   2. `migrate`: the audited, batched run (progress events as JSON lines via `makeProgressReporter`);
 *   3. `verify`: the eight checks of the run (a passing verification marks the run verified).
 *
 * The scratch database is dropped in a finalizer, whatever happens. Exits 0 when the run succeeded
 * and verified; CI runs it against the built package.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node examples/migrate-programmatically.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { SqlClient } from "effect/sql"
import { layerFromUrl, makeProgressReporter, migrate, preview, redactUrl, verify } from "stage-normalization/migration"

const serverUrl = process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"
const scratch = `stage_normalization_example_${process.pid}_${Date.now().toString(36)}`
const scratchUrl = Object.assign(new URL(serverUrl), { pathname: `/${scratch}` }).href
const target = { table: "portfolio_companies", column: "stage" } as const

// A statement on the server's own database (CREATE / DROP DATABASE cannot run inside the scratch one).
const onServer = (statement: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(statement)
  }).pipe(Effect.provide(layerFromUrl(serverUrl, { maxConnections: 1, applicationName: "stage-normalization-example" })))

const seed = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE portfolio_companies (
    id bigserial PRIMARY KEY,
    fund_id integer NOT NULL,
    name text NOT NULL,
    stage text
  )`
  const messy = ["Series A", "series_a", "SEED", "seed", "Pre Seed", "pre-seed", "Series B", "series-b", "Series C+", "growth", "series-z", null]
  const row = (i: number) => ({ fund_id: 1 + (i % 3), name: `Company ${i + 1}`, stage: messy[i % messy.length] ?? null })
  const rows: readonly [ReturnType<typeof row>, ...Array<ReturnType<typeof row>>] = [row(0), ...Array.from({ length: 239 }, (_, i) => row(i + 1))]
  yield* sql`INSERT INTO portfolio_companies ${sql.insert(rows)}`
  return rows.length
})

const normalise = Effect.gen(function*() {
  const inserted = yield* seed
  yield* Console.log(`scratch table: ${inserted} rows`)

  const dryRun = yield* preview({ ...target, sleepMs: 0 })
  yield* Console.log(
    `dry run: ${dryRun.rowsScanned} scanned, ${dryRun.rowsToUpdate} to update, ${dryRun.rowsUnchanged} already canonical, ` +
      `${dryRun.rowsSkipped} skipped, ${dryRun.rowsNull} null`
  )
  for (const v of dryRun.values) {
    yield* Console.log(`  ${JSON.stringify(v.value).padEnd(12)} → ${String(v.stage).padEnd(10)} ${String(v.rows).padStart(4)} rows  ${v.action}`)
  }

  const reporter = makeProgressReporter({ tty: false, write: (line) => process.stdout.write("  " + line) })
  const run = yield* migrate({ ...target, batchSize: 50, sleepMs: 0, health: false, onEvent: reporter.onEvent })
  yield* Console.log(
    `run ${run.runId}: ${run.status}, ${run.totals.updated} updated, ${run.totals.skipped} skipped, ${run.batches} batches, ${run.durationMs} ms`
  )
  for (const u of run.unknowns) yield* Console.log(`  left unchanged: ${JSON.stringify(u.value)} (${u.rows} rows), suggestions ${u.suggestions.join(", ")}`)

  const report = yield* verify({ runId: run.runId, sampleSize: 50 })
  yield* Console.log(
    `verify: ${report.summary.passed} passed, ${report.summary.warnings} warnings, ${report.summary.failed} failed; ` +
      `marked verified: ${report.summary.markedVerified}`
  )
  for (const check of report.checks) yield* Console.log(`  ${check.status.padEnd(7)} ${check.name}`)

  const sql = yield* SqlClient.SqlClient
  const after = yield* sql<{ stage: string | null; n: string }>`
    SELECT stage, count(*)::text AS n FROM portfolio_companies GROUP BY stage ORDER BY stage NULLS LAST`
  yield* Console.log(`after: ${after.map((r) => `${r.stage ?? "null"}=${r.n}`).join(" ")}`)

  if (run.status !== "succeeded" || !report.summary.ok) return yield* Effect.die(new Error("migration did not succeed and verify"))
  yield* Console.log("ok")
}).pipe(Effect.provide(layerFromUrl(scratchUrl, { applicationName: "stage-normalization-example" })))

const program = Effect.acquireUseRelease(
  Effect.andThen(onServer(`CREATE DATABASE "${scratch}"`), Console.log(`created ${scratch} on ${redactUrl(serverUrl)}`)),
  () => normalise,
  () =>
    onServer(`DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`).pipe(
      Effect.andThen(Console.log(`dropped ${scratch}`)),
      Effect.orDie
    )
)

NodeRuntime.runMain(program)
