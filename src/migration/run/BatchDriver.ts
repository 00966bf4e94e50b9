/**
 * The batched-run driver that `migrate` and `rollback` share: N workers, each repeating claim a
 * range → execute it in one transaction (the executor records the batch in that transaction) →
 * count and report → throttle, until the run has no range left, stopping between batches on a
 * signal, a cancel request or a failed guard. What a batch *does* is the executor's (a scalar
 * column, a JSONB distribution, a rollback from the audit); how ranges are claimed (`RangeLeases`:
 * `FOR UPDATE SKIP LOCKED` under a lease), retried, split, timed and paced is here, once. One
 * worker is the N = 1 case of the same loop.
 *
 * - **Retries**: a transient failure (an `SqlError` whose reason is retryable, or a batch running
 *   longer than `stuckAfterMs`) is retried up to `maxAttempts` with exponential back-off and
 *   jitter; each retry is recorded on the batch (`BatchStore.recordAttempt`).
 * - **Splits**: a statement timeout halves the batch at the executor's split point, up to 20
 *   times; the other half becomes a pending range any worker claims.
 * - **Leases**: a batch whose lease another worker took over (this worker was away longer than
 *   the lease) is left to it (`BatchAbandoned`); nothing of it was committed here.
 * - **Time** comes from effect's `Clock` (through `shared/WallClock`): every sleep, back-off,
 *   duration, rate and ETA follows the `Clock` in the environment, so `TestClock` drives a
 *   throttled run without real waiting.
 *
 * The driver returns how the run ended for this process's workers; the caller closes the run.
 *
 * @since 0.2.0
 */
import { Cause, Effect, Exit, Random, Schedule } from "effect"
import { SqlError } from "effect/sql"
import { hostname } from "node:os"
import { elapsedSince, nowMillis } from "../../shared/WallClock.ts"
import type { MigrationEvent, RunTotals } from "../MigrationEvent.ts"
import { describeCause } from "../MigrationError.ts"
import * as BatchStore from "../schema/BatchStore.ts"
import { type ClaimedBatch, claimNext, finishWorker, LeaseTaken, type RangePlanner, registerWorker, splitRange, type WorkerIdentity } from "./RangeLeases.ts"

export type { ClaimedBatch } from "./RangeLeases.ts"

/**
 * What one committed batch did, as its executor reports it.
 *
 * @since 0.2.0
 * @category models
 */
export interface ExecutedBatch extends RunTotals {
  readonly hi: string
  /** The size of the next batch (adaptive sizing), or the same size. */
  readonly nextSize: number
  readonly durationMs: number
  /** The whole run's counters after the commit (every worker's). */
  readonly run: RunTotals
}

/**
 * The per-kind work of a batched run, plugged into {@link drive}.
 *
 * @since 0.2.0
 * @category models
 */
export interface BatchExecutor<R> {
  /** How the run's ranges are found (the claim protocol itself is `RangeLeases`'). */
  readonly planner: RangePlanner<R>
  /** One attempt of a batch, in one transaction that starts with `renewLease` and records the batch. */
  readonly execute: (batch: ClaimedBatch, worker: WorkerIdentity) => Effect.Effect<ExecutedBatch, unknown, R>
  /** Where to cut a batch whose statement timed out, keeping `half` rows; absent: no split. */
  readonly splitPoint?: ((batch: ClaimedBatch, half: number) => Effect.Effect<string | undefined, never, R>) | undefined
}

/**
 * What the driver checks before each batch: go on, end the run paused or cancelled, or stop
 * because the run failed in another worker (`halted`). A guard may also fail (a lost lock), which
 * ends the drive with that error.
 *
 * @since 0.2.0
 * @category models
 */
export type GuardVerdict = "continue" | "paused" | "cancelled" | { readonly halted: string }

/**
 * How a drive ended: the status to close the run with, its error, and the batches committed by
 * this process's workers.
 *
 * @since 0.2.0
 * @category models
 */
export interface DriveOutcome {
  readonly status: "succeeded" | "paused" | "cancelled" | "failed"
  readonly error: string | null
  readonly batches: number
  /** The run failed in another worker or process (it is already closed as failed). */
  readonly halted?: boolean | undefined
}

/**
 * What happened to a batch, for metrics (`stage_migration_batches_total{status}`).
 *
 * @since 0.2.0
 * @category models
 */
