/**
 * `stage-normalization migrate`: normalise the stage values stored in a PostgreSQL table.
 *
 * - **Dry run by default**: a read-only scan and a preview (value → canonical stage, rows;
 *   unknown values with suggestions). Nothing is written, not even a run row.
 * - `--apply`: the batched, audited run (resumes the target's incomplete run if there is one);
 *   `--resume` insists on continuing one. A second `--apply` on a busy target is refused (exit 2).
 * - `--join RUN`: more workers for the target's incomplete run RUN, with the run's settings (the
 *   ones recorded when it started; a flag that differs is refused, exit 2, one line — except
 *   `--sleep-ms` / `--max-rows-per-second`, which retune the run) and its backup verdict (no gate).
 * - `--cancel [--run ID]`: cancel a run (the active runner stops after its current batch).
 * - Progress: a bar on stderr when it is a terminal, JSON lines on stderr otherwise; `--json`
 *   prints every event and the final report as JSON lines on stdout instead.
 * - SIGINT / SIGTERM finish the current batch, mark the run paused and exit 0 (a second signal
 *   aborts at once; the batch in flight rolls back). `--apply` again (or `--resume`) continues.
 * - **Backup gate**: a new `--apply` run needs a verified, restore-tested backup of the target
 *   newer than `--max-backup-age` (default 24h) in `--backup-dir` (default `backups`), or
 *   `--no-backup-check` (recorded in the run's parameters). The refusal says what to run.
 * - **`--force-unknown`** maps unknown values to their only suggestion at edit distance 1, and
 *   `--map file.json` (validated against the vocabulary) maps named values. With `--apply` it needs
 *   `CONFIRM` typed on an interactive terminal, or `--confirm-force-unknown` when not interactive.
 *   Forced rows are audited with their reason and reversible by `rollback`.
 *
 * Exit codes: 0 done (or paused/cancelled), 1 the run failed, 2 bad input (unknown table or
 * column, wrong column type, unreachable database, conflicting flags, busy target, malformed
 * mapping file, unconfirmed `--force-unknown`, no fresh backup).
 *
 * @since 0.1.0
 */
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { parseMaxAge } from "../../migration/backup/BackupGate.ts"
import { cancelRun } from "../../migration/run/Cancel.ts"
import type { MigrationEvent } from "../../migration/MigrationEvent.ts"
import { type ForceUnknownOptions, readMappingFile } from "../../migration/run/ForceUnknown.ts"
import { preview } from "../../migration/run/Preview.ts"
import { makeProgressReporter } from "../../migration/run/ProgressReporter.ts"
import { migrate, type MigrateOptions } from "../../migration/run/Runner.ts"
import { batchSizeProblem } from "../../migration/run/RunSettings.ts"
import { redactUrl } from "../../migration/database/Database.ts"
import type { TargetSpec } from "../../migration/schema/Target.ts"
import { CliExitCode, CliInputError } from "../CliInputError.ts"
import { databaseUrlFlag, requireDatabaseUrl, withDatabase } from "../CommandDatabase.ts"
import { confirmForceUnknown, namedLookAlikes, processTerminal } from "../ForceUnknownConfirmation.ts"
import { renderPreview, renderSummary } from "../MigrateReport.ts"
import { idFlag, INT4_MAX, intFlag } from "../NumericFlags.ts"
import { gracefulSignals } from "../StopSignals.ts"
import { targetFlags, toTargetSpec } from "../TargetFlags.ts"

const out = (line: string) => Console.log(line)

/** Row counts (batch sizes) are bound as PostgreSQL `integer`. */
const rows = (name: string, description: string) => intFlag(name, { min: 1, max: INT4_MAX, description })
/** Durations in ms: PostgreSQL timeouts (`statement_timeout`, `lock_timeout`) and Node timers take at most int4. */
const millis = (name: string, min: 0 | 1, description: string) => intFlag(name, { min, max: INT4_MAX, description })

