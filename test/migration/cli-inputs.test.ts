/**
 * The CLI's inputs that need the database to be judged (issue 25, defect 9), on the real
 * PostgreSQL: a `--fund-id` with no rows in the target is refused (exit 2, one line) before any
 * run exists; `backup create --dir <a file>/sub` is bad input (exit 2), not an internal error; the
 * `--force-unknown` dry run does not force a Cyrillic `sеed` or a `series-a` with a zero-width
 * space, lists them apart (escaped), and a `--map` naming one forces it.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCliAsync } from "../cli/run-cli.ts"
import { layerScratchPostgres, requirePostgres, ScratchDatabase } from "./support/Databases.ts"
import { createScalarTable, scalarRows, tableChecksum } from "./support/Fixtures.ts"

const cli = (args: ReadonlyArray<string>) => Effect.promise(() => runCliAsync(args, { DATABASE_URL: undefined }))

describe("CLI inputs judged against the database", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)
  layer(layerScratchPostgres("cli_inputs"), { timeout: "60 seconds", excludeTestServices: true })("real PostgreSQL", (it) => {
    it.effect("an unknown --fund-id and an uncreatable backup --dir exit 2 with one line; nothing is written", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const sql = yield* SqlClient.SqlClient
        const table = yield* createScalarTable("cli_fund", scalarRows(40))
        const before = yield* tableChecksum(table)
        const dir = mkdtempSync(join(tmpdir(), "cli-inputs-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        writeFileSync(join(dir, "a-file"), "")
        const base = ["migrate", "--database-url", url, "--table", table]
        const [dry, apply, known, backup] = yield* Effect.all([
          cli([...base, "--fund-id", "999"]),
          cli([...base, "--fund-id", "999", "--apply", "--no-backup-check"]),
          cli([...base, "--fund-id", "1"]),
          cli(["backup", "create", "--database-url", url, "--table", table, "--dir", join(dir, "a-file", "sub")])
        ], { concurrency: "unbounded" })
        for (const run of [dry, apply]) {
          assert.strictEqual(run.status, 2, run.stdout + run.stderr)
          assert.include(run.stderr, `no rows for fund "999" in public.${table}.fund_id`)
        }
        assert.strictEqual(known.status, 0, known.stderr)
        assert.strictEqual(backup.status, 2, backup.stderr)
        assert.include(backup.stderr, "cannot create the backup directory")
        assert.include(backup.stderr, "ENOTDIR")
        assert.strictEqual(yield* tableChecksum(table), before)
        const runs = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'stage_normalization_runs'`
        if (runs[0]!.n > 0) {
          const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM stage_normalization_runs`
          assert.strictEqual(rows[0]!.n, 0, "no run was opened")
        }
      }))

    it.effect("--force-unknown never forces look-alikes by edit distance: listed apart, escaped; --map names them", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const table = yield* createScalarTable("cli_look", [
          { id: 1, fund: 1, stage: "s\u0435ed" },
          { id: 2, fund: 1, stage: "series\u200b-a" },
          { id: 3, fund: 1, stage: "serie a" }
        ])
        const dir = mkdtempSync(join(tmpdir(), "cli-look-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        const map = join(dir, "map.json")
        writeFileSync(map, JSON.stringify({ "s\u0435ed": "seed" }))
        const base = ["migrate", "--database-url", url, "--table", table, "--force-unknown"]
        const [rule, named] = yield* Effect.all([cli(base), cli([...base, "--map", map])], { concurrency: "unbounded" })
        assert.strictEqual(rule.status, 0, rule.stderr)
        assert.match(rule.stdout, /"serie a"\s+series-a\s+1\s+FORCED \(forced:edit-distance-1\)/)
        assert.include(rule.stdout, "Not forced — non-ASCII or invisible characters (look-alikes?); name them in --map to force them:")
        assert.include(rule.stdout, `"s\\u0435ed" (1 rows), looks like seed`)
        assert.include(rule.stdout, `"series\\u200b-a" (1 rows), looks like series-a`)
        assert.include(rule.stdout, "1 row(s) would be updated (1 forced)")
        assert.strictEqual(named.status, 0, named.stderr)
        assert.match(named.stdout, /"s\\u0435ed"\s+seed\s+1\s+FORCED \(forced:map\)/)
        assert.include(named.stdout, "2 row(s) would be updated (2 forced)")
      }))
  })
})
