/**
 * The batched, resumable, audited normalisation of a target (`migrate --apply`).
 *
 * A run walks the target in keyset batches over its id — per fund when it batches by fund — and
 * commits each batch in one transaction: the rows whose value changes are updated from their
 * current value (see `BatchStatements`), each gets an audit row in `stage_normalization_log`,
 * the batch row, the checkpoint and the run's counters are updated. A crash loses at most the
 * batch in flight, which the next run (`--resume`, or any `--apply` on the target) redoes from
 * the checkpoint: every changed row is audited exactly once.
 *
 * Around each batch: stop requests (signals) pause the run between batches, `cancel` requests
 * end it, the target lock is re-checked, database health gates the batch with back-off, a
 * transient SQL error is retried (3 attempts, exponential back-off), a statement timeout splits
 * the batch in half, a batch exceeding the stuck limit is abandoned and retried, and the batch
 * size adapts towards a target duration.
 *
 * The loop itself — claim, execute, retry, split, pace — is the shared batch driver
 * (`BatchDriver`); this module decides which run to drive (resume or create, under the target's
 * lock), plugs in the executor of the target's kind, and guards each batch.
 *
 * @since 0.1.0
 */
import { Effect, Metric } from "effect"
import { SqlClient } from "effect/sql"
import { migrationBatchesTotal, migrationRowsTotal } from "../../observability/metrics.ts"
import { nowMillis } from "../../shared/WallClock.ts"
import { requireFreshBackup } from "../backup/BackupGate.ts"
import { describeCause, MigrationError, queryFailed } from "../MigrationError.ts"
import { InvalidOptions, LockLost, ResumeMismatch } from "../MigrationErrorReason.ts"
import * as RunStore from "../schema/RunStore.ts"
import { checkFundId, type ResolvedTarget, resolveTarget } from "../schema/Target.ts"
import { acquireTargetLock, type TargetLock } from "../schema/TargetLock.ts"
import { ensureTrackingSchema } from "../schema/TrackingSchema.ts"
import { ensureSqlTwin } from "../sql/SqlTwinInstaller.ts"
import { type BatchObservation, drive, type DriveOutcome, type GuardVerdict } from "./BatchDriver.ts"
import { ALL_ROWS, type Partition } from "../sql/BoundStatement.ts"
import { checkHealth, type WalSample } from "./DatabaseHealth.ts"
import { distributionExecutor } from "./DistributionExecutor.ts"
import type { ForceUnknownOptions } from "./ForceUnknown.ts"
import { backupVerdictOf, inheritFromRun, recordedParameters, resumeMismatch } from "./JoinedRun.ts"
import { defaultOwner, invalid, type MigrateOptions, type Settings, settingsOf } from "./RunSettings.ts"
import { cannotJoin, nothingToResume, preflight, rollbackPending } from "./RunPreflight.ts"
import { otherLiveWorkers } from "./RangeLeases.ts"
import { closeAndSummarise, type OpenedRun, type RunSummary } from "./RunSummary.ts"
import { publishThrottle, readRunControl, reserveRows, type RunControl, setRunLimits, sharedVerdict } from "./RunThrottle.ts"
import { scalarExecutor } from "./ScalarExecutor.ts"

export type { MigrateOptions } from "./RunSettings.ts"
export type { ForcedValue, RunSummary } from "./RunSummary.ts"


/** `stage_migration_batches_total{status}` and `stage_migration_rows_total{result}`. */
const observeBatch = (observation: BatchObservation) =>
  Effect.gen(function*() {
    yield* Metric.update(Metric.withAttributes(migrationBatchesTotal, { status: observation._tag }), 1)
    if (observation._tag !== "completed") return
    const b = observation.batch
    const rows = [["updated", b.updated], ["unknown", b.skipped], ["failed", b.failed], ["unchanged", b.scanned - b.updated - b.skipped - b.failed]] as const
    for (const [result, n] of rows) {
      if (n > 0) yield* Metric.update(Metric.withAttributes(migrationRowsTotal, { result }), n)
    }
  })