const flags = {
  databaseUrl: databaseUrlFlag("postgres://user@host:5432/db (else DATABASE_URL)"),
  ...targetFlags(),
  kind: Flag.Literals("kind", ["scalar", "distribution"]).pipe(
    Flag.withDescription("scalar (text) or distribution (jsonb); inferred from the column type"),
    Flag.optional
  ),
  batchBy: Flag.Literals("batch-by", ["auto", "id", "fund"]).pipe(
    Flag.withDescription("auto (default): per fund when a (fund, id) index exists, else by id"),
    Flag.optional
  ),
  batchSize: rows("batch-size", "Rows per batch (initial size when adaptive; default 5,000)").pipe(Flag.optional),
  minBatchSize: rows("min-batch-size", "Adaptive lower bound (default 100)").pipe(Flag.optional),
  maxBatchSize: rows("max-batch-size", "Adaptive upper bound (default 50,000)").pipe(Flag.optional),
  targetBatchMs: millis("target-batch-ms", 1, "Adaptive target batch duration (default 1,000)").pipe(Flag.optional),
  adaptive: Flag.Boolean("adaptive").pipe(
    Flag.withDescription("Adapt the batch size towards --target-batch-ms (default; --no-adaptive: fixed size)"),
    Flag.optional
  ),
  sleepMs: millis("sleep-ms", 0, "Pause between a worker's batches (default 100; the run's: a joiner that passes it changes it for all)").pipe(
    Flag.optional
  ),
  workers: intFlag("workers", { min: 1, max: 64, description: "Workers in this process, one connection each" }).pipe(Flag.withDefault(1)),
  join: idFlag("join", {
    description: "Add this process's workers to the target's active run RUN, with the run's settings and backup verdict (a differing setting: exit 2)"
  }).pipe(
    Flag.optional
  ),
  leaseMs: millis("lease-ms", 1, "A claimed batch stays a worker's this long without renewal, then others reclaim it (default 30,000)").pipe(
    Flag.optional
  ),
  maxRowsPerSecond: intFlag("max-rows-per-second", {
    min: 0,
    max: INT4_MAX,
    description: "Ceiling on the rows/s of all the run's workers together, in every process (0 lifts it)"
  }).pipe(Flag.optional),
  workerProgress: Flag.Boolean("worker-progress").pipe(
    Flag.withDescription("A progress line per worker's batch, besides the run's bar"),
    Flag.withDefault(false)
  ),
  fundId: Flag.String("fund-id").pipe(Flag.withDescription("Migrate one fund only"), Flag.optional),
  resume: Flag.Boolean("resume").pipe(Flag.withDescription("Continue the target's incomplete run (with --apply)"), Flag.withDefault(false)),
  apply: Flag.Boolean("apply").pipe(Flag.withDescription("Write (default: dry run, nothing written)"), Flag.withDefault(false)),
  json: Flag.Boolean("json").pipe(Flag.withDescription("Events and report as JSON lines on stdout"), Flag.withDefault(false)),
  statementTimeoutMs: millis("statement-timeout-ms", 1, "Per-statement timeout in a batch; exceeding it splits the batch (default 30,000)").pipe(
    Flag.optional
  ),
  lockTimeoutMs: millis("lock-timeout-ms", 1, "Row-lock wait limit, then retried (default 5,000)").pipe(Flag.optional),
  stuckAfterMs: millis("stuck-after-ms", 1, "A batch running longer is abandoned and retried (default 600,000)").pipe(Flag.optional),
  throttle: Flag.Boolean("throttle").pipe(
    Flag.withDescription("Back off while the database is unhealthy (default; --no-throttle to skip the checks)"),
    Flag.optional
  ),
  maxReplicationLagMs: millis("max-replication-lag-ms", 0, "Back off above this replica lag (default 10,000)").pipe(Flag.optional),
  maxWalMbPerSecond: intFlag("max-wal-mb-per-second", {
    min: 0,
    max: 1_000_000,
    description: "Back off while the server writes WAL faster than this (MiB/s; default 0: not checked)"
  }).pipe(Flag.optional),
  cancel: Flag.Boolean("cancel").pipe(Flag.withDescription("Cancel the target's incomplete run (or --run ID)"), Flag.withDefault(false)),
  backupCheck: Flag.Boolean("backup-check").pipe(
    Flag.withDescription("Require a fresh, verified, restore-tested backup before --apply (--no-backup-check skips it; recorded)"),
    Flag.withDefault(true)
  ),
  backupDir: Flag.String("backup-dir").pipe(Flag.withDescription("Where backups are"), Flag.withDefault("backups")),
  maxBackupAge: Flag.String("max-backup-age").pipe(Flag.withDescription("Oldest acceptable backup (24h, 90m, 2d)"), Flag.withDefault("24h")),
  forceUnknown: Flag.Boolean("force-unknown").pipe(
    Flag.withDescription(
      "Map unknown values to their only suggestion at edit distance 1 (and --map entries); values with non-ASCII or invisible characters only when --map names them; dangerous: confirmed"
    ),
    Flag.withDefault(false)
  ),
  map: Flag.String("map").pipe(
    Flag.withDescription("With --force-unknown: JSON file {\"<stored value>\": \"<canonical stage>\"}"),
    Flag.optional
  ),
  confirmForceUnknown: Flag.Boolean("confirm-force-unknown").pipe(
    Flag.withDescription("Confirm --force-unknown without a terminal (scripts, CI)"),
    Flag.withDefault(false)
  ),
  run: idFlag("run", { description: "Run id for --cancel" }).pipe(Flag.optional)
}

