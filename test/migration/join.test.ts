/**
 * `migrate --apply --join RUN` (issue 28): a joiner inherits the joined run's settings and its
 * backup verdict. Child processes against a scratch database on the real PostgreSQL: a run
 * started with a fresh, restore-tested backup, fixed batches of 10 and a 300 ms pause; a joiner
 * with no backup and no sizing flags joins it (the gate is not run again, the summary reports the
 * run's verdict, its batches stay 10 rows, the run's pause stays 300 ms); a joiner giving a
 * setting that differs from the run's is refused with exit 2 and one line; `--join` of a finished
 * run says there is none to join instead of asking for a backup.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli, startCli } from "./support/Cli.ts"
import { layerScratchPostgres, requirePostgres, ScratchDatabase } from "./support/Databases.ts"
import { createScalarTable, scalarRows } from "./support/Fixtures.ts"

const cli = (args: ReadonlyArray<string>) => Effect.promise(() => runCli(args))

/** The one line of a refusal: the non-empty stderr lines besides the `ERROR` heading. */
const refusalLines = (stderr: string) => stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "" && l !== "ERROR")

describe("migrate --join", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)
  layer(layerScratchPostgres("join"), { timeout: "90 seconds", excludeTestServices: true })("real PostgreSQL", (it) => {
    it.effect("a joiner with no backup or sizing flags joins a gated run with its settings; a differing flag is refused (exit 2, one line)", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const sql = yield* SqlClient.SqlClient
        const table = yield* createScalarTable("cli_joiner", scalarRows(300))
        const backups = mkdtempSync(join(tmpdir(), "stage-join-backups-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(backups, { recursive: true, force: true })))
        const created = yield* cli(["backup", "create", "--database-url", url, "--table", table, "--dir", backups])
        assert.strictEqual(created.status, 0, created.stderr)
        const tested = yield* cli(["backup", "restore-test", "--database-url", url, "--dir", backups, "--table", table])
        assert.strictEqual(tested.status, 0, tested.stdout + tested.stderr)

        const target = ["migrate", "--database-url", url, "--table", table, "--apply"]
        const first = startCli([...target, "--backup-dir", backups, "--batch-size", "10", "--no-adaptive", "--sleep-ms", "300"])
        yield* Effect.promise(() => first.waitForEvents((e) => e["event"] === "BatchCompleted"))
        const runId = String(first.events().find((e) => e["event"] === "RunStarted")?.["runId"])

        // no --backup-dir (the default dir has no backup of this table), no sizing flags
        const joiner = startCli([...target, "--join", runId])
        const [biggerBatches, shorterLease] = yield* Effect.all([
          cli([...target, "--join", runId, "--batch-size", "50"]),
          cli([...target, "--join", runId, "--lease-ms", "5000"])
        ], { concurrency: 2 })
        assert.strictEqual(biggerBatches.status, 2, biggerBatches.stdout + biggerBatches.stderr)
        assert.deepStrictEqual(refusalLines(biggerBatches.stderr), [
          `--batch-size 50 differs from run ${runId}'s 10: a joiner takes the run's settings — leave the flag out ` +
          `(--sleep-ms and --max-rows-per-second retune the whole run)`
        ])
        assert.strictEqual(shorterLease.status, 2, shorterLease.stdout + shorterLease.stderr)
        assert.include(shorterLease.stderr, `--lease-ms 5000 differs from run ${runId}'s 30000`)

        yield* Effect.promise(() => joiner.waitForEvents((e) => e["event"] === "BatchCompleted"))
        const pause = yield* sql<{ sleep_ms: number }>`SELECT sleep_ms FROM stage_migration_control WHERE run_id = ${runId}::bigint`
        assert.deepStrictEqual(pause, [{ sleep_ms: 300 }], "the joiner kept the run's pause")
        yield* sql`UPDATE stage_migration_control SET sleep_ms = 0 WHERE run_id = ${runId}::bigint` // finish quickly
        const [joined, exit] = yield* Effect.promise(() => Promise.all([joiner.exit, first.exit]))
        assert.strictEqual(joined.code, 0, joiner.stdout() + joiner.stderr())
        assert.strictEqual(exit.code, 0, first.stderr())
        assert.match(joiner.stdout(), new RegExp(`Run ${runId} succeeded \\(resumed\\)`))
        assert.match(joiner.stdout(), new RegExp(`backup: .*\\.manifest\\.json \\(.* old when run ${runId} started, restore-tested `))
        const joinerBatches = joiner.events().filter((e) => e["event"] === "BatchCompleted")
        assert.isAbove(joinerBatches.length, 0)
        for (const b of joinerBatches) assert.deepStrictEqual([b["scanned"], b["nextBatchSize"]], [10, 10], "the run's fixed batches of 10")
        const largest = yield* sql<{ largest: number }>`
          SELECT max(rows_scanned)::int AS largest FROM stage_migration_batches WHERE run_id = ${runId}::bigint`
        assert.deepStrictEqual(largest, [{ largest: 10 }], "every batch of the run, the joiner's included, is 10 rows")

        // the run is over: joining it is refused as such, not with a backup demand
        const late = yield* cli([...target, "--join", runId])
        assert.strictEqual(late.status, 2, late.stdout + late.stderr)
        assert.deepStrictEqual(refusalLines(late.stderr), [`run ${runId} is not an incomplete run of public.${table}.stage: there is none to join`])
      }))
  })
})
