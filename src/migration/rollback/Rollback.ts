/**
 * `rollback`: undo a normalisation run row by row from its audit — lossless, safe against the
 * application, audited, resumable, and a dry run unless `apply`.
 *
 * - **What is restored**: each audit row of the run (or of one of its batches) whose row still
 *   holds the value the run wrote gets its old value back — the exact text, or the exact JSONB, so
 *   apply → rollback leaves the table byte-identical. Rows changed since (or deleted) are left
 *   alone and listed (`stage_rollback_conflicts`); an application's newer write is never clobbered.
 * - **Audited itself**: a rollback is a run (`operation = 'rollback'`, `rollback_of`) with batches,
 *   a checkpoint and one audit row per restored row (`reason = 'rollback'`, `reverts_log_id`). An
 *   audit row is reverted at most once (a unique index), so a repeated or resumed rollback never
 *   restores twice.
 * - **Safe to interrupt**: one transaction per batch; a crash loses at most the batch in flight,
 *   and `rollback --apply` again resumes from the checkpoint (SIGINT pauses after the batch).
 * - **Order**: to undo several runs of one target, roll back the newest first — rows a later run
 *   changed are conflicts for the earlier run until the later run is rolled back.
 * - One active run per target; like `migrate`, many workers (`workers`, or more processes running
 *   the same rollback) share it, claiming ranges of the audit under leases.
 *
 * The batches run on the shared batch driver (`run/BatchDriver`) with a rollback executor.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { elapsedSince, nowMillis } from "../../shared/WallClock.ts"
import { MigrationError } from "../MigrationError.ts"
import { LockLost, ResumeMismatch, RunInProgress } from "../MigrationErrorReason.ts"
import { drive, type DriveOutcome, type GuardVerdict } from "../run/BatchDriver.ts"
import * as RunStore from "../schema/RunStore.ts"
import type { TargetLock } from "../schema/TargetLock.ts"
import { acquireTargetLock } from "../schema/TargetLock.ts"
import { ensureTrackingSchema } from "../schema/TrackingSchema.ts"
import type { MigrationEvent } from "../MigrationEvent.ts"
import type { RollbackOptions, RollbackSummary } from "./RollbackModels.ts"
import { otherLiveWorkers } from "../run/RangeLeases.ts"
import { readRunControl, sharedVerdict } from "../run/RunThrottle.ts"
import { rollbackExecutor } from "./RollbackExecutor.ts"
import { createRollbackRun, dryRun, failed, invalid, loadSource, readConflicts, type Source } from "./RollbackRun.ts"

export type { RollbackConflict, RollbackOptions, RollbackSummary } from "./RollbackModels.ts"

interface Settings {
  readonly batchSize: number
  readonly sleepMs: number
  readonly workers: number
  readonly leaseMs: number
  readonly maxAttempts: number
  readonly emit: (event: MigrationEvent) => Effect.Effect<void>
  readonly shouldStop: Effect.Effect<boolean>
  readonly owner: string
}

const settingsOf = (options: RollbackOptions) =>
  Effect.gen(function*() {
    const batchSize = options.batchSize ?? 1_000
    const sleepMs = options.sleepMs ?? 100
    if (!Number.isInteger(batchSize) || batchSize < 1) return yield* invalid(`--batch-size must be an integer ≥ 1, got ${batchSize}`)
    if (!Number.isInteger(sleepMs) || sleepMs < 0) return yield* invalid(`--sleep-ms must be an integer ≥ 0, got ${sleepMs}`)
    const workers = options.workers ?? 1
    if (!Number.isInteger(workers) || workers < 1) return yield* invalid(`--workers must be an integer ≥ 1, got ${workers}`)
    return {
      batchSize,
      sleepMs,
      workers,
      leaseMs: options.leaseMs ?? 30_000,
      maxAttempts: options.maxAttempts ?? 3,
      emit: options.onEvent ?? (() => Effect.void),
      shouldStop: options.shouldStop ?? Effect.succeed(false),
      owner: options.owner ?? `pid ${process.pid}@${process.env["HOSTNAME"] ?? "localhost"}`
    } satisfies Settings as Settings
  })

/** Under the target's lock: resume this rollback's incomplete run, or create it. */
const openRollbackRun = (source: Source, options: RollbackOptions, settings: Settings, embedded: boolean) =>
  Effect.gen(function*() {
    const where = `${source.target.label}.${source.target.column.name}`
    const incomplete = yield* RunStore.findIncompleteRun(source.target)
    if (incomplete === undefined) {
      return { runId: yield* createRollbackRun(source, options, settings.batchSize, settings.owner), resumed: false }
    }
    if (incomplete.operation !== "rollback" || incomplete.rollbackOf !== source.run.runId) {
      return yield* new MigrationError({
        reason: new RunInProgress({
          detail: `${where} has an incomplete run ${incomplete.runId} (${
            incomplete.operation === "rollback" ? `a rollback of run ${incomplete.rollbackOf}` : "a normalisation"
          }); finish it or cancel it (\`migrate --cancel --run ${incomplete.runId}\`) first`
        })
      })
    }
    const stored = yield* RunStore.readParameters(incomplete.runId)
    if ((stored["batchId"] ?? null) !== source.scope.batchId) {
      return yield* new MigrationError({
        reason: new ResumeMismatch({
          detail: `rollback run ${incomplete.runId} of run ${source.run.runId} is ${incomplete.status} for ${
            stored["batchId"] === null ? "the whole run" : `batch ${String(stored["batchId"])}`
          }; resume it with the same --batch, or cancel it (\`migrate --cancel --run ${incomplete.runId}\`)`
        })
      })
    }
    yield* RunStore.resumeRun(incomplete.runId, settings.owner, embedded)
    return { runId: incomplete.runId, resumed: true }
  })