type MigrateFlags = Command.Command.Config.Infer<typeof flags>
type Reporter = ReturnType<typeof makeProgressReporter>

/** `--cancel [--run ID]`: cancel a run; the active runner stops after its current batch. */
const cancel = Effect.fnUntraced(function*(f: MigrateFlags, url: string, spec: TargetSpec) {
  if (f.apply || f.resume) return yield* new CliInputError({ message: "--cancel cannot be combined with --apply or --resume" })
  const outcome = yield* withDatabase(url, "stage-normalization migrate --cancel", cancelRun({ runId: Option.getOrUndefined(f.run), target: spec }))
  if (f.json) return yield* out(JSON.stringify({ event: "Cancel", ...outcome }))
  return yield* out(
    outcome.action === "cancelled"
      ? `Run ${outcome.runId} (${outcome.previousStatus}) cancelled.`
      : `Run ${outcome.runId} is active: cancellation requested; its runner stops after the current batch.`
  )
})

/** Flags that only go with another one, and batch sizes out of order: refused before anything is read. */
const refuseLoneFlags = (f: MigrateFlags): Effect.Effect<void, CliInputError> => {
  const problem = Option.isSome(f.run)
    ? "--run only goes with --cancel"
    : f.resume && !f.apply
    ? "--resume continues an applied run and writes: use --apply --resume"
    : Option.isSome(f.join) && f.resume
    ? "--join adds workers to a run: it does not go with --resume"
    : Option.isSome(f.map) && !f.forceUnknown
    ? "--map only goes with --force-unknown"
    : f.confirmForceUnknown && !f.forceUnknown
    ? "--confirm-force-unknown only goes with --force-unknown"
    : batchSizeProblem({
      batchSize: Option.getOrUndefined(f.batchSize),
      minBatchSize: Option.getOrUndefined(f.minBatchSize),
      maxBatchSize: Option.getOrUndefined(f.maxBatchSize)
    })
  return problem === undefined ? Effect.void : Effect.fail(new CliInputError({ message: problem }))
}

/** What `--force-unknown` (and `--map`, read and validated here) asks for; undefined without it. */
const forceUnknownOf = (f: MigrateFlags): Effect.Effect<ForceUnknownOptions | undefined, CliInputError> => {
  const mapFile = Option.getOrUndefined(f.map)
  if (!f.forceUnknown) return Effect.succeed(undefined)
  if (mapFile === undefined) return Effect.succeed({ editDistance: true })
  return readMappingFile(mapFile).pipe(
    Effect.map((map) => ({ editDistance: true, map })),
    Effect.mapError((e) => new CliInputError({ message: e.message }))
  )
}

