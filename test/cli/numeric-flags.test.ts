/**
 * Numeric flags as an operator hits them, through child processes: a value out of range or not
 * an integer — in either flag form, `--flag value` or `--flag=value` — exits 2 before any
 * connection (the database URL given is unreachable), prints nothing on stdout (no help) and one
 * error message naming the flag, its range and the value, then a hint; a valid value gets past the
 * parser. On a scratch database: an out-of-range `migrate --apply` writes nothing, and the upper
 * bounds are ones PostgreSQL takes (a run at int4 max batch size and timeouts succeeds).
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { INT4_MAX, parseIntegerInRange, rangeMessage } from "../../src/cli/NumericFlags.ts"
import { layerScratchPostgres, requirePostgres, ScratchDatabase } from "../migration/support/Databases.ts"
import { createScalarTable, scalarRows, snapshot } from "../migration/support/Fixtures.ts"
import { type CliRun, runCliAsync } from "./run-cli.ts"

const UNREACHABLE = "postgres://postgres@127.0.0.1:1/unreachable"
const INT8_MAX = "9223372036854775807"

/** Runs every invocation, three at a time (the machines running the suite have two CPUs). */
const runAll = async (invocations: ReadonlyArray<ReadonlyArray<string>>): Promise<ReadonlyArray<CliRun>> => {
  const results: Array<CliRun> = []
  for (let i = 0; i < invocations.length; i += 3) {
    results.push(...await Promise.all(invocations.slice(i, i + 3).map((args) => runCliAsync(args, { DATABASE_URL: "" }))))
  }
  return results
}

interface FlagCase {
  /** The command and the flags it needs besides the one tested. */
  readonly command: ReadonlyArray<string>
  readonly flag: string
  readonly min: string
  readonly max: string
  /** Rejected values; every one is tried in both flag forms. */
  readonly values: ReadonlyArray<string>
}

const migrate = ["migrate", "--database-url", UNREACHABLE]
const rollback = ["rollback", "--database-url", UNREACHABLE, "--run", "1"]
const verify = ["verify", "--database-url", UNREACHABLE]
const serve = ["serve", "--database-url", "mysql://not-reached"]
const promote = ["promote", "--prometheus-url", "http://127.0.0.1:1", "--dry-run"]
const int4 = String(INT4_MAX)

const cases: ReadonlyArray<FlagCase> = [
  { command: migrate, flag: "batch-size", min: "1", max: int4, values: ["2147483648", "-1", "0", "abc", "1.5", ""] },
  { command: [...migrate, "--apply", "--no-backup-check"], flag: "batch-size", min: "1", max: int4, values: ["2147483648"] },
  { command: migrate, flag: "max-batch-size", min: "1", max: int4, values: ["2147483648", "1e3"] },
  { command: migrate, flag: "sleep-ms", min: "0", max: int4, values: ["-1", "0x10"] },
  { command: migrate, flag: "statement-timeout-ms", min: "1", max: int4, values: ["99999999999", "0"] },
  { command: migrate, flag: "max-replication-lag-ms", min: "0", max: int4, values: ["2147483648"] },
  { command: rollback, flag: "batch-size", min: "1", max: int4, values: ["2147483648", "0", "abc"] },
  { command: rollback, flag: "sleep-ms", min: "0", max: int4, values: ["-1"] },
  { command: ["rollback", "--database-url", UNREACHABLE], flag: "run", min: "1", max: INT8_MAX, values: ["9223372036854775808", "abc"] },
  { command: verify, flag: "sample-size", min: "0", max: "1000000", values: ["1000001", "-1", "1.5"] },
  { command: verify, flag: "run", min: "1", max: INT8_MAX, values: ["0"] },
  { command: serve, flag: "port", min: "0", max: "65535", values: ["65536", "-1", "http"] },
  { command: promote, flag: "to", min: "0", max: "100", values: ["101", "-1", "50%"] },
  { command: promote, flag: "windows", min: "1", max: "1000", values: ["0", "1001"] },
  { command: promote, flag: "window-seconds", min: "1", max: int4, values: ["2147483648"] }
]