/** By fund when asked, or (auto) when there is a fund column with a (fund, id) index; else by id. */
const chooseBatchBy = (options: MigrateOptions, target: ResolvedTarget, fundId: string | null) => {
  const requested = options.batchBy ?? "auto"
  if (requested === "fund" && target.fund === undefined) {
    return Effect.fail(invalid(`--batch-by fund needs a fund column, and ${target.label} has none`))
  }
  const byFund = fundId !== null || requested === "fund" || (requested === "auto" && target.fund !== undefined && target.hasFundIdIndex)
  return Effect.succeed<"id" | "fund">(byFund ? "fund" : "id")
}

/** Open the run; when another process created the target's run at the same moment, join that one. */
const openOrJoin = (plan: RunPlan, embedded: boolean) =>
  openRun(plan, embedded).pipe(
    Effect.catchIf((e) => e.reason._tag === "RunInProgress" && describeCause(e).includes("already has an incomplete run"), () => openRun(plan, embedded))
  )

interface RunPlan {
  readonly target: ResolvedTarget
  readonly options: MigrateOptions
  readonly settings: Settings
  readonly twin: string
  readonly fundId: string | null
  readonly batchBy: "id" | "fund"
  readonly owner: string
  /** The backup gate, when a new run needs it and it was not checked yet. */
  readonly checkGate: Effect.Effect<RunSummary["backup"], MigrationError, SqlClient.SqlClient>
}

/** Under the target's lock: resume its incomplete run, or create one. */
const openRun = (plan: RunPlan, embedded: boolean) =>
  Effect.gen(function*() {
    const { fundId, options, settings, target, twin } = plan
    let incomplete = yield* RunStore.findIncompleteRun(target)
    if (incomplete !== undefined && (yield* RunStore.readCheckpoint(incomplete.runId)).cancelRequested) {
      // its runner died before it could honour the cancel request: honour it now
      yield* RunStore.closeRun(incomplete.runId, "cancelled", "cancelled by operator")
      incomplete = undefined
    }
    if (incomplete !== undefined && incomplete.operation === "rollback") return yield* rollbackPending(target, incomplete)
    if (options.joinRunId !== undefined && incomplete?.runId !== options.joinRunId) return yield* cannotJoin(target, options.joinRunId, incomplete)
    if (incomplete !== undefined) {
      const stored = yield* RunStore.readParameters(incomplete.runId)
      const storedForce = (stored["forceUnknown"] ?? undefined) as ForceUnknownOptions | undefined
      const mismatch = resumeMismatch(incomplete, target, fundId, options.forceUnknown, storedForce)
      if (mismatch !== undefined) {
        return yield* new MigrationError({
          reason: new ResumeMismatch({
            detail: `run ${incomplete.runId} on ${target.label}.${target.column.name} is ${incomplete.status} with ${mismatch}; ` +
              `resume it with the same options, or cancel it with \`migrate --cancel --run ${incomplete.runId}\``
          })
        })
      }
      settings.force = storedForce
      yield* RunStore.resumeRun(incomplete.runId, plan.owner, embedded)
      // the run's backup verdict, recorded when it started: resuming or joining it is not gated again
      const backup = backupVerdictOf(stored)
      return { runId: incomplete.runId, resumed: true, interruptedBatches: [], batchBy: incomplete.batchBy, backup } satisfies OpenedRun as OpenedRun
    }
    if (options.resume === true) return yield* nothingToResume(target)
    const backup = yield* plan.checkGate
    const { sizing } = settings
    const runId = yield* RunStore.createRun({
      target,
      fundId,
      batchBy: plan.batchBy,
      batchSize: sizing.initial,
      vocabulary: settings.vocabulary,
      owner: plan.owner,
      parameters: { ...recordedParameters(settings, twin), backup, ...options.extraParameters }
    })
    yield* setRunLimits(runId, { sleepMs: settings.sleepMs, maxRowsPerSecond: settings.maxRowsPerSecond })
    return { runId, resumed: false, interruptedBatches: [], batchBy: plan.batchBy, backup } satisfies OpenedRun as OpenedRun
  })