export type BatchObservation =
  | { readonly _tag: "completed"; readonly batch: ExecutedBatch }
  | { readonly _tag: "failed" | "retried" | "split" }

/**
 * The run a drive works on and how it paces itself.
 *
 * @since 0.2.0
 * @category models
 */
export interface DriveOptions<R> {
  readonly runId: string
  /** Workers in this process (default 1), each with its own connection. */
  readonly workers?: number | undefined
  /** The token of this process's session lock (see `RangeLeases`). */
  readonly session: string
  readonly embedded: boolean
  /** How long a claimed batch stays this worker's without a renewal (default 30 s). */
  readonly leaseMs?: number | undefined
  /** The run's counters when this drive started, and its planned row count. */
  readonly totals: RunTotals
  readonly rowsTotal: number
  /** Pause between a worker's batches (the run's shared setting, read before each batch). */
  readonly sleepMs: Effect.Effect<number, unknown, R>
  /** Before a batch of `rows` rows: wait as the run's global row ceiling says (absent: none). */
  readonly reserveRows?: ((rows: number) => Effect.Effect<void, unknown, R>) | undefined
  /** Attempts per batch for transient errors; the first retry waits `retryDelayMs`, doubled per attempt. */
  readonly maxAttempts: number
  readonly retryDelayMs: number
  /** A batch running longer is abandoned and retried (absent: no limit). */
  readonly stuckAfterMs?: number | undefined
  /** Checked before every batch, by every worker. */
  readonly guard: Effect.Effect<GuardVerdict, unknown, R>
  readonly emit: (event: MigrationEvent) => Effect.Effect<void>
  readonly observe?: ((observation: BatchObservation) => Effect.Effect<void>) | undefined
}

type Failure = { readonly _tag: "Split" | "Transient" | "Fatal" | "Taken"; readonly message: string }

const classify = (cause: Cause.Cause<unknown>): Failure => {
  const error = Cause.squash(cause)
  const message = describeCause(error)
  if (error instanceof LeaseTaken) return { _tag: "Taken", message }
  if (Cause.isTimeoutError(error)) return { _tag: "Transient", message: `stuck: ${message}` }
  if (SqlError.isSqlError(error)) {
    if (error.reason._tag === "StatementTimeoutError") return { _tag: "Split", message }
    if (error.reason.isRetryable) return { _tag: "Transient", message }
  }
  return { _tag: "Fatal", message }
}

const isRetryableSqlError = (e: unknown) => SqlError.isSqlError(e) && e.reason.isRetryable

type Attempted =
  | { readonly _tag: "Done"; readonly batch: ExecutedBatch; readonly attempts: number }
  | { readonly _tag: "Taken" }
  | { readonly _tag: "Failed"; readonly error: string }

/** Halve a batch at the executor's split point (the rest becomes a pending range); `undefined` when it cannot be split further. */
const splitBatch = <R>(executor: BatchExecutor<R>, batch: ClaimedBatch, who: WorkerIdentity, error: string) =>
  Effect.gen(function*() {
    const half = Math.floor(batch.size / 2)
    if (half < 1 || executor.splitPoint === undefined) return undefined
    const mid = yield* executor.splitPoint(batch, half)
    if (mid === undefined || mid === batch.hi) return undefined
    yield* splitRange(who, batch, mid, `statement timeout with ${batch.size} rows: split at ${mid}: ${error}`)
    return { ...batch, hi: mid, size: half }
  })