const lookAlikeLines = (map: ForceUnknownOptions["map"]): string => {
  const named = namedLookAlikes(map)
  return named.length === 0 ? "" : `\nNamed in the map with non-ASCII or invisible characters (check each):\n${named.map((l) => `  ${l}`).join("\n")}`
}

/** The dry run: a read-only scan and the preview. */
const dryRun = Effect.fnUntraced(function*(
  f: MigrateFlags,
  url: string,
  spec: TargetSpec,
  forceUnknown: ForceUnknownOptions | undefined,
  reporter: Reporter
) {
  const report = yield* withDatabase(
    url,
    "stage-normalization migrate (dry run)",
    preview({
      ...spec,
      fundId: Option.getOrUndefined(f.fundId),
      batchSize: Option.getOrUndefined(f.batchSize),
      sleepMs: Option.getOrUndefined(f.sleepMs),
      onEvent: (event: MigrationEvent) => reporter.onEvent(event),
      forceUnknown
    })
  )
  yield* reporter.done
  return yield* out(f.json ? JSON.stringify({ event: "Preview", ...report }) : renderPreview(report, forceUnknown !== undefined))
})

/**
 * The health thresholds the flags give; `undefined` when none of them is given (the defaults, or
 * the run's when it joins or resumes one).
 */
const healthOf = (f: MigrateFlags): MigrateOptions["health"] => {
  if (Option.isSome(f.throttle) && !f.throttle.value) return false
  if (Option.isNone(f.throttle) && Option.isNone(f.maxReplicationLagMs) && Option.isNone(f.maxWalMbPerSecond)) return undefined
  return {
    maxReplicationLagMs: Option.getOrElse(f.maxReplicationLagMs, () => 10_000),
    maxWalBytesPerSecond: Option.getOrElse(f.maxWalMbPerSecond, () => 0) * 1_048_576
  }
}

/** The runner's options from the flags (all but the target, the confirmation and the signals). */
const runOptions = (f: MigrateFlags, url: string, maxAgeMs: number) => {
  const hint = redactUrl(url) === url && Option.isSome(f.databaseUrl) ? url : "\"$DATABASE_URL\""
  return {
    fundId: Option.getOrUndefined(f.fundId),
    batchBy: Option.getOrUndefined(f.batchBy),
    batchSize: Option.getOrUndefined(f.batchSize),
    minBatchSize: Option.getOrUndefined(f.minBatchSize),
    maxBatchSize: Option.getOrUndefined(f.maxBatchSize),
    targetBatchMs: Option.getOrUndefined(f.targetBatchMs),
    adaptive: Option.getOrUndefined(f.adaptive),
    sleepMs: Option.getOrUndefined(f.sleepMs),
    workers: f.workers,
    joinRunId: Option.getOrUndefined(f.join),
    leaseMs: Option.getOrUndefined(f.leaseMs),
    maxRowsPerSecond: Option.getOrUndefined(f.maxRowsPerSecond),
    resume: f.resume,
    statementTimeoutMs: Option.getOrUndefined(f.statementTimeoutMs),
    lockTimeoutMs: Option.getOrUndefined(f.lockTimeoutMs),
    stuckAfterMs: Option.getOrUndefined(f.stuckAfterMs),
    health: healthOf(f),
    backupCheck: f.backupCheck
      ? { dir: f.backupDir, maxAgeMs, databaseUrlHint: hint }
      : { skip: "--no-backup-check" }
  } satisfies Partial<MigrateOptions>
}