/** Wait while the database is unhealthy; `false` when a stop was requested meanwhile. */
const waitUntilHealthy = (target: ResolvedTarget, runId: string, settings: Settings, noted: Set<string>, walSample: WalSample) =>
  Effect.gen(function*() {
    if (settings.health === false) return true
    let waitMs = Math.min(1_000, settings.maxThrottleMs)
    while (true) {
      const report = yield* checkHealth(target.oid, settings.health, walSample)
      for (const note of report.notes) {
        if (noted.has(note)) continue
        noted.add(note) // once per run, not once per batch
        yield* Effect.logWarning({ event: "stage_migration.health_unchecked", runId, note })
      }
      if (report.healthy) return true
      // one verdict for the run: every worker, in every process, waits as long
      yield* publishThrottle(runId, waitMs, report.reasons).pipe(Effect.ignore)
      yield* settings.emit({ _tag: "Throttled", runId, reasons: report.reasons, waitMs })
      if (yield* settings.shouldStop) return false
      yield* Effect.sleep(waitMs)
      if (yield* settings.shouldStop) return false
      waitMs = Math.min(waitMs * 2, settings.maxThrottleMs)
    }
  })

/**
 * Before each batch, for every worker: a stop request pauses, a cancel request cancels, a run
 * another worker failed halts, a lost lock fails, a throttle published by any worker waits, an
 * unhealthy database waits (and throttles the run). `latest` keeps the control row read last
 * (its shared pause between batches).
 */
const guardOf = (target: ResolvedTarget, runId: string, settings: Settings, lock: TargetLock, latest: { control: RunControl | undefined }) => {
  const healthNotes = new Set<string>()
  const walSample: WalSample = {}
  return Effect.gen(function*() {
    if (yield* settings.shouldStop) return "paused" satisfies GuardVerdict as GuardVerdict
    const control = yield* readRunControl(runId)
    latest.control = control
    const shared = sharedVerdict(control, runId)
    if (shared !== undefined) return shared
    if (!(yield* lock.stillHeld)) {
      return yield* new MigrationError({
        reason: new LockLost({
          detail: `lost the lock on ${target.label}.${target.column.name} (connection closed?); run ${runId} stays incomplete — resume it`
        })
      })
    }
    if (control.throttledForMs > 0) {
      const waitMs = Math.min(control.throttledForMs, settings.maxThrottleMs)
      yield* settings.emit({ _tag: "Throttled", runId, reasons: control.throttleReasons, waitMs })
      yield* Effect.sleep(waitMs)
      if (yield* settings.shouldStop) return "paused"
    }
    return (yield* waitUntilHealthy(target, runId, settings, healthNotes, walSample)) ? "continue" : "paused"
  })
}

/** The run's drive with this process's workers (ranges are planned from the run's frontier, see `RangeLeases`). */
const driveRun = (plan: RunPlan, opened: OpenedRun, lock: TargetLock, recovered: Array<string>) =>
  Effect.gen(function*() {
    const { settings, target } = plan
    const runId = opened.runId
    const run = yield* RunStore.readRun(runId)
    const checkpoint = yield* RunStore.readCheckpoint(runId)
    if (opened.resumed) yield* setRunLimits(runId, { sleepMs: plan.options.sleepMs, maxRowsPerSecond: settings.maxRowsPerSecond })
    const totals = { scanned: run.rowsScanned, updated: run.rowsUpdated, skipped: run.rowsSkipped, failed: run.rowsFailed }
    yield* settings.emit({
      _tag: "RunStarted",
      runId,
      target: target.label,
      column: target.column.name,
      kind: target.kind,
      batchBy: opened.batchBy,
      fundId: plan.fundId,
      resumed: opened.resumed,
      rowsTotal: run.rowsTotal,
      alreadyScanned: totals.scanned,
      batchSize: checkpoint.batchSize
    })
    const partitions: ReadonlyArray<Partition> = opened.batchBy === "fund"
      ? (yield* RunStore.runFunds(runId)).map((fund): Partition => ({ _tag: "Fund", fund }))
      : [ALL_ROWS]
    const executor = target.kind === "scalar"
      ? scalarExecutor(target, partitions, plan.twin, settings)
      : distributionExecutor(target, partitions, settings)
    const latest: { control: RunControl | undefined } = { control: undefined }
    return yield* drive(executor, {
      runId,
      workers: settings.workers,
      session: lock.session,
      embedded: lock.embedded,
      leaseMs: settings.leaseMs,
      totals,
      rowsTotal: run.rowsTotal,
      sleepMs: Effect.sync(() => latest.control?.sleepMs ?? settings.sleepMs),
      reserveRows: (rows) => reserveRows(runId, rows).pipe(Effect.flatMap((waitMs) => (waitMs > 0 ? Effect.sleep(waitMs) : Effect.void))),
      maxAttempts: settings.maxAttempts,
      retryDelayMs: settings.retryDelayMs,
      stuckAfterMs: settings.stuckAfterMs,
      guard: guardOf(target, runId, settings, lock, latest),
      emit: (event) => {
        if (event._tag === "StuckBatchesRecovered") recovered.push(...event.batchIds)
        return settings.emit(event)
      },
      observe: observeBatch
    })
  })