/** A batch with its retries and splits: the committed batch, a lost lease, or the final error message. */
const attemptBatch = <R>(executor: BatchExecutor<R>, claimed: ClaimedBatch, options: DriveOptions<R>, who: WorkerIdentity) =>
  Effect.gen(function*() {
    const observe = options.observe ?? (() => Effect.void)
    let batch = claimed
    let attempts = 1
    let splits = 0
    while (true) {
      const attempt = options.stuckAfterMs === undefined
        ? executor.execute(batch, who)
        : Effect.timeout(executor.execute(batch, who), options.stuckAfterMs)
      const exit = yield* Effect.exit(attempt)
      if (Exit.isSuccess(exit)) return { _tag: "Done", batch: exit.value, attempts } satisfies Attempted as Attempted
      if (Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.interrupt
      const failure = classify(exit.cause)
      if (failure._tag === "Taken") return { _tag: "Taken" } satisfies Attempted as Attempted
      if (failure._tag === "Split") {
        const smaller = splits < 20 ? yield* splitBatch(executor, batch, who, failure.message).pipe(Effect.orElseSucceed(() => undefined)) : undefined
        if (smaller === undefined) {
          return { _tag: "Failed", error: `${failure.message} (a batch of ${batch.size} row(s) cannot be split further)` } satisfies Attempted as Attempted
        }
        yield* observe({ _tag: "split" })
        yield* options.emit({ _tag: "BatchSplit", runId: options.runId, batchId: batch.batchId, fromSize: batch.size, toSize: smaller.size, error: failure.message })
        batch = smaller
        splits++
        attempts++
        continue
      }
      if (failure._tag === "Transient" && attempts < options.maxAttempts) {
        const jitter = options.retryDelayMs > 0 ? yield* Random.nextIntBetween(0, options.retryDelayMs) : 0
        const delayMs = options.retryDelayMs * 2 ** (attempts - 1) + jitter
        yield* BatchStore.recordAttempt(batch.batchId, failure.message, null).pipe(Effect.ignore)
        yield* observe({ _tag: "retried" })
        yield* options.emit({ _tag: "BatchRetrying", runId: options.runId, batchId: batch.batchId, attempt: attempts + 1, delayMs, error: failure.message })
        yield* Effect.sleep(delayMs)
        attempts++
        continue
      }
      const after = failure._tag === "Transient" ? ` (after ${attempts} attempts)` : ""
      return { _tag: "Failed", error: `${failure.message}${after}` } satisfies Attempted as Attempted
    }
  })

/** The progress event of a committed batch: the whole run's counters, rate and ETA since this drive started. */
const progressEvent = (options: DriveOptions<unknown>, sessionStarted: number) =>
(who: WorkerIdentity, batch: ClaimedBatch, done: ExecutedBatch, attempts: number) =>
  Effect.gen(function*() {
    const elapsed = Math.max(1, yield* elapsedSince(sessionStarted))
    const rate = ((done.run.scanned - options.totals.scanned) * 1000) / elapsed
    const remaining = Math.max(0, options.rowsTotal - done.run.scanned)
    return {
      _tag: "BatchCompleted",
      runId: options.runId,
      worker: who.workerId,
      batchId: batch.batchId,
      batchNo: batch.batchNo,
      fundId: batch.partition._tag === "Fund" ? batch.partition.fund : null,
      rangeStart: batch.lo,
      rangeEnd: done.hi,
      scanned: done.scanned,
      updated: done.updated,
      skipped: done.skipped,
      failed: done.failed,
      durationMs: done.durationMs,
      attempts,
      totals: { ...done.run },
      rowsTotal: options.rowsTotal,
      rowsPerSecond: Math.max(0, Math.round(rate)),
      etaSeconds: rate > 0 ? Math.round(remaining / rate) : null,
      nextBatchSize: done.nextSize
    } satisfies MigrationEvent as MigrationEvent
  })

type WorkerEnd = DriveOutcome & { readonly worker: string }

/** What every worker of this process shares: the first worker's failure stops the others. */
interface Shared {
  failure: string | null
}

/** One worker: claim, execute, report, pace — until the run is done or a guard stops it. */
const work = <R>(executor: BatchExecutor<R>, options: DriveOptions<R>, who: WorkerIdentity, shared: Shared, report: ReturnType<typeof progressEvent>) =>
  Effect.gen(function*() {
    const observe = options.observe ?? (() => Effect.void)
    const retrySql = Effect.retry({
      times: Math.max(0, options.maxAttempts - 1),
      schedule: Schedule.spaced(Math.max(1, options.retryDelayMs)),
      while: isRetryableSqlError
    })
    const pollMs = Math.max(50, Math.min(1_000, Math.floor(who.leaseMs / 4)))
    const end = (state: "finished" | "stopped" | "failed", outcome: DriveOutcome) =>
      finishWorker(who, state).pipe(
        retrySql,
        Effect.ignore,
        Effect.andThen(options.emit({ _tag: "WorkerChanged", runId: options.runId, worker: who.workerId, state, batches: outcome.batches })),
        Effect.as({ ...outcome, worker: who.workerId } satisfies WorkerEnd)
      )
    yield* registerWorker(who, { host: hostname(), pid: process.pid }).pipe(retrySql)
    yield* options.emit({ _tag: "WorkerChanged", runId: options.runId, worker: who.workerId, state: "started", batches: 0 })
    let batches = 0
    let waiting = false
    while (true) {
      if (shared.failure !== null) return yield* end("stopped", { status: "failed", error: shared.failure, batches })
      const verdict = yield* options.guard
      if (typeof verdict === "object") return yield* end("stopped", { status: "failed", error: verdict.halted, batches, halted: true })
      if (verdict !== "continue") {
        return yield* end("stopped", { status: verdict, error: verdict === "cancelled" ? "cancelled by operator" : null, batches })
      }
      // a lost connection or a deadlock while claiming is retried like a batch's transient error
      const claim = yield* claimNext(who, executor.planner).pipe(retrySql)
      if (claim._tag === "Done") return yield* end("finished", { status: "succeeded", error: null, batches })
      if (claim._tag === "Wait") {
        if (!waiting) yield* options.emit({ _tag: "WorkerChanged", runId: options.runId, worker: who.workerId, state: "waiting", batches })
        waiting = true
        yield* Effect.sleep(pollMs)
        continue
      }
      waiting = false
      const batch = claim.batch
      if (claim.reclaimed !== null) yield* options.emit({ _tag: "StuckBatchesRecovered", runId: options.runId, batchIds: [claim.reclaimed] })
      if (options.reserveRows !== undefined) yield* options.reserveRows(batch.size).pipe(retrySql)
      const outcome = yield* attemptBatch(executor, batch, options, who)
      if (outcome._tag === "Taken") {
        yield* options.emit({ _tag: "BatchAbandoned", runId: options.runId, worker: who.workerId, batchId: batch.batchId })
        continue
      }
      if (outcome._tag === "Failed") {
        const error = `batch ${batch.batchId} failed: ${outcome.error}`
        shared.failure = error
        yield* BatchStore.failBatch(batch.batchId, outcome.error, options.runId, error).pipe(retrySql, Effect.ignore)
        yield* observe({ _tag: "failed" })
        return yield* end("failed", { status: "failed", error, batches })
      }
      yield* observe({ _tag: "completed", batch: outcome.batch })
      batches++
      yield* options.emit(yield* report(who, batch, outcome.batch, outcome.attempts))
      const sleepMs = yield* options.sleepMs
      if (sleepMs > 0) yield* Effect.sleep(sleepMs)
    }
  })

/** The run's outcome from its workers': a failure first, then a cancel, then a pause. */
const combine = (ends: ReadonlyArray<WorkerEnd>): DriveOutcome => {
  const batches = ends.reduce((n, e) => n + e.batches, 0)
  const first = ends.find((e) => e.status === "failed" && e.halted !== true) ?? ends.find((e) => e.status === "failed") ??
    ends.find((e) => e.status === "cancelled") ?? ends.find((e) => e.status === "paused")
  return first === undefined
    ? { status: "succeeded", error: null, batches }
    : { status: first.status, error: first.error, batches, halted: first.halted }
}

/**
 * Drive a run to its end (see the module header) with `options.workers` workers: until no range
 * is left and every batch committed (`succeeded`), the guard says stop (`paused` / `cancelled`),
 * or a batch fails for good (`failed`: the batch and the run marked failed, so a resumed run
 * redoes it). Workers of other processes may work on the same run meanwhile.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { drive } from "./BatchDriver.ts" // internal: migrate and rollback plug their executors in
 * // const outcome = yield* drive(executor, { runId, workers: 4, session, embedded: false, … })
 * ```
 *
 * @since 0.2.0
 * @category running
 */
export const drive = <R>(executor: BatchExecutor<R>, options: DriveOptions<R>) =>
  Effect.gen(function*() {
    const report = progressEvent(options as DriveOptions<unknown>, yield* nowMillis)
    const shared: Shared = { failure: null }
    const count = Math.max(1, options.workers ?? 1)
    const identities = Array.from({ length: count }, (_, n): WorkerIdentity => ({
      runId: options.runId,
      workerId: `${options.session}#${n + 1}`,
      session: options.session,
      leaseMs: options.leaseMs ?? 30_000,
      embedded: options.embedded
    }))
    const ends = yield* Effect.forEach(identities, (who) => work(executor, options, who, shared, report), { concurrency: "unbounded" })
    return combine(ends)
  })