/** `--apply`: confirm `--force-unknown`, then the batched, audited run (paused by SIGINT/SIGTERM). */
const apply = Effect.fnUntraced(function*(
  f: MigrateFlags,
  url: string,
  spec: TargetSpec,
  forceUnknown: ForceUnknownOptions | undefined,
  maxAgeMs: number,
  reporter: Reporter
) {
  const mapFile = Option.getOrUndefined(f.map)
  const confirmedBy = forceUnknown === undefined ? undefined : yield* confirmForceUnknown({
    flag: f.confirmForceUnknown,
    description: `maps unknown stage values of ${f.table}.${f.column} onto canonical stages` +
      (mapFile === undefined ? "" : ` — the ${Object.keys(forceUnknown.map ?? {}).length} mapping(s) of ${mapFile}, then`) +
      " each value of printable ASCII whose only suggestion is one edit away." + lookAlikeLines(forceUnknown.map),
    terminal: processTerminal()
  })
  const summary = yield* withDatabase(
    url,
    "stage-normalization migrate",
    Effect.gen(function*() {
      const signals = yield* gracefulSignals
      return yield* migrate({
        ...spec,
        ...runOptions(f, url, maxAgeMs),
        onEvent: (event: MigrationEvent) => reporter.onEvent(event),
        shouldStop: signals.requested,
        forceUnknown,
        extraParameters: forceUnknown === undefined
          ? {}
          : { forceUnknownConfirmedBy: confirmedBy, forceUnknownMapFile: mapFile ?? null }
      })
    }),
    f.workers
  )
  yield* reporter.done
  yield* out(f.json ? JSON.stringify({ event: "Summary", ...summary }) : renderSummary(summary))
  if (summary.status === "failed") {
    return yield* new CliExitCode({ code: 1, reason: `run ${summary.runId} failed: ${summary.error ?? "unknown error"}` })
  }
})

/**
 * @since 0.1.0
 * @category commands
 */
export const migrateCommand = Command.make(
  "migrate",
  flags,
  Effect.fnUntraced(function*(f) {
    const url = yield* requireDatabaseUrl(f.databaseUrl, "migrate")
    const spec = toTargetSpec(f, Option.getOrUndefined(f.kind))
    if (f.cancel) return yield* cancel(f, url, spec)
    yield* refuseLoneFlags(f)
    const forceUnknown = yield* forceUnknownOf(f)
    const maxAgeMs = yield* Effect.fromResult(parseMaxAge(f.maxBackupAge)).pipe(
      Effect.mapError((e) => new CliInputError({ message: e.message }))
    )
    const reporter = makeProgressReporter({
      tty: !f.json && process.stderr.isTTY === true,
      workers: f.workerProgress,
      write: (text) => (f.json ? process.stdout.write(text) : process.stderr.write(text))
    })
    if (!f.apply && Option.isSome(f.join)) return yield* new CliInputError({ message: "--join adds workers that write: use --apply --join RUN" })
    if (!f.apply) return yield* dryRun(f, url, spec, forceUnknown, reporter)
    return yield* apply(f, url, spec, forceUnknown, maxAgeMs, reporter)
  })
).pipe(
  Command.withDescription(
    "Normalise stored stage values in batches: dry run by default, --apply to write (audited, resumable)"
  ),
  Command.withExamples([
    { command: "stage-normalization migrate --database-url postgres://… --table portfolio_companies --column stage", description: "Preview" },
    { command: "stage-normalization migrate --database-url postgres://… --apply", description: "Normalise (resumes an incomplete run)" },
    { command: "stage-normalization migrate --column stage_mix --kind distribution --apply", description: "JSONB distributions" },
    { command: "stage-normalization migrate --apply --workers 4", description: "Four workers (four connections) on one run" },
    { command: "stage-normalization migrate --apply --join 12 --workers 2", description: "Two more workers for run 12, from another machine" },
    { command: "stage-normalization migrate --cancel --run 12", description: "Cancel a run" },
    {
      command: "stage-normalization migrate --apply --force-unknown --map stage-map.json --confirm-force-unknown",
      description: "Also map unknown values (audited, reversible)"
    },
    { command: "stage-normalization migrate --apply --no-backup-check", description: "Skip the backup gate (recorded)" }
  ])
)