/**
 * How this process leaves the run: a pause or an interruption closes it `paused` only when no
 * other process's workers are still on it (they go on; the last one out closes it); a run that
 * failed elsewhere is already closed.
 */
const closeStatus = (runId: string, lock: TargetLock, outcome: DriveOutcome) =>
  Effect.gen(function*() {
    if (outcome.halted === true) return false
    if (outcome.status !== "paused") return true
    return (yield* otherLiveWorkers(runId, lock.session, lock.embedded).pipe(Effect.orElseSucceed(() => 0))) === 0
  })

const embeddedWorkers = new MigrationError({
  reason: new InvalidOptions({ detail: "the embedded database has a single connection: --workers must be 1 there" })
})

/**
 * Normalise a target's stored values (see the module header). Dry-run is `preview`; this writes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { layerFromUrl, migrate } from "stage-normalization/migration"
 * const program = migrate({ table: "portfolio_companies", column: "stage", sleepMs: 0 }).pipe(
 *   Effect.map((s) => `${s.status}: ${s.totals.updated} rows normalised`),
 *   Effect.provide(layerFromUrl(process.env.DATABASE_URL))
 * )
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const migrate = Effect.fn("Migration.run")(function*(requested: MigrateOptions) {
  const started = yield* nowMillis
  yield* settingsOf(requested) // every number checked before anything is read
  const target = yield* resolveTarget(requested)
  // the incomplete run this process would work on: the settings it leaves out are that run's (a joiner's fund too)
  const { newRun, pending } = yield* preflight(target, requested)
  const options = pending === undefined ? requested : yield* inheritFromRun(requested, pending, yield* RunStore.readParameters(pending.runId))
  const settings = yield* settingsOf(options)
  const fundId = options.fundId ?? null
  if (fundId !== null) yield* checkFundId(target, fundId)
  const batchBy = yield* chooseBatchBy(options, target, fundId)
  const gate = options.backupCheck
  const skipped: RunSummary["backup"] = gate !== undefined && "skip" in gate ? { skipped: gate.skip } : null
  const runGate = gate === undefined || "skip" in gate ? Effect.succeed(skipped) : requireFreshBackup(target.label, gate)
  // a new run is gated before anything is written; a run found only under the lock is gated there; a joiner never is
  const checked = newRun ? yield* runGate : undefined
  yield* ensureTrackingSchema
  const twin = target.kind === "scalar" ? (yield* ensureSqlTwin(settings.vocabulary, options.twin ?? {})).twin.qualifiedName : ""
  const plan: RunPlan = {
    target,
    options,
    settings,
    twin,
    fundId,
    batchBy,
    owner: options.owner ?? defaultOwner(),
    checkGate: checked === undefined ? runGate : Effect.succeed(checked)
  }
  return yield* Effect.scoped(Effect.gen(function*() {
    const lock = yield* acquireTargetLock(target)
    if (lock.embedded && settings.workers > 1) return yield* embeddedWorkers
    const opened = yield* openOrJoin(plan, lock.embedded)
    const recovered: Array<string> = []
    const context = { target, settings, run: { ...opened, interruptedBatches: recovered }, fundId, started, unknownsLimit: options.unknownsLimit ?? 100 }
    const pauseIfLast = Effect.gen(function*() {
      if (yield* closeStatus(opened.runId, lock, { status: "paused", error: null, batches: 0 })) yield* RunStore.closeRun(opened.runId, "paused", null)
    })
    return yield* driveRun(plan, opened, lock, recovered).pipe(
      Effect.flatMap((outcome) =>
        Effect.flatMap(closeStatus(opened.runId, lock, outcome), (close) => closeAndSummarise(context, outcome.status, outcome.error, outcome.batches, close))
      ),
      Effect.mapError(queryFailed(`migrating ${target.label}.${target.column.name} (run ${opened.runId})`)),
      Effect.onInterrupt(() => pauseIfLast.pipe(Effect.ignore))
    )
  }))
})
