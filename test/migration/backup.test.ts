/**
 * Backups against the real PostgreSQL (pg_dump / pg_restore 15) and the embedded database:
 * create writes the dump, a `sha256sum -c` file and a manifest whose counts come from the dump's
 * own snapshot (a concurrent writer cannot make them disagree); verify recomputes the checksum;
 * restore-test restores into a scratch database that is dropped whatever happens — success, a
 * failing pg_restore, SIGINT — and records the result; a corrupted dump fails both. The freshness
 * gate refuses (saying what to run) until a fresh, restore-tested, intact backup of this table of
 * this database exists, and `migrate` records the backup it used, or the skip. Missing tools are
 * named. The embedded database backs up with PGlite's dumpDataDir and restore-tests in memory.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { SqlClient } from "effect/sql"
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createBackup } from "../../src/migration/backup/BackupCreate.ts"
import { requireFreshBackup } from "../../src/migration/backup/BackupGate.ts"
import { readManifest } from "../../src/migration/backup/BackupManifest.ts"
import { verifyBackup } from "../../src/migration/backup/BackupVerify.ts"
import { restoreTest } from "../../src/migration/backup/RestoreRehearsal.ts"
import { migrate } from "../../src/migration/run/Runner.ts"
import { hashFile } from "../../src/migration/backup/StreamingHash.ts"
import { runCli, startCli } from "./support/Cli.ts"
import { layerScratchPostgres, requirePostgres, ScratchDatabase } from "./support/Databases.ts"
import { createDistributionTable, createScalarTable, distributionRows, scalarRows } from "./support/Fixtures.ts"
import { layerEmbedded } from "../../src/migration/database/EmbeddedPostgres.ts"

const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/** A directory with a fake PostgreSQL tool: reports `version`, then runs `body` (sh). */
const fakeTool = (dir: string, name: string, version: string, body: string) => {
  const path = join(dir, name)
  writeFileSync(path, `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "${name} (PostgreSQL) ${version}"; exit 0; fi\n${body}\n`)
  chmodSync(path, 0o755)
  return path
}

