/**
 * `migrate` on the embedded database persisted in a directory (`--database-url pglite:///dir`):
 * a CLI child SIGKILLed between batches and in the middle of one resumes to the uninterrupted
 * result with exactly one audit row per changed row, and a second process on the same database
 * is refused while the first runs.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { layerEmbedded } from "../../src/migration/database/EmbeddedPostgres.ts"
import { normalizeStage } from "../../src/normalizer/NormalizeStage.ts"
import { runCli, startCli } from "./support/Cli.ts"
import { auditRows, createScalarTable, scalarRows, snapshot } from "./support/Fixtures.ts"

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

const expected = (v: string | null) => {
  if (v === null) return null
  const r = normalizeStage(v)
  return r._tag === "Canonical" ? r.stage : v
}

describe("migrate CLI on the embedded database", () => {
  it.live("SIGKILL between and inside batches, resume, one process at a time", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "stage-mig-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const dataDir = join(dir, "db")
      const url = `pglite://${dataDir}`
      const inDatabase = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
        effect.pipe(Effect.provide(layerEmbedded({ dataDir })), Effect.scoped, Effect.orDie)

      const { table, before } = yield* inDatabase(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const table = yield* createScalarTable("emb", scalarRows(240))
        yield* sql.unsafe(`CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN PERFORM pg_sleep(0.02); RETURN NEW; END $$`).unprepared
        yield* sql.unsafe(`CREATE TRIGGER slow BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION slow()`).unprepared
        return { table, before: yield* snapshot(table) }
      }))
      const base = ["migrate", "--database-url", url, "--table", table, "--apply", "--no-backup-check", "--batch-size", "30", "--no-adaptive"]

      const a = startCli([...base, "--sleep-ms", "2000"])
      yield* Effect.promise(() => a.waitForEvents((e) => e["event"] === "BatchCompleted", 2, 60_000))
      const busy = yield* Effect.promise(() => runCli([...base, "--sleep-ms", "0"]))
      assert.strictEqual(busy.status, 2, busy.stdout + busy.stderr)
      assert.match(busy.stderr, /in use by process \d+/)
      a.child.kill("SIGKILL")
      yield* Effect.promise(() => a.exit)

      const b = startCli([...base, "--sleep-ms", "0"])
      yield* Effect.promise(() => b.waitForEvents((e) => e["event"] === "BatchCompleted", 1, 60_000))
      yield* sleep(150)
      b.child.kill("SIGKILL")
      yield* Effect.promise(() => b.exit)

      const c = yield* Effect.promise(() => runCli([...base, "--resume", "--sleep-ms", "0"]))
      assert.strictEqual(c.status, 0, c.stdout + c.stderr)
      assert.match(c.stdout, /Run 1 succeeded \(resumed\)/)

      yield* inDatabase(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const after = yield* snapshot(table)
        assert.deepStrictEqual(after.map(([, v]) => v), before.map(([, v]) => expected(v)))
        const changed = before.filter(([, v], i) => after[i]![1] !== v)
        const audit = yield* auditRows(table)
        assert.deepStrictEqual(audit.map((x) => [x.pk, x.old]), changed.map(([id, v]) => [id, v]))
        const runs = yield* sql<{ status: string; resumed_count: number }>`SELECT status, resumed_count FROM stage_migration_runs`
        assert.deepStrictEqual(runs, [{ status: "succeeded", resumed_count: 2 }])
        const redone = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM stage_migration_failures WHERE resolution = 'redone'`
        assert.strictEqual(redone[0]!.n, 1)
      }))
    }), { timeout: 120_000 })
})