/** Before each batch, for every worker: a stop request pauses, a cancel request cancels, a run failed elsewhere halts, a lost lock fails. */
const guardOf = (source: Source, runId: string, settings: Settings, lock: TargetLock) =>
  Effect.gen(function*() {
    if (yield* settings.shouldStop) return "paused" satisfies GuardVerdict as GuardVerdict
    const shared = sharedVerdict(yield* readRunControl(runId), runId)
    if (shared !== undefined) return shared
    if (!(yield* lock.stillHeld)) {
      return yield* new MigrationError({
        reason: new LockLost({
          detail: `lost the lock on ${source.target.label}.${source.target.column.name} (connection closed?); ` +
            `rollback run ${runId} stays incomplete — run the rollback again to resume it`
        })
      })
    }
    return "continue"
  })

/** The rollback's batches, with this process's workers. */
const driveRollback = (source: Source, opened: { readonly runId: string; readonly resumed: boolean }, settings: Settings, lock: TargetLock) =>
  Effect.gen(function*() {
    const runId = opened.runId
    const run = yield* RunStore.readRun(runId)
    const totals = { scanned: run.rowsScanned, updated: run.rowsUpdated, skipped: run.rowsSkipped, failed: run.rowsFailed }
    yield* settings.emit({
      _tag: "RunStarted",
      runId,
      target: source.target.label,
      column: source.target.column.name,
      kind: source.target.kind,
      batchBy: "id",
      fundId: null,
      resumed: opened.resumed,
      rowsTotal: run.rowsTotal,
      alreadyScanned: totals.scanned,
      batchSize: settings.batchSize
    })
    return yield* drive(rollbackExecutor(source.target, source.scope), {
      runId,
      workers: settings.workers,
      session: lock.session,
      embedded: lock.embedded,
      leaseMs: settings.leaseMs,
      totals,
      rowsTotal: run.rowsTotal,
      sleepMs: Effect.succeed(settings.sleepMs),
      maxAttempts: settings.maxAttempts,
      retryDelayMs: 200,
      guard: guardOf(source, runId, settings, lock),
      emit: settings.emit
    })
  })