/** pg_database is shared by every database of the server: the scratch database's connection sees it. */
const databaseExists = (name: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_database WHERE datname = ${name}`
    return rows[0]!.n === 1
  })

describe("backups", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)

  layer(layerScratchPostgres("backup"), { timeout: "60 seconds", excludeTestServices: true })("real PostgreSQL", (it) => {
    it.effect("create (on a snapshot, under concurrent inserts) → verify → restore-test pass; the scratch database is dropped", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const sql = yield* SqlClient.SqlClient
        const dir = yield* tempDir("stage-bk-")
        const table = yield* createScalarTable("bk_ok", scalarRows(3000))
        let inserted = 0
        const writer = yield* Effect.forever(
          sql.unsafe(`INSERT INTO ${table} (id, fund_id, stage) VALUES (${100_000 + inserted}, 1, 'Series A')`).pipe(
            Effect.tap(() => Effect.sync(() => inserted++)),
            Effect.andThen(Effect.sleep(2))
          )
        ).pipe(Effect.forkChild)
        yield* Effect.sleep(50)
        const backup = yield* createBackup({ databaseUrl: url, tables: [table], dir })
        yield* Fiber.interrupt(writer)
        assert.isAbove(inserted, 0)
        const m = backup.manifest
        assert.strictEqual(m.format, "pg_dump-custom")
        assert.strictEqual(m.tables[0]!.table, `public.${table}`)
        assert.strictEqual(m.tables[0]!.column, "stage")
        assert.isAtLeast(m.tables[0]!.rows, 3000)
        assert.strictEqual(m.database.serverVersionNum >= 150000, true)
        assert.match(m.dumpTool?.version ?? "", /pg_dump \(PostgreSQL\) 15/)
        const digest = yield* hashFile(backup.dumpPath)
        assert.deepStrictEqual([digest.sha256, digest.bytes], [m.sha256, m.bytes])
        assert.strictEqual(readFileSync(`${backup.dumpPath}.sha256`, "utf8"), `${m.sha256}  ${backup.dumpPath.split("/").at(-1)}\n`)

        const verified = yield* verifyBackup(backup.manifestPath)
        assert.isTrue(verified.ok, verified.problems.join("; "))
        const events: Array<string> = []
        const tested = yield* restoreTest({
          manifestPath: backup.manifestPath,
          databaseUrl: url,
          onEvent: (e) => Effect.sync(() => events.push(e))
        })
        assert.isTrue(tested.result.ok, tested.result.error ?? "")
        assert.deepStrictEqual(tested.result.checks.map((c) => [c.check, c.ok]), [["rows", true], ["distinctValues", true], ["valuesMd5", true]])
        assert.isFalse(yield* databaseExists(tested.result.database))
        assert.isTrue(events.some((e) => e.startsWith("dropped scratch database")))
        const recorded = yield* readManifest(backup.manifestPath)
        assert.strictEqual(recorded.restoreTest?.ok, true)
        assert.strictEqual(recorded.lastVerification?.ok, true)
      }).pipe(Effect.scoped))

    it.effect("restore-test of one table that references another (not in the backup) leaves the foreign key out and passes", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const sql = yield* SqlClient.SqlClient
        const dir = yield* tempDir("stage-bk-fk-")
        const parent = `bk_fund_${Date.now().toString(36)}`
        yield* sql.unsafe(`CREATE TABLE ${parent} (id int PRIMARY KEY)`).unprepared
        yield* sql.unsafe(`INSERT INTO ${parent} SELECT generate_series(1, 3)`).unprepared
        const table = yield* createScalarTable("bk_fk", scalarRows(500).map((r) => ({ ...r, fund: 1 + (r.id % 3) })))
        yield* sql.unsafe(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_fund_fk FOREIGN KEY (fund_id) REFERENCES ${parent} (id)`).unprepared
        const backup = yield* createBackup({ databaseUrl: url, tables: [table], dir })
        const events: Array<string> = []
        const tested = yield* restoreTest({
          manifestPath: backup.manifestPath,
          databaseUrl: url,
          onEvent: (e) => Effect.sync(() => events.push(e))
        })
        assert.isTrue(tested.result.ok, tested.result.error ?? "")
        assert.deepStrictEqual(tested.result.checks.map((c) => c.ok), [true, true, true])
        assert.isTrue(events.includes("leaving out 1 foreign key constraint(s): the tables they reference are not in the backup"), events.join("\n"))
        assert.isFalse(yield* databaseExists(tested.result.database))
      }).pipe(Effect.scoped))

    it.effect("a corrupted dump fails verify and the restore test (before any database is created)", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const dir = yield* tempDir("stage-bk-")
        const table = yield* createScalarTable("bk_bad", scalarRows(200))
        const backup = yield* createBackup({ databaseUrl: url, tables: [table], dir })
        const bytes = readFileSync(backup.dumpPath)
        bytes[Math.floor(bytes.length / 2)] = bytes[Math.floor(bytes.length / 2)]! ^ 0xff
        writeFileSync(backup.dumpPath, bytes)
        const verified = yield* verifyBackup(backup.manifestPath)
        assert.isFalse(verified.ok)
        assert.include(verified.problems.join(" "), "checksum mismatch")
        const tested = yield* restoreTest({ manifestPath: backup.manifestPath, databaseUrl: url })
        assert.isFalse(tested.result.ok)
        assert.strictEqual(tested.result.database, "")
        assert.include(tested.result.error ?? "", "checksum mismatch")
      }).pipe(Effect.scoped))

    it.effect("the freshness gate: none, not restore-tested, too old, corrupted, other table → refused with what to run; fresh → accepted and recorded", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const sql = yield* SqlClient.SqlClient
        const dir = yield* tempDir("stage-bk-")
        const table = yield* createScalarTable("bk_gate", scalarRows(100))
        const label = `public.${table}`
        const gate = { dir, maxAgeMs: 24 * 3_600_000 }
        const none = yield* requireFreshBackup(label, gate).pipe(Effect.flip)
        assert.strictEqual(none.reason._tag, "BackupRequired")
        assert.isTrue(none.isInputError)
        assert.include(none.message, "there is none")
        assert.include(none.message, `backup create --database-url "$DATABASE_URL" --table ${label} --dir ${dir}`)
        assert.include(none.message, "backup restore-test")
        assert.include(none.message, "--no-backup-check")

        const other = yield* createScalarTable("bk_other", scalarRows(10))
        const otherBackup = yield* createBackup({ databaseUrl: url, tables: [other], dir })
        yield* restoreTest({ manifestPath: otherBackup.manifestPath, databaseUrl: url })
        const backup = yield* createBackup({ databaseUrl: url, tables: [table], dir })
        const untested = yield* requireFreshBackup(label, gate).pipe(Effect.flip)
        assert.include(untested.message, "was never restore-tested")
        assert.notInclude(untested.message, otherBackup.manifestPath)

        // migrate refuses before writing anything
        const runsBefore = yield* sql<{ n: number }>`SELECT CASE WHEN to_regclass('stage_migration_runs') IS NULL THEN 0
          ELSE (SELECT count(*)::int FROM stage_migration_runs) END AS n`.pipe(Effect.orElseSucceed(() => [{ n: 0 }]))
        const refused = yield* migrate({ table, sleepMs: 0, backupCheck: gate }).pipe(Effect.flip)
        assert.strictEqual(refused.reason._tag, "BackupRequired")
        const runsAfter = yield* sql<{ n: number }>`SELECT CASE WHEN to_regclass('stage_migration_runs') IS NULL THEN 0
          ELSE (SELECT count(*)::int FROM stage_migration_runs) END AS n`.pipe(Effect.orElseSucceed(() => [{ n: 0 }]))
        assert.deepStrictEqual(runsAfter, runsBefore)

        yield* restoreTest({ manifestPath: backup.manifestPath, databaseUrl: url })
        const evidence = yield* requireFreshBackup(label, gate)
        assert.strictEqual(evidence.manifest, backup.manifestPath)
        const old = yield* requireFreshBackup(label, { ...gate, now: new Date(Date.now() + 25 * 3_600_000) }).pipe(Effect.flip)
        assert.match(old.message, /is 25\.0 h old \(the limit is 24\.0 h\)/)

        const run = yield* migrate({ table, sleepMs: 0, backupCheck: gate })
        assert.strictEqual(run.backup !== null && "manifest" in run.backup ? run.backup.manifest : "", backup.manifestPath)
        const parameters = yield* sql<{ backup: string }>`
          SELECT parameters -> 'backup' ->> 'sha256' AS backup FROM stage_migration_runs WHERE run_id = ${run.runId}::bigint`
        assert.strictEqual(parameters[0]!.backup, backup.manifest.sha256)
        const skipped = yield* migrate({ table, sleepMs: 0, backupCheck: { skip: "--no-backup-check" } })
        const skip = yield* sql<{ skipped: string }>`
          SELECT parameters -> 'backup' ->> 'skipped' AS skipped FROM stage_migration_runs WHERE run_id = ${skipped.runId}::bigint`
        assert.strictEqual(skip[0]!.skipped, "--no-backup-check")

        const bytes = readFileSync(backup.dumpPath)
        writeFileSync(backup.dumpPath, bytes.subarray(0, bytes.length - 1))
        const corrupted = yield* requireFreshBackup(label, gate).pipe(Effect.flip)
        assert.include(corrupted.message, "does not match its checksum")
      }).pipe(Effect.scoped))

    it.effect("tools of the server's major version are required, and the message says exactly what is missing", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const dir = yield* tempDir("stage-bk-")
        const bin = yield* tempDir("stage-bin-")
        const table = yield* createScalarTable("bk_tools", scalarRows(10))
        const missing = yield* createBackup({ databaseUrl: url, tables: [table], dir, pgBinDir: bin }).pipe(Effect.flip)
        assert.strictEqual(missing.reason._tag, "BackupToolMissing")
        assert.isTrue(missing.isInputError)
        assert.match(missing.message, /pg_dump 1\d not found/)
        assert.include(missing.message, `Looked in ${bin}`)
        assert.match(missing.message, /apt-get install postgresql-client-1\d/)
        fakeTool(bin, "pg_dump", "13.4", "exit 1")
        const wrong = yield* createBackup({ databaseUrl: url, tables: [table], dir, pgBinDir: bin }).pipe(Effect.flip)
        assert.include(wrong.message, `${bin}/pg_dump is version 13`)
        const noTable = yield* createBackup({ databaseUrl: url, tables: ["no_such_table"], dir }).pipe(Effect.flip)
        assert.strictEqual(noTable.reason._tag, "TableNotFound")
        const noColumn = yield* createBackup({ databaseUrl: url, tables: [table], column: "stag", dir }).pipe(Effect.flip)
        assert.strictEqual(noColumn.reason._tag, "ColumnNotFound")
      }).pipe(Effect.scoped))

    it.effect("restore-test drops its scratch database when pg_restore fails and when the CLI gets SIGINT", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const dir = yield* tempDir("stage-bk-")
        const table = yield* createScalarTable("bk_drop", scalarRows(50))
        const backup = yield* createBackup({ databaseUrl: url, tables: [table], dir })
        const major = String(Math.floor(backup.manifest.database.serverVersionNum / 10_000))

        const failing = yield* tempDir("stage-bin-")
        fakeTool(failing, "pg_restore", `${major}.0`, "echo 'pg_restore: error: boom' >&2; exit 1")
        const events: Array<string> = []
        const failed = yield* restoreTest({
          manifestPath: backup.manifestPath,
          databaseUrl: url,
          pgBinDir: failing,
          onEvent: (e) => Effect.sync(() => events.push(e))
        })
        assert.isFalse(failed.result.ok)
        assert.include(failed.result.error ?? "", "boom")
        const created = /created scratch database (\S+)/.exec(events.join("\n"))?.[1]
        assert.isDefined(created)
        assert.isFalse(yield* databaseExists(created!))
        assert.strictEqual((yield* readManifest(backup.manifestPath)).restoreTest?.ok, false)

        const hanging = yield* tempDir("stage-bin-")
        // lists contents at once (restore-test reads them first), then hangs restoring
        fakeTool(hanging, "pg_restore", `${major}.0`, "if [ \"$1\" = \"--list\" ]; then exit 0; fi\nexec sleep 30")
        const child = startCli(["backup", "restore-test", "--database-url", url, "--manifest", backup.manifestPath, "--pg-bin-dir", hanging])
        yield* Effect.promise(() =>
          new Promise<void>((resolve, reject) => {
            const started = Date.now()
            const poll = setInterval(() => {
              if (/restoring .* into/.test(child.stderr())) {
                clearInterval(poll)
                resolve()
              } else if (Date.now() - started > 20_000 || child.child.exitCode !== null) {
                clearInterval(poll)
                reject(new Error(`no restore started: ${child.stderr()}`))
              }
            }, 20)
          })
        )
        const name = /created scratch database (\S+)/.exec(child.stderr())?.[1]
        assert.isDefined(name)
        assert.isTrue(yield* databaseExists(name!))
        child.child.kill("SIGINT")
        yield* Effect.promise(() => child.exit)
        assert.isFalse(yield* databaseExists(name!), child.stderr())
      }).pipe(Effect.scoped), { timeout: 60_000 })

    it.effect("CLI: create, verify and restore-test exit 0; a corrupted dump exits 1; bad input exits 2", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const dir = yield* tempDir("stage-bk-")
        const table = yield* createScalarTable("bk_cli", scalarRows(40))
        const mixes = yield* createDistributionTable("bk_cli_mix", distributionRows(30))
        const created = yield* Effect.promise(() =>
          runCli(["backup", "create", "--database-url", url, "--table", table, "--table", `${mixes}:mix`, "--dir", dir])
        )
        assert.strictEqual(created.status, 0, created.stderr)
        assert.match(created.stdout, /Backup written: .*\.dump \(pg_dump-custom/)
        assert.match(created.stdout, new RegExp(`public\\.${mixes}\\s+30\\s+mix\\s+\\d+`))
        const verified = yield* Effect.promise(() => runCli(["backup", "verify", "--dir", dir]))
        assert.strictEqual(verified.status, 0, verified.stderr)
        assert.include(verified.stdout, "Checksum OK")
        const tested = yield* Effect.promise(() => runCli(["backup", "restore-test", "--database-url", url, "--dir", dir, "--table", table]))
        assert.strictEqual(tested.status, 0, tested.stdout + tested.stderr)
        assert.include(tested.stdout, "Restore test PASSED")
        assert.match(tested.stdout, new RegExp(`public\\.${mixes}\\s+valuesMd5\\s+(\\w+)\\s+\\1\\s+yes`))
        const dump = /Backup written: (\S+\.dump)/.exec(created.stdout)![1]!
        writeFileSync(dump, Buffer.concat([readFileSync(dump), Buffer.from("x")]))
        const bad = yield* Effect.promise(() => runCli(["backup", "verify", "--dir", dir]))
        assert.strictEqual(bad.status, 1, bad.stdout)
        assert.include(bad.stdout, "Checksum FAILED")
        const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
          [["backup", "create", "--database-url", url, "--table", "nope", "--dir", dir], "table \"nope\" does not exist"],
          [["backup", "create", "--database-url", "postgres://postgres@127.0.0.1:1/x", "--dir", dir], "cannot reach"],
          [["backup", "create", "--database-url", "pglite://memory", "--dir", dir], "in-memory embedded database"],
          [["backup", "verify", "--dir", join(dir, "none")], "no backup manifest"],
          [["backup", "restore-test", "--manifest", join(dir, "missing.manifest.json"), "--database-url", url], "cannot read"]
        ]
        const results = yield* Effect.forEach(cases, ([args]) => Effect.promise(() => runCli(args)), { concurrency: 3 })
        cases.forEach(([args, message], i) => {
          assert.strictEqual(results[i]!.status, 2, `${args.join(" ")}\n${results[i]!.stdout}${results[i]!.stderr}`)
          assert.include(results[i]!.stderr, message)
        })
      }).pipe(Effect.scoped), 90_000)
  })

  it.live("embedded database: dumpDataDir backup, verify, in-memory restore test, and the gate accepts it", () =>
    Effect.gen(function*() {
      const root = yield* tempDir("stage-bk-emb-")
      const dataDir = join(root, "db")
      const dir = join(root, "backups")
      const url = `pglite://${dataDir}`
      const table = yield* createScalarTable("bk_emb", scalarRows(120)).pipe(
        Effect.provide(layerEmbedded({ dataDir })),
        Effect.scoped,
        Effect.orDie
      )
      const created = yield* Effect.promise(() => runCli(["backup", "create", "--database-url", url, "--table", table, "--dir", dir]))
      assert.strictEqual(created.status, 0, created.stdout + created.stderr)
      assert.include(created.stdout, "pglite-datadir")
      const verified = yield* Effect.promise(() => runCli(["backup", "verify", "--dir", dir]))
      assert.strictEqual(verified.status, 0, verified.stdout + verified.stderr)
      const tested = yield* Effect.promise(() => runCli(["backup", "restore-test", "--dir", dir]))
      assert.strictEqual(tested.status, 0, tested.stdout + tested.stderr)
      assert.include(tested.stdout, "Restore test PASSED")
      const applied = yield* Effect.promise(() =>
        runCli(["migrate", "--database-url", url, "--table", table, "--apply", "--backup-dir", dir, "--sleep-ms", "0"])
      )
      assert.strictEqual(applied.status, 0, applied.stdout + applied.stderr)
      assert.match(applied.stdout, /backup: .*manifest\.json/)
    }).pipe(Effect.scoped), { timeout: 120_000 })
})
