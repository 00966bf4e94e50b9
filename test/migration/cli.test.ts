/**
 * `stage-normalization migrate | sql | index` as operators run them — child processes against a
 * scratch database on the real PostgreSQL: the dry run changes nothing, `--apply` normalises and
 * the progress view shows 100 %, bad input exits 2 with a message naming the problem, a second
 * `--apply` is refused, SIGINT pauses (exit 0) and `--resume` continues, and a run SIGKILLed
 * between batches and in the middle of one resumes to the same table as an uninterrupted run
 * with exactly one audit row per changed row.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { layerScratchPostgres, requirePostgres, ScratchDatabase } from "./support/Databases.ts"
import { runCli, startCli } from "./support/Cli.ts"
import { auditRows, createScalarTable, scalarRows, snapshot } from "./support/Fixtures.ts"

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))
const cli = (args: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>> = {}) =>
  Effect.promise(() => runCli(args, env))

const slowTrigger = (table: string, seconds: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`CREATE FUNCTION ${table}_slow() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(${seconds}); RETURN NEW; END $$`).unprepared
    yield* sql.unsafe(`CREATE TRIGGER ${table}_slow BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_slow()`)
      .unprepared
  })

const batchStates = (table: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql<{ status: string; n: number }>`
      SELECT b.status, count(*)::int AS n FROM stage_migration_batches b JOIN stage_migration_runs r USING (run_id)
      WHERE r.target_table = ${"public." + table} GROUP BY b.status ORDER BY b.status`
  })

describe("migrate CLI", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)
  layer(layerScratchPostgres("cli"), { timeout: "60 seconds", excludeTestServices: true })("real PostgreSQL", (it) => {
    it.effect("sql prints the generated twin; bad input exits 2 naming the problem", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const sqlOut = yield* cli(["sql"])
        assert.strictEqual(sqlOut.status, 0)
        assert.include(sqlOut.stdout, "CREATE OR REPLACE FUNCTION stage_normalization.normalize_stage(input text)")
        assert.include(sqlOut.stdout, "WHEN 'seriesa' THEN 'series-a'")
        const tracking = yield* cli(["sql", "--tracking"])
        assert.include(tracking.stdout, "CREATE TABLE IF NOT EXISTS stage_normalization_log")

        const table = yield* createScalarTable("cli_bad", scalarRows(10))
        const sql = yield* SqlClient.SqlClient
        yield* sql.unsafe(`CREATE TABLE ${table}_int (id bigint PRIMARY KEY, stage int)`).unprepared
        const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
          [["migrate"], "needs a database"],
          [["migrate", "--database-url", "postgres://postgres@127.0.0.1:1/x"], "cannot reach postgres://postgres@127.0.0.1:1/x"],
          [["migrate", "--database-url", "mysql://x"], "expected postgres://"],
          [["migrate", "--database-url", url, "--table", "nope"], "table \"nope\" does not exist"],
          [["migrate", "--database-url", url, "--table", table, "--column", "stag"], "has no stage column \"stag\""],
          [["migrate", "--database-url", url, "--table", `${table}_int`, "--apply"], "is integer; expected text or varchar"],
          [["migrate", "--database-url", url, "--table", table, "--resume"], "use --apply --resume"],
          [["migrate", "--database-url", url, "--table", table, "--apply", "--resume"], "no incomplete run to resume"],
          [["migrate", "--database-url", url, "--table", table, "--fund-id", "x"], "not a valid integer"],
          [["index", "--database-url", url, "--table", "nope"], "does not exist"]
        ]
        const results = yield* Effect.forEach(cases, ([args]) => cli(args, { DATABASE_URL: undefined }), { concurrency: 4 })
        cases.forEach(([args, message], i) => {
          const r = results[i]!
          assert.strictEqual(r.status, 2, `${args.join(" ")}\n${r.stdout}\n${r.stderr}`)
          assert.include(r.stderr + r.stdout, message, args.join(" "))
        })
        const runs = yield* sql<{ ok: boolean }>`SELECT to_regclass('stage_migration_runs') IS NULL AS ok`
        assert.isTrue(runs[0]!.ok, "bad input wrote the tracking schema")
      }))

    it.effect("acceptance: the dry run previews and changes nothing; --apply needs a backup, then normalises; progress shows 100 %", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const sql = yield* SqlClient.SqlClient
        const table = yield* createScalarTable("cli_accept", scalarRows(500))
        const backups = mkdtempSync(join(tmpdir(), "stage-backups-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(backups, { recursive: true, force: true })))
        const before = yield* snapshot(table)
        const dry = yield* cli(["migrate", "--database-url", url, "--table", table, "--column", "stage"])
        assert.strictEqual(dry.status, 0, dry.stderr)
        assert.include(dry.stdout, "Dry run — nothing was written")
        assert.match(dry.stdout, /"Series A"\s+series-a/)
        assert.match(dry.stdout, /"serie a"\s+[\d,]+\s+unknown-stage\s+series-a/)
        assert.deepStrictEqual(yield* snapshot(table), before)
        assert.isTrue((yield* sql<{ ok: boolean }>`SELECT to_regclass('stage_migration_runs') IS NULL AS ok`)[0]!.ok)

        // --apply needs a fresh, restore-tested backup (issue 7's gate): refused without one, saying what to run
        const refused = yield* cli(["migrate", "--database-url", url, "--table", table, "--column", "stage", "--apply", "--backup-dir", backups])
        assert.strictEqual(refused.status, 2, refused.stdout + refused.stderr)
        assert.include(refused.stderr, "backup create --database-url")
        assert.include(refused.stderr, "--no-backup-check")
        const created = yield* cli(["backup", "create", "--database-url", url, "--table", table, "--dir", backups])
        assert.strictEqual(created.status, 0, created.stderr)
        const tested = yield* cli(["backup", "restore-test", "--database-url", url, "--dir", backups, "--table", table])
        assert.strictEqual(tested.status, 0, tested.stdout + tested.stderr)
        const applied = yield* cli(["migrate", "--database-url", url, "--table", table, "--column", "stage", "--apply", "--backup-dir", backups])
        assert.strictEqual(applied.status, 0, applied.stderr)
        assert.match(applied.stdout, /backup: .*manifest\.json/)
        assert.match(applied.stdout, /Run \d+ succeeded/)
        assert.include(applied.stderr, "\"event\":\"BatchCompleted\"")
        const progress = yield* sql<{ percent_complete: string }>`
          SELECT percent_complete::text FROM stage_migration_progress WHERE target_table = ${"public." + table}`
        assert.deepStrictEqual(progress, [{ percent_complete: "100.00" }])
        const stages = new Set((yield* snapshot(table)).map(([, v]) => v))
        assert.deepStrictEqual([...stages].sort(), [null, "early stage", "pre-seed", "seed", "serie a", "series-a", "series-b", "series-c+"].sort())

        const json = yield* cli(["migrate", "--database-url", url, "--table", table, "--apply", "--no-backup-check", "--json"])
        const summary = json.stdout.trim().split("\n").map((l) => JSON.parse(l) as { event: string; totals?: { updated: number } })
        assert.strictEqual(summary.at(-1)?.event, "Summary")
        assert.strictEqual(summary.at(-1)?.totals?.updated, 0)

        const plan = yield* cli(["index", "--database-url", url, "--table", table])
        assert.strictEqual(plan.status, 0)
        assert.include(plan.stdout, "missing")
        const made = yield* cli(["index", "--database-url", url, "--table", table, "--apply"])
        assert.strictEqual(made.status, 0, made.stderr)
        assert.match(made.stdout, /created/)
      }))

    it.effect("a second --apply on a busy target joins its run; SIGINT pauses with exit 0; --resume finishes", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const shared = yield* createScalarTable("cli_join", scalarRows(200))
        const sharedBefore = yield* snapshot(shared)
        const joinBase = ["migrate", "--database-url", url, "--table", shared, "--apply", "--no-backup-check", "--batch-size", "20", "--no-adaptive"]
        const worker = startCli([...joinBase, "--sleep-ms", "300"])
        yield* Effect.promise(() => worker.waitForEvents((e) => e["event"] === "BatchCompleted"))
        const joiner = yield* cli([...joinBase, "--sleep-ms", "300", "--workers", "2"])
        assert.strictEqual(joiner.status, 0, joiner.stdout + joiner.stderr)
        assert.match(joiner.stdout, /Run \d+ succeeded \(resumed\)/)
        const workerExit = yield* Effect.promise(() => worker.exit)
        assert.strictEqual(workerExit.code, 0, worker.stderr())
        assert.match(worker.stdout(), /Run \d+ succeeded/)
        const sharedAudit = yield* auditRows(shared)
        const sharedAfter = yield* snapshot(shared)
        assert.strictEqual(sharedAudit.length, sharedBefore.filter(([, v], i) => sharedAfter[i]![1] !== v).length)
        assert.strictEqual(new Set(sharedAudit.map((x) => x.pk)).size, sharedAudit.length)

        const table = yield* createScalarTable("cli_conc", scalarRows(200))
        const before = yield* snapshot(table)
        const base = ["migrate", "--database-url", url, "--table", table, "--apply", "--no-backup-check", "--batch-size", "20", "--no-adaptive"]
        const first = startCli([...base, "--sleep-ms", "400"])
        yield* Effect.promise(() => first.waitForEvents((e) => e["event"] === "BatchCompleted"))
        const wrongJoin = yield* cli([...base, "--join", "999999"])
        assert.strictEqual(wrongJoin.status, 2, wrongJoin.stdout + wrongJoin.stderr)
        assert.match(wrongJoin.stderr, /run 999999 is not the incomplete run/)
        first.child.kill("SIGINT")
        const exit = yield* Effect.promise(() => first.exit)
        assert.strictEqual(exit.code, 0, first.stderr())
        assert.match(first.stdout(), /Run \d+ paused/)
        assert.include(first.stderr(), "SIGINT: finishing the current batch")
        const resumed = yield* cli([...base, "--resume", "--sleep-ms", "0"])
        assert.strictEqual(resumed.status, 0, resumed.stderr)
        assert.match(resumed.stdout, /Run \d+ succeeded \(resumed\)/)
        const after = yield* snapshot(table)
        const audit = yield* auditRows(table)
        assert.strictEqual(audit.length, before.filter(([, v], i) => after[i]![1] !== v).length)
        assert.strictEqual(new Set(audit.map((x) => x.pk)).size, audit.length)
      }))

    it.effect("SIGKILL between batches and in the middle of one: resume gives the uninterrupted result, one audit row per change", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const rows = scalarRows(360)
        const reference = yield* createScalarTable("cli_ref", rows)
        const table = yield* createScalarTable("cli_crash", rows)
        yield* slowTrigger(table, 0.015)
        const before = yield* snapshot(table)
        const ref = yield* cli(["migrate", "--database-url", url, "--table", reference, "--apply", "--no-backup-check", "--sleep-ms", "0"])
        assert.strictEqual(ref.status, 0, ref.stderr)
        const base = ["migrate", "--database-url", url, "--table", table, "--apply", "--no-backup-check", "--batch-size", "40", "--no-adaptive"]

        // 1. killed while sleeping between batches
        const a = startCli([...base, "--sleep-ms", "1500"])
        yield* Effect.promise(() => a.waitForEvents((e) => e["event"] === "BatchCompleted", 2))
        yield* sleep(300)
        a.child.kill("SIGKILL")
        yield* Effect.promise(() => a.exit)
        assert.deepStrictEqual(yield* batchStates(table), [{ status: "succeeded", n: 2 }])

        // 2. killed inside a batch's transaction (the trigger makes each batch take a while)
        const b = startCli([...base, "--sleep-ms", "0"])
        yield* Effect.promise(() => b.waitForEvents((e) => e["event"] === "BatchCompleted"))
        yield* sleep(120)
        b.child.kill("SIGKILL")
        yield* Effect.promise(() => b.exit)
        const states = yield* batchStates(table)
        assert.deepStrictEqual(states.find((s) => s.status === "running")?.n, 1, JSON.stringify(states))

        // 3. resume to the end
        const c = yield* cli([...base, "--resume", "--sleep-ms", "0"])
        assert.strictEqual(c.status, 0, c.stderr)
        assert.match(c.stdout, /had been interrupted; their ranges were redone/)
        const after = yield* snapshot(table)
        assert.deepStrictEqual(after.map(([, v]) => v), (yield* snapshot(reference)).map(([, v]) => v))
        const changed = before.filter(([, v], i) => after[i]![1] !== v)
        const audit = yield* auditRows(table)
        assert.strictEqual(audit.length, changed.length)
        assert.deepStrictEqual(audit.map((x) => x.pk), changed.map(([id]) => id))
        assert.deepStrictEqual(audit.map((x) => x.old), changed.map(([, v]) => v))
        const sql = yield* SqlClient.SqlClient
        const failures = yield* sql<{ resolution: string }>`
          SELECT f.resolution FROM stage_migration_failures f WHERE f.target_table = ${"public." + table}`
        assert.deepStrictEqual(failures, [{ resolution: "redone" }])
        const progress = yield* sql<{ percent_complete: string; status: string }>`
          SELECT percent_complete::text, status FROM stage_migration_progress WHERE target_table = ${"public." + table}`
        assert.deepStrictEqual(progress, [{ percent_complete: "100.00", status: "succeeded" }])
      }), { timeout: 60_000 })

    it.effect("--cancel ends a paused run; the next --apply starts afresh", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const table = yield* createScalarTable("cli_cancel", scalarRows(120))
        const base = ["migrate", "--database-url", url, "--table", table]
        const a = startCli([...base, "--apply", "--no-backup-check", "--batch-size", "20", "--no-adaptive", "--sleep-ms", "500"])
        yield* Effect.promise(() => a.waitForEvents((e) => e["event"] === "BatchCompleted"))
        const requested = yield* cli([...base, "--cancel"])
        assert.strictEqual(requested.status, 0, requested.stderr)
        assert.include(requested.stdout, "cancellation requested")
        const exit = yield* Effect.promise(() => a.exit)
        assert.strictEqual(exit.code, 0)
        assert.match(a.stdout(), /Run \d+ cancelled/)
        const none = yield* cli([...base, "--cancel"])
        assert.strictEqual(none.status, 2)
        assert.include(none.stderr, "no incomplete run to cancel")
        const fresh = yield* cli([...base, "--apply", "--no-backup-check", "--sleep-ms", "0"])
        assert.match(fresh.stdout, /Run \d+ succeeded:/)
      }))
  })
})