/** Close the rollback run and build its summary (emitting `RunFinished`). */
const closeRollback = (
  source: Source,
  opened: { readonly runId: string; readonly resumed: boolean },
  options: RollbackOptions,
  settings: Settings,
  started: number,
  outcome: DriveOutcome,
  close: boolean
) =>
  Effect.gen(function*() {
    const runId = opened.runId
    if (close) yield* RunStore.closeRun(runId, outcome.status, outcome.error)
    const run = yield* RunStore.readRun(runId)
    const conflicts = yield* readConflicts(runId, options.conflictsLimit ?? 100).pipe(Effect.mapError(failed("reading conflicts")))
    const durationMs = yield* elapsedSince(started)
    const totals = { scanned: run.rowsScanned, updated: run.rowsUpdated, skipped: run.rowsSkipped, failed: run.rowsFailed }
    yield* settings.emit({ _tag: "RunFinished", runId, status: outcome.status, totals, durationMs, error: outcome.error })
    return {
      sourceRunId: source.run.runId,
      batchId: source.scope.batchId,
      rollbackRunId: runId,
      status: outcome.status,
      target: source.target.label,
      column: source.target.column.name,
      kind: source.target.kind,
      resumed: opened.resumed,
      auditRows: run.rowsTotal,
      alreadyRestored: run.rowsSkipped,
      restored: run.rowsUpdated,
      conflicts: conflicts.total,
      conflictList: conflicts.list,
      batches: outcome.batches,
      durationMs,
      error: outcome.error
    } satisfies RollbackSummary as RollbackSummary
  })

/**
 * Roll back a run (see the module header). A dry run unless `apply`. A rollback that leaves
 * conflicts succeeds — the conflicts are in the summary — but is not a complete undo.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { layerFromUrl, rollback } from "stage-normalization/migration"
 * const program = rollback({ runId: "12", apply: true }).pipe(
 *   Effect.map((s) => `${s.restored} restored, ${s.conflicts} changed since (left alone)`),
 *   Effect.provide(layerFromUrl(process.env.DATABASE_URL))
 * )
 * ```
 *
 * @since 0.1.0
 * @category rolling back
 */
export const rollback = Effect.fn("Migration.rollback")(function*(options: RollbackOptions) {
  const started = yield* nowMillis
  const settings = yield* settingsOf(options)
  const source = yield* loadSource(options)
  if (options.apply !== true) {
    return yield* dryRun(source, options, started).pipe(Effect.mapError(failed(`previewing the rollback of run ${source.run.runId}`)))
  }
  if (["running", "paused", "failed"].includes(source.run.status)) {
    return yield* new MigrationError({
      reason: new RunInProgress({
        detail: `run ${source.run.runId} is ${source.run.status}: cancel it first (\`migrate --cancel --run ${source.run.runId}\`) ` +
          "so it is not resumed later, then roll it back"
      })
    })
  }
  yield* ensureTrackingSchema
  return yield* Effect.scoped(Effect.gen(function*() {
    const lock = yield* acquireTargetLock(source.target)
    if (lock.embedded && settings.workers > 1) return yield* invalid("the embedded database has a single connection: --workers must be 1 there")
    const opened = yield* openRollbackRun(source, options, settings, lock.embedded).pipe(
      // another process created this rollback's run at the same moment: join it
      Effect.catchIf(
        (e) => e.reason._tag === "RunInProgress" && e.message.includes("already has an incomplete run"),
        () => openRollbackRun(source, options, settings, lock.embedded)
      )
    )
    const closing = (outcome: DriveOutcome) =>
      outcome.halted === true
        ? Effect.succeed(false)
        : outcome.status !== "paused"
        ? Effect.succeed(true)
        : otherLiveWorkers(opened.runId, lock.session, lock.embedded).pipe(Effect.map((n) => n === 0), Effect.orElseSucceed(() => true))
    return yield* driveRollback(source, opened, settings, lock).pipe(
      Effect.flatMap((outcome) => Effect.flatMap(closing(outcome), (close) => closeRollback(source, opened, options, settings, started, outcome, close))),
      Effect.mapError(failed(`rolling back run ${source.run.runId} (rollback run ${opened.runId})`)),
      Effect.onInterrupt(() =>
        closing({ status: "paused", error: null, batches: 0 }).pipe(
          Effect.flatMap((close) => (close ? RunStore.closeRun(opened.runId, "paused", null) : Effect.void)),
          Effect.ignore
        )
      )
    )
  }))
})
