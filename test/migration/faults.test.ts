/**
 * Proofs under faults, on the real PostgreSQL:
 *
 * - `kill -9` at 20 random points of an `--apply` run (a CLI child process, small slow batches so
 *   most kill points land inside a batch's transaction), resumed each time: no row lost, none
 *   audited (applied) twice, the audit always matching the table, and at the end the table equals
 *   the uninterrupted result and `verify --strict` passes. The seed is printed on failure
 *   (`FAULT_SEED=… ` reproduces a run).
 * - The migration's connection terminated mid-batch (`pg_terminate_backend` from another session,
 *   matched by `application_name`): the batch is retried and the run completes.
 * - A concurrent writer updating random rows (messy, canonical and unknown values) throughout a
 *   run: every row ends with its last write, kept or normalised from itself — never overwritten by
 *   a stale value — and every audit old value is a value the row really held.
 * - Bad input to every command (no such table or column, wrong column type, malformed mapping,
 *   unreachable database): exit 2, a message naming the problem, nothing written.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Ref } from "effect"
import { SqlClient } from "effect/sql"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { layerFromUrl } from "../../src/migration/database/Database.ts"
import type { MigrationEvent } from "../../src/migration/MigrationEvent.ts"
import { migrate } from "../../src/migration/run/Runner.ts"
import { verify } from "../../src/migration/verify/Verify.ts"
import { normalizeStage } from "../../src/normalizer/NormalizeStage.ts"
import { runCli, startCli } from "./support/Cli.ts"
import { layerScratchPostgres, requirePostgres, ScratchDatabase } from "./support/Databases.ts"
import { auditRows, createScalarTable, slowUpdates, snapshot } from "./support/Fixtures.ts"

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/** mulberry32: a small seeded PRNG, so a failing run can be reproduced. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const expected = (v: string | null): string | null => {
  if (v === null) return null
  const r = normalizeStage(v)
  return r._tag === "Canonical" ? r.stage : v
}

const KNOWN = ["Series A", "seed", "Seed Round", "  SERIES_B ", "growth", "Pre Seed", "series c plus", "series-a", "ＳＥＥＤ"]

describe("proofs under faults", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)
  layer(layerScratchPostgres("faults", 6), { timeout: "60 seconds", excludeTestServices: true })("real PostgreSQL", (it) => {
    it.effect("kill -9 at 20 random points, resumed each time: nothing lost or applied twice; the end equals an uninterrupted run; verify passes", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const sql = yield* SqlClient.SqlClient
        const seed = Number(process.env["FAULT_SEED"] ?? Math.floor(Math.random() * 2 ** 31))
        const random = prng(seed)
        const rows = Array.from({ length: 2400 }, (_, i) => ({ id: i + 1, fund: i % 4, stage: KNOWN[(i * 5) % KNOWN.length]! }))
        const table = yield* createScalarTable("kill9", rows)
        yield* slowUpdates(table, 0.003)
        const before = yield* snapshot(table)
        const base = ["migrate", "--database-url", url, "--table", table, "--apply", "--no-backup-check", "--no-adaptive", "--batch-by", "id"]
        const args = [...base, "--batch-size", "20", "--sleep-ms", "5"]
        const invariant = (where: string) =>
          Effect.gen(function*() {
            const audit = yield* auditRows(table)
            const now = new Map(yield* snapshot(table))
            assert.strictEqual(now.size, before.length, `${where}: rows lost (seed ${seed})`)
            assert.strictEqual(new Set(audit.map((a) => a.pk)).size, audit.length, `${where}: a row audited twice (seed ${seed})`)
            for (const a of audit) assert.strictEqual(now.get(a.pk), a.new, `${where}: row ${a.pk} differs from its audit (seed ${seed})`)
            const changed = before.filter(([id, v]) => now.get(id) !== v).length
            assert.strictEqual(audit.length, changed, `${where}: a change without its audit row (seed ${seed})`)
          })
        // Batches a kill interrupted, by id: a later kill can land before the resumed run has
        // redone the same batch, so counting kills would count that batch twice.
        const interrupted = new Set<string>()
        let kills = 0
        for (let k = 0; k < 20; k++) {
          const child = startCli(args)
          yield* Effect.promise(() => child.waitForEvents((e) => e["event"] === "RunStarted" || e["event"] === "RunFinished", 1, 30_000))
          if (child.events().some((e) => e["event"] === "RunFinished")) break
          yield* sleep(Math.floor(random() * 400))
          child.child.kill("SIGKILL")
          yield* Effect.promise(() => child.exit)
          kills++
          const running = yield* sql<{ id: string }>`
            SELECT b.batch_id::text AS id FROM stage_migration_batches b JOIN stage_migration_runs r USING (run_id)
            WHERE r.target_table = ${"public." + table} AND b.status = 'running'`
          for (const batch of running) interrupted.add(batch.id)
          assert.isAtMost(running.length, 1)
          yield* invariant(`after kill ${k + 1}`)
        }
        assert.strictEqual(kills, 20, `the run finished before 20 kills (seed ${seed})`)
        assert.isAtLeast(interrupted.size, 5, `too few kills landed inside a batch (seed ${seed})`)
        const last = yield* Effect.promise(() => runCli([...base, "--batch-size", "20", "--sleep-ms", "0"]))
        assert.strictEqual(last.status, 0, last.stdout + last.stderr)
        assert.match(last.stdout, /succeeded \(resumed\)/)
        yield* invariant("at the end")
        const after = yield* snapshot(table)
        assert.deepStrictEqual(after.map(([, v]) => v), before.map(([, v]) => expected(v)), `seed ${seed}`)
        const verified = yield* Effect.promise(() => runCli(["verify", "--database-url", url, "--table", table, "--strict"]))
        assert.strictEqual(verified.status, 0, verified.stdout + verified.stderr)
        const redone = yield* sql<{ n: number }>`
          SELECT count(DISTINCT batch_id)::int AS n FROM stage_migration_failures WHERE target_table = ${"public." + table} AND resolution = 'redone'`
        assert.strictEqual(redone[0]!.n, interrupted.size, `each interrupted batch redone once (seed ${seed})`)
      }), { timeout: 120_000 })

    it.effect("the migration's connection terminated mid-batch (pg_terminate_backend): the batch is retried and the run completes", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const sql = yield* SqlClient.SqlClient
        const rows = Array.from({ length: 240 }, (_, i) => ({ id: i + 1, fund: 0, stage: "Series B" }))
        const table = yield* createScalarTable("terminate", rows)
        yield* slowUpdates(table, 0.004)
        const app = `sn-terminate-${table}`
        const events: Array<MigrationEvent> = []
        const run = yield* migrate({
          table,
          sleepMs: 0,
          batchSize: 60,
          adaptive: false,
          retryDelayMs: 50,
          onEvent: (e) => Effect.sync(() => events.push(e))
        }).pipe(Effect.provide(layerFromUrl(url, { applicationName: app })), Effect.forkChild)
        let terminated = 0
        for (let i = 0; i < 400 && terminated === 0; i++) {
          // the MATERIALIZED CTE fences the filter: PostgreSQL may evaluate WHERE clauses in any order,
          // and pg_terminate_backend must only ever see the migration's own backend
          const killed = yield* sql<{ pid: number }>`
            WITH target AS MATERIALIZED (
              SELECT pid FROM pg_stat_activity
              WHERE application_name = ${app} AND state = 'active' AND query LIKE '%INSERT INTO stage_normalization_log%'
                AND pid <> pg_backend_pid()
            )
            SELECT pid FROM target WHERE pg_terminate_backend(pid)`
          terminated = killed.length
          if (terminated === 0) yield* sleep(10)
        }
        assert.strictEqual(terminated, 1, "no batch statement caught in flight")
        const summary = yield* Fiber.join(run)
        assert.strictEqual(summary.status, "succeeded", summary.error ?? "")
        assert.strictEqual(summary.totals.updated, 240)
        const retry = events.find((e) => e._tag === "BatchRetrying")
        assert.isDefined(retry)
        assert.match(retry!._tag === "BatchRetrying" ? retry!.error : "", /terminat|connection/i)
        const attempts = yield* sql<{ attempts: number }>`
          SELECT attempts FROM stage_migration_batches WHERE run_id = ${summary.runId}::bigint ORDER BY attempts DESC LIMIT 1`
        assert.strictEqual(attempts[0]!.attempts, 2)
        const report = yield* verify({ runId: summary.runId, strict: true })
        assert.isTrue(report.summary.ok, JSON.stringify(report.checks.filter((c) => c.status !== "pass")))
      }), { timeout: 60_000 })

    it.effect("a concurrent writer is never overwritten by a stale value: each row ends with its last write, kept or normalised", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const seed = Number(process.env["FAULT_SEED"] ?? Math.floor(Math.random() * 2 ** 31))
        const random = prng(seed)
        const rows = Array.from({ length: 1500 }, (_, i) => ({ id: i + 1, fund: i % 3, stage: KNOWN[i % KNOWN.length]! }))
        const table = yield* createScalarTable("writers", rows)
        const writes = new Map<string, Array<string>>(rows.map((r) => [String(r.id), [r.stage]]))
        const values = [...KNOWN, "seed", "series-b", "pre-seed", "series-c", "early stage", "Series  Q"]
        const conn = yield* sql.reserve
        const done = yield* Deferred.make<void>()
        const count = yield* Ref.make(0)
        const writer = yield* Effect.gen(function*() {
          while (!(yield* Deferred.isDone(done))) {
            const id = String(1 + Math.floor(random() * rows.length))
            const value = values[Math.floor(random() * values.length)]!
            yield* conn.execute(`UPDATE ${table} SET stage = $1 WHERE id = $2::bigint`, [value, id], undefined)
            writes.get(id)!.push(value)
            yield* Ref.update(count, (n) => n + 1)
          }
        }).pipe(Effect.forkChild)
        const summary = yield* migrate({ table, sleepMs: 2, batchSize: 50, adaptive: false, lockTimeoutMs: 20_000 })
        yield* Deferred.succeed(done, undefined)
        yield* Fiber.join(writer)
        assert.strictEqual(summary.status, "succeeded")
        assert.isAbove(yield* Ref.get(count), 50, "the writer barely ran")
        const after = new Map(yield* snapshot(table))
        const kept: Array<string> = []
        for (const [id, history] of writes) {
          const last = history.at(-1)!
          const final = after.get(id) ?? null
          assert.isTrue(final === last || final === expected(last), `row ${id}: ${JSON.stringify(final)} is neither its last write ${JSON.stringify(last)} nor its normalisation (seed ${seed})`)
          if (final !== expected(final)) kept.push(id)
        }
        for (const a of yield* auditRows(table)) {
          assert.include(writes.get(a.pk)!, a.old!, `row ${a.pk}: audited old value ${JSON.stringify(a.old)} was never held (seed ${seed})`)
        }
        // verify sees exactly the kept messy writes as "not normalised"; a second run normalises them
        const report = yield* verify({ runId: summary.runId, sampleSize: 0 })
        const canonical = report.checks.find((c) => c.name === "canonical")!
        assert.strictEqual(canonical.counts["notNormalised"], kept.length, `seed ${seed}`)
        const again = yield* migrate({ table, sleepMs: 0 })
        const clean = yield* verify({ runId: again.runId })
        assert.notStrictEqual(clean.checks.find((c) => c.name === "canonical")!.status, "fail", JSON.stringify(clean.checks[1]))
        assert.isTrue(clean.summary.ok, JSON.stringify(clean.checks.filter((c) => c.status === "fail")))
      }).pipe(Effect.scoped), { timeout: 60_000 })

    it.effect("bad input to every command exits 2 with a message naming the problem, and writes nothing", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE SCHEMA bad_input`
        const table = "bad_input.t"
        yield* sql.unsafe(`CREATE TABLE ${table} (id bigint PRIMARY KEY, stage text, amount int)`).unprepared
        yield* sql.unsafe(`INSERT INTO ${table} VALUES (1, 'Series A', 1), (2, 'early stage', 2)`).unprepared
        const dir = mkdtempSync(join(tmpdir(), "stage-bad-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        const malformed = join(dir, "map.json")
        writeFileSync(malformed, `{"early stage": ["seed"]}`)
        const down = "postgres://postgres@127.0.0.1:1/nowhere"
        const runs = (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'stage_migration_runs'`)[0]!.n
        const m = ["migrate", "--database-url", url, "--no-backup-check"]
        const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
          [[...m, "--table", "bad_input.nope", "--apply"], "table \"bad_input.nope\" does not exist"],
          [[...m, "--table", table, "--column", "stag", "--apply"], "has no stage column \"stag\""],
          [[...m, "--table", table, "--column", "amount", "--apply"], "bad_input.t.amount is integer"],
          [[...m, "--table", table, "--apply", "--force-unknown", "--confirm-force-unknown", "--map", malformed], "maps to [\"seed\"], not a string"],
          [["migrate", "--database-url", down, "--table", table, "--apply", "--no-backup-check"], "cannot reach postgres://postgres@127.0.0.1:1/nowhere"],
          [["verify", "--database-url", url, "--table", "bad_input.nope"], "does not exist"],
          [["verify", "--database-url", url, "--table", table], "has no migration run to verify"],
          [["verify", "--database-url", down, "--run", "1"], "cannot reach"],
          [["rollback", "--database-url", url, "--run", "987654"], "does not exist"],
          [["rollback", "--database-url", down, "--run", "1", "--apply"], "cannot reach"],
          [["backup", "create", "--database-url", url, "--table", table, "--column", "stag", "--dir", dir], "has no column \"stag\""],
          [["backup", "create", "--database-url", down, "--table", table, "--dir", dir], "cannot reach"]
        ]
        const results = yield* Effect.forEach(cases, ([args]) => Effect.promise(() => runCli(args)), { concurrency: 4 })
        cases.forEach(([args, message], i) => {
          const r = results[i]!
          assert.strictEqual(r.status, 2, `${args.join(" ")}\n${r.stdout}${r.stderr}`)
          assert.include(r.stderr, message, args.join(" "))
        })
        const stages = yield* sql.unsafe<{ stage: string }>(`SELECT stage FROM ${table} ORDER BY id`)
        assert.deepStrictEqual(stages.map((s) => s.stage), ["Series A", "early stage"])
        assert.strictEqual((yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'stage_migration_runs'`)[0]!.n, runs)
      }).pipe(Effect.scoped))
  })
})
