/**
 * `stage-normalization verify`: the nine checks of a migration run — `--run ID`, or the latest
 * run of `--table/--column` — as a table on stdout, and as JSON with `--output report.json`
 * (schema: `docs/verify-report.schema.json`, printed by `--print-schema`) or `--json`.
 *
 * Exit codes: 0 verified, 1 a check failed (with `--strict`: or warned), 2 bad input (no such run,
 * table or fund, unreachable database, unwritable output). A passing verification of a whole run
 * sets its `verified_at` (which the rollout's finalisation guard reads); a failing one clears it.
 *
 * @since 0.1.0
 */
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { writeFile } from "node:fs/promises"
import { verify } from "../../migration/verify/Verify.ts"
import { encodeReport, type VerifyReport, verifyReportJsonSchema } from "../../migration/verify/VerifyReport.ts"
import { CliExitCode, CliInputError } from "../CliInputError.ts"
import { databaseUrlFlag, requireDatabaseUrl, withDatabase } from "../CommandDatabase.ts"
import { idFlag, intFlag } from "../NumericFlags.ts"
import { renderTable } from "../Table.ts"
import { optionalTableColumnFlags } from "../TargetFlags.ts"

/** What `verify` itself accepts for the sample (it refuses more). */
const MAX_SAMPLE_SIZE = 1_000_000

const STATUS = { pass: "PASS", warn: "WARN", fail: "FAIL", skipped: "skip" } as const

const clip = (s: string | null, max = 48): string =>
  s === null ? "NULL" : s.length > max ? `${JSON.stringify(s.slice(0, max - 3))}…` : JSON.stringify(s)

/**
 * The report as text for people.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderReport = (r: VerifyReport): string => {
  const lines = [
    `Verification of run ${r.run.runId}: ${r.run.target}.${r.run.column} (${r.run.kind}), run ${r.run.status}` +
    `${r.run.finishedAt === null ? "" : ` at ${r.run.finishedAt}`}` +
    `${r.scope.fundId === null ? "" : `, fund ${r.scope.fundId} only`}${r.scope.strict ? ", strict" : ""}`,
    "",
    renderTable(["#", "check", "status", "summary"], r.checks.map((c) => [String(c.id), c.name, STATUS[c.status], c.summary]))
  ]
  for (const c of r.checks) {
    if (c.examples.length === 0 || c.status === "pass" || c.status === "skipped") continue
    lines.push("", `${c.id}. ${c.title} — examples:`)
    lines.push(renderTable(
      ["pk", "found", "expected", "note"],
      c.examples.slice(0, 5).map((e) => [e.pk ?? "", clip(e.value), e.expected === null ? "" : clip(e.expected), e.note])
    ))
    if (c.examples.length > 5) lines.push(`  … ${c.examples.length - 5} more in the JSON report (--output)`)
  }
  if (r.funds.length > 0) {
    lines.push("", "Per fund:", renderTable(
      ["fund", "rows (start → now)", "NULLs", "non-canonical", "updated", "status", "note"],
      r.funds.map((f) => [
        f.fundId ?? "(none)",
        `${f.baseline?.rows ?? "—"} → ${f.current.rows}`,
        `${f.baseline?.nulls ?? "—"} → ${f.current.nulls}`,
        `${f.baseline?.nonCanonical ?? "—"} → ${f.current.nonCanonical ?? "—"}`,
        String(f.updated),
        STATUS[f.status],
        f.note
      ])
    ))
  }
  const s = r.summary
  lines.push(
    "",
    `${s.ok ? "VERIFIED" : "NOT VERIFIED"}: ${s.passed} passed, ${s.warnings} warning(s), ${s.failed} failed, ${s.skipped} skipped` +
      (s.markedVerified ? `; run ${r.run.runId} marked verified at ${s.verifiedAt}` : "") +
      (!s.ok && r.scope.strict && s.failed === 0 ? " (warnings fail under --strict)" : "")
  )
  return lines.join("\n")
}

/**
 * @since 0.1.0
 * @category commands
 */
export const verifyCommand = Command.make(
  "verify",
  {
    databaseUrl: databaseUrlFlag(),
    run: idFlag("run", { description: "Run id (default: the latest run of --table/--column)" }).pipe(Flag.optional),
    ...optionalTableColumnFlags({ table: "Table (default portfolio_companies)", column: "Column (default stage)" }),
    fundId: Flag.String("fund-id").pipe(Flag.withDescription("Verify one fund only (records nothing on the run)"), Flag.optional),
    sampleSize: intFlag("sample-size", { min: 0, max: MAX_SAMPLE_SIZE, description: "Rows re-normalised in TypeScript (check 6)" }).pipe(
      Flag.withDefault(100)
    ),
    output: Flag.String("output").pipe(Flag.withDescription("Write the JSON report to this file"), Flag.optional),
    strict: Flag.Boolean("strict").pipe(Flag.withDescription("Fail on warnings too"), Flag.withDefault(false)),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print the JSON report instead of the table"), Flag.withDefault(false)),
    printSchema: Flag.Boolean("print-schema").pipe(
      Flag.withDescription("Print the JSON Schema of the report and exit (no database)"),
      Flag.withDefault(false)
    )
  },
  Effect.fnUntraced(function*(f) {
    if (f.printSchema) return yield* Console.log(JSON.stringify(verifyReportJsonSchema(), null, 2))
    const url = yield* requireDatabaseUrl(f.databaseUrl, "verify")
    if (Option.isSome(f.run) && (Option.isSome(f.table) || Option.isSome(f.column))) {
      return yield* new CliInputError({ message: "give --run or --table/--column, not both" })
    }
    const report = yield* withDatabase(
      url,
      "stage-normalization verify",
      verify({
        runId: Option.getOrUndefined(f.run),
        target: { table: Option.getOrUndefined(f.table), column: Option.getOrUndefined(f.column) },
        fundId: Option.getOrUndefined(f.fundId),
        sampleSize: f.sampleSize,
        strict: f.strict
      })
    )
    const json = yield* encodeReport(report).pipe(
      Effect.mapError((e) => new CliExitCode({ code: 1, reason: `the report does not match its schema: ${e.message}` }))
    )
    if (Option.isSome(f.output)) {
      const path = f.output.value
      yield* Effect.tryPromise({
        try: () => writeFile(path, json),
        catch: (e) => new CliInputError({ message: `cannot write the report to ${path}: ${e instanceof Error ? e.message : String(e)}` })
      })
    }
    yield* Console.log(f.json ? json.trimEnd() : renderReport(report))
    if (Option.isSome(f.output) && !f.json) yield* Console.log(`Report written to ${f.output.value}`)
    if (!report.summary.ok) {
      return yield* new CliExitCode({
        code: 1,
        reason: `run ${report.run.runId} failed verification (${report.summary.failed} failed, ${report.summary.warnings} warning(s)${
          f.strict ? ", strict" : ""
        })`
      })
    }
  })
).pipe(
  Command.withDescription("Verify a migration run: nine checks, a table or a JSON report; exit 1 when one fails"),
  Command.withExamples([
    { command: "stage-normalization verify --table portfolio_companies --column stage", description: "The latest run of a target" },
    { command: "stage-normalization verify --run 12 --strict --output report.json", description: "Strict, with a JSON report" },
    { command: "stage-normalization verify --print-schema > verify-report.schema.json", description: "The report's JSON Schema" }
  ])
)
