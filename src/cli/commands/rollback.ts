/**
 * `stage-normalization rollback --run ID [--batch ID] [--apply]`: undo a normalisation run from
 * its audit. **Dry run by default**: what would be restored, what was already restored, and the
 * rows changed since the run that would be left alone. `--apply` restores in batches (audited as a
 * run of its own, resumable: `--apply` again continues an interrupted rollback; SIGINT pauses
 * after the current batch).
 *
 * Exit codes: 0 restored (or paused), 1 the rollback failed, or left rows alone because they
 * changed since the run (listed; never clobbered), 2 bad input (no such run or batch, a run still
 * in progress, a busy target, unreachable database).
 *
 * @since 0.1.0
 */
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import type { MigrationEvent } from "../../migration/MigrationEvent.ts"
import { makeProgressReporter } from "../../migration/run/ProgressReporter.ts"
import { rollback, type RollbackSummary } from "../../migration/rollback/Rollback.ts"
import { CliExitCode } from "../CliInputError.ts"
import { databaseUrlFlag, requireDatabaseUrl, withDatabase } from "../CommandDatabase.ts"
import { idFlag, INT4_MAX, intFlag } from "../NumericFlags.ts"
import { gracefulSignals } from "../StopSignals.ts"
import { renderTable } from "../Table.ts"

const int = new Intl.NumberFormat("en-US")

const clip = (s: string | null): string => (s === null ? "NULL" : s.length > 60 ? `${JSON.stringify(s.slice(0, 57))}…` : JSON.stringify(s))

const conflictTable = (s: RollbackSummary): string =>
  renderTable(
    ["pk", "the run wrote", "the row holds now"],
    s.conflictList.map((c) => [c.pk, clip(c.expected), c.missing ? "(row deleted)" : clip(c.found)])
  )

/**
 * The summary as text for people.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderRollback = (s: RollbackSummary): string => {
  const scope = `run ${s.sourceRunId}${s.batchId === null ? "" : ` (batch ${s.batchId})`} on ${s.target}.${s.column} (${s.kind})`
  const lines: Array<string> = []
  if (s.status === "dry-run") {
    lines.push(
      `Dry run — nothing was written. Rolling back ${scope}:`,
      `  ${int.format(s.auditRows)} audited row(s): ${int.format(s.restored)} would be restored, ` +
        `${int.format(s.alreadyRestored)} already restored, ${int.format(s.conflicts)} changed since the run (left alone)`
    )
  } else {
    lines.push(
      `Rollback run ${s.rollbackRunId} ${s.status}${s.resumed ? " (resumed)" : ""}: ${scope}`,
      `  ${int.format(s.restored)} row(s) restored, ${int.format(s.alreadyRestored)} already restored before, ` +
        `${int.format(s.conflicts)} changed since the run (left alone), ${int.format(s.batches)} batch(es)`
    )
    if (s.error !== null) lines.push(`  error: ${s.error}`)
  }
  if (s.conflictList.length > 0) {
    lines.push("", "Changed since the run — never overwritten:", conflictTable(s))
    if (s.conflicts > s.conflictList.length) lines.push(`  … ${int.format(s.conflicts - s.conflictList.length)} more`)
    if (s.rollbackRunId !== null) lines.push(`  (all of them: SELECT * FROM stage_rollback_conflicts WHERE run_id = ${s.rollbackRunId})`)
  }
  if (s.status === "dry-run") lines.push("", "Run again with --apply to restore (each restored row is audited).")
  if (s.status === "paused" || s.status === "failed") lines.push("", `Continue with: stage-normalization rollback --run ${s.sourceRunId} --apply`)
  return lines.join("\n")
}

/**
 * @since 0.1.0
 * @category commands
 */
export const rollbackCommand = Command.make(
  "rollback",
  {
    databaseUrl: databaseUrlFlag(),
    run: idFlag("run", { description: "The normalisation run to undo" }),
    batch: idFlag("batch", { description: "Only this batch of the run" }).pipe(Flag.optional),
    apply: Flag.Boolean("apply").pipe(Flag.withDescription("Restore (default: dry run, nothing written)"), Flag.withDefault(false)),
    batchSize: intFlag("batch-size", { min: 1, max: INT4_MAX, description: "Audit rows per batch" }).pipe(Flag.withDefault(1_000)),
    sleepMs: intFlag("sleep-ms", { min: 0, max: INT4_MAX, description: "Pause between a worker's batches" }).pipe(Flag.withDefault(100)),
    workers: intFlag("workers", { min: 1, max: 64, description: "Workers in this process, one connection each (run it elsewhere too to add more)" }).pipe(
      Flag.withDefault(1)
    ),
    leaseMs: intFlag("lease-ms", { min: 1, max: INT4_MAX, description: "A claimed batch stays a worker's this long without renewal" }).pipe(
      Flag.withDefault(30_000)
    ),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Events and summary as JSON lines on stdout"), Flag.withDefault(false))
  },
  Effect.fnUntraced(function*(f) {
    const url = yield* requireDatabaseUrl(f.databaseUrl, "rollback")
    const reporter = makeProgressReporter({
      tty: !f.json && process.stderr.isTTY === true,
      write: (text) => (f.json ? process.stdout.write(text) : process.stderr.write(text))
    })
    const summary = yield* withDatabase(
      url,
      "stage-normalization rollback",
      Effect.gen(function*() {
        const signals = yield* gracefulSignals
        return yield* rollback({
          runId: f.run,
          batchId: Option.getOrUndefined(f.batch),
          apply: f.apply,
          batchSize: f.batchSize,
          sleepMs: f.sleepMs,
          workers: f.workers,
          leaseMs: f.leaseMs,
          onEvent: (event: MigrationEvent) => reporter.onEvent(event),
          shouldStop: signals.requested
        })
      }),
      f.workers
    )
    yield* reporter.done
    yield* Console.log(f.json ? JSON.stringify({ event: "RollbackSummary", ...summary }) : renderRollback(summary))
    if (summary.status === "failed") {
      return yield* new CliExitCode({ code: 1, reason: `rollback of run ${summary.sourceRunId} failed: ${summary.error ?? "unknown error"}` })
    }
    if (summary.status !== "dry-run" && summary.status !== "paused" && summary.conflicts > 0) {
      return yield* new CliExitCode({
        code: 1,
        reason: `${summary.conflicts} row(s) changed since run ${summary.sourceRunId} were left as they are (listed above)`
      })
    }
  })
).pipe(
  Command.withDescription("Undo a migration run from its audit, only where rows still hold what the run wrote (dry run by default)"),
  Command.withExamples([
    { command: "stage-normalization rollback --run 12", description: "What would be restored, and what changed since" },
    { command: "stage-normalization rollback --run 12 --apply", description: "Restore (audited, resumable)" },
    { command: "stage-normalization rollback --run 12 --batch 345 --apply", description: "One batch only" },
    { command: "stage-normalization rollback --run 12 --apply --workers 4", description: "Four workers" }
  ])
)