const cli = (args: ReadonlyArray<string>) => Effect.promise(() => runCliAsync(args, { DATABASE_URL: "" }))

const invocations = cases.flatMap((c) =>
  c.values.flatMap((value) => [
    { c, value, args: [...c.command, `--${c.flag}`, value] },
    { c, value, args: [...c.command, `--${c.flag}=${value}`] }
  ])
)

describe("numeric flags", () => {
  it("parseIntegerInRange takes decimal integers within the range only", () => {
    assert.strictEqual(parseIntegerInRange("100", 1, INT4_MAX), 100)
    assert.strictEqual(parseIntegerInRange("2147483647", 1, INT4_MAX), INT4_MAX)
    assert.strictEqual(parseIntegerInRange("-0", 0, 10), 0)
    assert.strictEqual(parseIntegerInRange("+7", 0, 10), 7)
    for (const raw of ["2147483648", "0", "-1", "abc", "1.5", "", " 5", "1e3", "0x10", "1_000", "9".repeat(400)]) {
      assert.isUndefined(parseIntegerInRange(raw, 1, INT4_MAX), raw)
    }
    assert.strictEqual(
      rangeMessage("batch-size", 1, INT4_MAX, "abc"),
      "--batch-size must be an integer between 1 and 2147483647, got \"abc\""
    )
  })

  it("a value out of range or not an integer exits 2, stdout empty, one message on stderr, in both flag forms", async () => {
    const results = await runAll(invocations.map((i) => i.args))
    invocations.forEach(({ args, c, value }, i) => {
      const r = results[i]!
      const label = args.join(" ")
      assert.strictEqual(r.status, 2, `${label}\n${r.stdout}\n${r.stderr}`)
      assert.strictEqual(r.stdout, "", `${label}: stdout must stay empty (no help)`)
      const message = `--${c.flag} must be an integer between ${c.min} and ${c.max}, got ${JSON.stringify(value)}`
      const lines = r.stderr.split("\n").filter((line) => line.trim() !== "")
      assert.deepStrictEqual(lines, ["ERROR", `  ${message}`, `run \`stage-normalization ${c.command[0]} --help\` for usage`], label)
    })
  }, 180_000)

  it("other parse errors print no help either; --help still does", async () => {
    const [unknown, missing, help] = await runAll([
      ["rollback", "--run", "1", "--no-such-flag"],
      ["migrate", "--batch-size"],
      ["migrate", "--help"]
    ])
    for (const r of [unknown!, missing!]) {
      assert.strictEqual(r.status, 2, r.stderr)
      assert.strictEqual(r.stdout, "")
    }
    assert.match(unknown!.stderr, /Unrecognized flag: --no-such-flag/)
    assert.match(missing!.stderr, /Missing value for flag --batch-size/)
    assert.strictEqual(help!.status, 0, help!.stderr)
    assert.include(help!.stdout, "--batch-size integer                Rows per batch (initial size when adaptive; default 5,000) [1..2147483647]")
    assert.strictEqual(help!.stderr, "")
  }, 60_000)

  it("a valid value gets past the parser: the command fails later, for another reason", async () => {
    const valid: ReadonlyArray<readonly [ReadonlyArray<string>, number, string]> = [
      [[...migrate, "--batch-size", "100", "--sleep-ms=0", "--statement-timeout-ms", int4], 2, "cannot reach"],
      [[...migrate, "--cancel", "--run=12"], 2, "cannot reach"],
      [[...rollback, "--batch-size=2147483647", "--sleep-ms", "0"], 2, "cannot reach"],
      [[...verify, "--sample-size", "0", "--run", INT8_MAX], 2, "cannot reach"],
      [[...serve, "--port=0"], 2, "the service could not start"],
      [[...promote, "--to", "50", "--windows=1", "--window-seconds", "60"], 3, "inconclusive"]
    ]
    const results = await runAll(valid.map(([args]) => args))
    valid.forEach(([args, status, reason], i) => {
      const r = results[i]!
      const label = args.join(" ")
      assert.strictEqual(r.status, status, `${label}\n${r.stdout}\n${r.stderr}`)
      assert.include(r.stdout + r.stderr, reason, label)
      assert.notInclude(r.stderr, "must be an integer", label)
    })
  }, 120_000)

  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)

  layer(layerScratchPostgres("clinum"), { timeout: "60 seconds", excludeTestServices: true })("on a scratch database", (it) => {
    /** The tracking tables and the SQL twin `migrate --apply` creates first: none may exist. */
    const trackingObjects = Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ name: string }>`
        SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relname LIKE 'stage%'
        UNION ALL SELECT nspname::text FROM pg_namespace WHERE nspname = 'stage_normalization'
        ORDER BY 1`
      return rows.map((r) => r.name)
    })

    it.effect("an out-of-range --apply writes nothing; --batch-size 100 previews; int4 max is what PostgreSQL takes", () =>
      Effect.gen(function*() {
        const { url } = yield* ScratchDatabase
        const table = yield* createScalarTable("clinum", scalarRows(12))
        const target = ["--database-url", url, "--table", table]
        const before = yield* snapshot(table)

        for (const flag of [["--batch-size", "2147483648"], ["--batch-size=-1"], ["--lock-timeout-ms", "2147483648"]]) {
          const r = yield* cli(["migrate", ...target, "--apply", "--no-backup-check", ...flag])
          assert.strictEqual(r.status, 2, `${flag.join(" ")}\n${r.stdout}\n${r.stderr}`)
          assert.strictEqual(r.stdout, "")
          assert.include(r.stderr, `must be an integer between`)
        }
        assert.deepStrictEqual(yield* trackingObjects, [], "an out-of-range value wrote the tracking schema")
        assert.deepStrictEqual(yield* snapshot(table), before)

        const preview = yield* cli(["migrate", ...target, "--batch-size", "100"])
        assert.strictEqual(preview.status, 0, preview.stderr)
        assert.include(preview.stdout, "Dry run — nothing was written")
        assert.include(preview.stdout, "12 rows scanned")
        const paged = yield* cli(["migrate", ...target, "--batch-size=5", "--sleep-ms=0"])
        assert.strictEqual(paged.status, 0, paged.stderr)
        assert.include(paged.stdout, "12 rows scanned")
        assert.deepStrictEqual(yield* trackingObjects, [], "the dry run wrote the tracking schema")

        const applied = yield* cli([
          "migrate", ...target, "--apply", "--no-backup-check", "--json",
          "--batch-size", int4, "--max-batch-size", int4, "--statement-timeout-ms", int4, "--lock-timeout-ms", int4,
          "--stuck-after-ms", int4, "--target-batch-ms", int4, "--max-replication-lag-ms", int4
        ])
        assert.strictEqual(applied.status, 0, `${applied.stdout}\n${applied.stderr}`)
        const summary = JSON.parse(applied.stdout.trim().split("\n").at(-1)!) as { event: string; status: string; runId: string }
        assert.strictEqual(summary.event, "Summary")
        assert.strictEqual(summary.status, "succeeded")
        assert.include(yield* trackingObjects, "stage_migration_runs", "the check above must see what --apply creates")

        const undo = yield* cli(["rollback", "--database-url", url, "--run", summary.runId, "--batch-size", int4, "--sleep-ms", int4])
        assert.strictEqual(undo.status, 0, undo.stderr)
        assert.include(undo.stdout, "Dry run — nothing was written")
        const checked = yield* cli(["verify", "--database-url", url, "--run", summary.runId, "--sample-size", "1000000"])
        assert.notInclude(checked.stderr, "must be an integer", checked.stderr)
        assert.include(checked.stdout, `Verification of run ${summary.runId}`)
      }), { timeout: 120_000 })
  })
})
