/**
 * `migrate --force-unknown` as operators run it (child processes on the real PostgreSQL): the dry
 * run shows what would be forced and writes nothing; `--apply` is refused without a confirmation
 * when there is no terminal (exit 2, nothing written), proceeds with `--confirm-force-unknown`,
 * and on a real terminal (a pty from `script`) proceeds only when CONFIRM is typed. Malformed or
 * invalid mapping files exit 2 naming the problem. Forced rows are audited with their reason, the
 * run's parameters record the mapping and how it was confirmed, `verify --strict` passes and
 * `rollback` restores the table byte-identically.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { runCli } from "./support/Cli.ts"
import { layerScratchPostgres, requirePostgres, ScratchDatabase } from "./support/Databases.ts"
import { createScalarTable, scalarRows, tableChecksum } from "./support/Fixtures.ts"

const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url))
const cli = (args: ReadonlyArray<string>) => Effect.promise(() => runCli(args))
const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`

/** Run the CLI on a pseudo-terminal (`script`), answering `answer` when it asks for CONFIRM. */
const onTerminal = (args: ReadonlyArray<string>, answer: string) =>
  Effect.promise(() =>
    new Promise<{ status: number | null; output: string }>((resolve) => {
      const command = [process.execPath, bin, ...args].map(quote).join(" ")
      const child = spawn("script", ["-qec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } })
      let output = ""
      let answered = false
      const onData = (d: Buffer) => {
        output += d.toString("utf8")
        if (!answered && output.includes("Type CONFIRM to proceed")) {
          answered = true
          child.stdin.write(`${answer}\r`)
        }
      }
      child.stdout.on("data", onData)
      child.stderr.on("data", onData)
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
      // `script` (util-linux) provides the pseudo-terminal; without it the test fails saying so
      child.on("error", (e) => {
        clearTimeout(timer)
        resolve({ status: null, output: `cannot run script(1) for a pseudo-terminal: ${e.message}` })
      })
      child.on("exit", (status) => {
        clearTimeout(timer)
        resolve({ status, output })
      })
    })
  )

describe("migrate --force-unknown", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)
  layer(layerScratchPostgres("force"), { timeout: "60 seconds", excludeTestServices: true })("real PostgreSQL", (it) => {
    it.effect("bad mapping files and missing confirmations exit 2 and write nothing; the dry run shows what would be forced", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const sql = yield* SqlClient.SqlClient
        const dir = mkdtempSync(join(tmpdir(), "stage-map-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        const table = yield* createScalarTable("force_bad", scalarRows(60))
        const before = yield* tableChecksum(table)
        const file = (name: string, text: string) => {
          writeFileSync(join(dir, name), text)
          return join(dir, name)
        }
        const base = ["migrate", "--database-url", url, "--table", table, "--no-backup-check"]
        const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
          [[...base, "--apply", "--force-unknown"], "--confirm-force-unknown when not interactive"],
          [[...base, "--apply", "--force-unknown", "--map", file("broken.json", "{ early")], "broken.json: not valid JSON"],
          [[...base, "--apply", "--force-unknown", "--map", file("target.json", `{"early stage": "Series A"}`)], "not a canonical stage"],
          [[...base, "--apply", "--force-unknown", "--map", file("known.json", `{"growth": "seed"}`)], "already normalised to series-c+"],
          [[...base, "--apply", "--force-unknown", "--map", join(dir, "missing.json")], "missing.json: cannot read it"],
          [[...base, "--apply", "--map", file("ok.json", `{"early stage": "seed"}`)], "--map only goes with --force-unknown"],
          [[...base, "--apply", "--confirm-force-unknown"], "--confirm-force-unknown only goes with --force-unknown"]
        ]
        const results = yield* Effect.forEach(cases, ([args]) => cli(args), { concurrency: 4 })
        cases.forEach(([args, message], i) => {
          const r = results[i]!
          assert.strictEqual(r.status, 2, `${args.join(" ")}\n${r.stdout}${r.stderr}`)
          assert.include(r.stderr, message, args.join(" "))
        })
        assert.strictEqual(yield* tableChecksum(table), before)
        const tracked = yield* sql<{ ok: boolean }>`SELECT to_regclass('stage_migration_runs') IS NULL AS ok`
        assert.isTrue(tracked[0]!.ok, "nothing written, not even the tracking schema")

        const dry = yield* cli([...base, "--force-unknown", "--map", join(dir, "ok.json")])
        assert.strictEqual(dry.status, 0, dry.stderr)
        assert.match(dry.stdout, /"early stage"\s+seed\s+[\d,]+\s+FORCED \(forced:map\)/)
        assert.match(dry.stdout, /"serie a"\s+series-a\s+[\d,]+\s+FORCED \(forced:edit-distance-1\)/)
        assert.match(dry.stdout, /row\(s\) would be updated \([\d,]+ forced\)/)
        assert.strictEqual(yield* tableChecksum(table), before)
      }).pipe(Effect.scoped))

    it.effect("--confirm-force-unknown applies: forced rows audited with their reason, parameters recorded; verify --strict passes; rollback is byte-identical", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const sql = yield* SqlClient.SqlClient
        const dir = mkdtempSync(join(tmpdir(), "stage-map-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        const map = join(dir, "map.json")
        writeFileSync(map, `{"early stage": "seed"}`)
        const table = yield* createScalarTable("force_ok", scalarRows(120))
        const before = yield* tableChecksum(table)
        const applied = yield* cli([
          "migrate", "--database-url", url, "--table", table, "--apply", "--no-backup-check", "--sleep-ms", "0",
          "--force-unknown", "--map", map, "--confirm-force-unknown"
        ])
        assert.strictEqual(applied.status, 0, applied.stdout + applied.stderr)
        assert.include(applied.stdout, "Forced by --force-unknown")
        const runId = /Run (\d+) succeeded/.exec(applied.stdout)![1]!
        const reasons = yield* sql<{ reason: string; old_value: string; new_value: string; n: number }>`
          SELECT reason, old_value, new_value, count(*)::int AS n FROM stage_normalization_log
          WHERE run_id = ${runId}::bigint AND reason LIKE 'forced:%' GROUP BY 1, 2, 3 ORDER BY 1`
        assert.deepStrictEqual(reasons.map((r) => [r.reason, r.old_value, r.new_value]), [
          ["forced:edit-distance-1", "serie a", "series-a"],
          ["forced:map", "early stage", "seed"]
        ])
        const params = yield* sql<{ by: string; file: string; map: string }>`
          SELECT parameters ->> 'forceUnknownConfirmedBy' AS by, parameters ->> 'forceUnknownMapFile' AS file,
                 parameters -> 'forceUnknown' -> 'map' ->> 'early stage' AS map
          FROM stage_migration_runs WHERE run_id = ${runId}::bigint`
        assert.deepStrictEqual(params[0], { by: "--confirm-force-unknown", file: map, map: "seed" })
        const verified = yield* cli(["verify", "--database-url", url, "--run", runId, "--strict", "--output", join(dir, "r.json")])
        assert.strictEqual(verified.status, 0, verified.stdout + verified.stderr)
        const undone = yield* cli(["rollback", "--database-url", url, "--run", runId, "--apply", "--sleep-ms", "0"])
        assert.strictEqual(undone.status, 0, undone.stdout + undone.stderr)
        assert.strictEqual(yield* tableChecksum(table), before)
      }).pipe(Effect.scoped))

    it.effect("on a terminal: typing CONFIRM applies, anything else refuses (exit 2, nothing written)", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const sql = yield* SqlClient.SqlClient
        const table = yield* createScalarTable("force_tty", scalarRows(60))
        const before = yield* tableChecksum(table)
        const args = ["migrate", "--database-url", url, "--table", table, "--apply", "--no-backup-check", "--sleep-ms", "0", "--force-unknown"]
        const refused = yield* onTerminal(args, "yes")
        assert.strictEqual(refused.status, 2, refused.output)
        assert.include(refused.output, "WARNING: --force-unknown")
        assert.include(refused.output, "was not confirmed")
        assert.strictEqual(yield* tableChecksum(table), before)
        const confirmed = yield* onTerminal(args, "CONFIRM")
        assert.strictEqual(confirmed.status, 0, confirmed.output)
        assert.match(confirmed.output, /Run \d+ succeeded/)
        const by = yield* sql<{ by: string }>`
          SELECT parameters ->> 'forceUnknownConfirmedBy' AS by FROM stage_migration_runs
          WHERE target_table = ${"public." + table} ORDER BY run_id DESC LIMIT 1`
        assert.strictEqual(by[0]!.by, "typed CONFIRM on a terminal")
      }), { timeout: 60_000 })
  })
})
