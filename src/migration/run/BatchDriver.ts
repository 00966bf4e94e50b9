/**
 * The batched-run driver that `migrate` and `rollback` share: claim the next range → execute it in
 * one transaction (the executor records the batch and the checkpoint in that transaction) → count
 * and report → throttle → repeat, stopping between batches on a signal, a cancel request or a
 * failed guard. What a batch *does* is the executor's (a scalar column, a JSONB distribution, a
 * rollback from the audit); how batches are claimed, retried, split, timed and paced is here, once.
 *
 * - **Retries**: a transient failure (an `SqlError` whose reason is retryable, or a batch running
 *   longer than `stuckAfterMs`) is retried up to `maxAttempts` with exponential back-off and
 *   jitter; each retry is recorded on the batch (`BatchStore.recordAttempt`).
 * - **Splits**: a statement timeout halves the batch at the executor's split point, up to 20 times.
 * - **Time** comes from effect's `Clock` (through `shared/WallClock`): every sleep, back-off,
 *   duration, rate and ETA follows the `Clock` in the environment, so `TestClock` drives a
 *   throttled run without real waiting.
 *
 * The driver returns how the run ended; the caller closes the run and builds its summary.
 *
 * @since 0.2.0
 */
import { Cause, Effect, Exit, Random, Schedule } from "effect"
import { SqlError } from "effect/sql"
import { elapsedSince, nowMillis } from "../../shared/WallClock.ts"
import type { MigrationEvent, RunTotals } from "../MigrationEvent.ts"
import { describeCause } from "../MigrationError.ts"
import * as BatchStore from "../schema/BatchStore.ts"
import type { Partition } from "../sql/BoundStatement.ts"

/**
 * A range of rows a batch owns: `(lo, hi]` of the id within one partition.
 *
 * @since 0.2.0
 * @category models
 */
export interface ClaimedBatch {
  readonly batchId: string
  readonly batchNo: number
  readonly partition: Partition
  readonly lo: string | null
  readonly hi: string
  readonly size: number
}

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
}

/**
 * The per-kind work of a batched run, plugged into {@link drive}.
 *
 * @since 0.2.0
 * @category models
 */
export interface BatchExecutor<R> {
  /** Claim and record the next range of `partition` after `lo` (at most `size` rows); `undefined` when none is left. */
  readonly claim: (request: {
    readonly batchNo: number
    readonly partition: Partition
    readonly lo: string | null
    readonly size: number
  }) => Effect.Effect<{ readonly batchId: string; readonly hi: string } | undefined, unknown, R>
  /** One attempt of a batch, in one transaction that also records the batch and the checkpoint. */
  readonly execute: (batch: ClaimedBatch) => Effect.Effect<ExecutedBatch, unknown, R>
  /** Where to cut a batch whose statement timed out, keeping `half` rows; absent: no split. */
  readonly splitPoint?: ((batch: ClaimedBatch, half: number) => Effect.Effect<string | undefined, never, R>) | undefined
}

/**
 * What the driver checks before each batch: go on, or end the run paused or cancelled. A guard
 * may also fail (a lost lock), which ends the drive with that error.
 *
 * @since 0.2.0
 * @category models
 */
export type GuardVerdict = "continue" | "paused" | "cancelled"

/**
 * How a drive ended: the status to close the run with, its error, and the batches committed.
 *
 * @since 0.2.0
 * @category models
 */
export interface DriveOutcome {
  readonly status: "succeeded" | "paused" | "cancelled" | "failed"
  readonly error: string | null
  readonly batches: number
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
 * The run a drive walks and how it paces itself.
 *
 * @since 0.2.0
 * @category models
 */
export interface DriveOptions<R> {
  readonly runId: string
  /** The partitions in order; the drive starts in `start.partition` after `start.lo`. */
  readonly partitions: ReadonlyArray<Partition>
  readonly start: { readonly partition: number; readonly lo: string | null }
  readonly firstBatchNo: number
  readonly batchSize: number
  /** The run's counters so far (a resumed run's), and its planned row count. */
  readonly totals: RunTotals
  readonly rowsTotal: number
  /** Pause between batches. */
  readonly sleepMs: number
  /** Attempts per batch for transient errors; the first retry waits `retryDelayMs`, doubled per attempt. */
  readonly maxAttempts: number
  readonly retryDelayMs: number
  /** A batch running longer is abandoned and retried (absent: no limit). */
  readonly stuckAfterMs?: number | undefined
  /** Checked before every batch. */
  readonly guard: Effect.Effect<GuardVerdict, unknown, R>
  readonly emit: (event: MigrationEvent) => Effect.Effect<void>
  readonly observe?: ((observation: BatchObservation) => Effect.Effect<void>) | undefined
}

type Failure = { readonly _tag: "Split" | "Transient" | "Fatal"; readonly message: string }

const classify = (cause: Cause.Cause<unknown>): Failure => {
  const error = Cause.squash(cause)
  const message = describeCause(error)
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
  | { readonly _tag: "Failed"; readonly error: string }

/** Halve a batch at the executor's split point; `undefined` when it cannot be split further. */
const splitBatch = <R>(executor: BatchExecutor<R>, batch: ClaimedBatch) =>
  Effect.gen(function*() {
    const half = Math.floor(batch.size / 2)
    if (half < 1 || executor.splitPoint === undefined) return undefined
    const mid = yield* executor.splitPoint(batch, half)
    return mid === undefined || mid === batch.hi ? undefined : { ...batch, hi: mid, size: half }
  })

/** A batch with its retries and splits: the committed batch, or the final error message. */
const attemptBatch = <R>(executor: BatchExecutor<R>, claimed: ClaimedBatch, options: DriveOptions<R>) =>
  Effect.gen(function*() {
    const observe = options.observe ?? (() => Effect.void)
    let batch = claimed
    let attempts = 1
    let splits = 0
    while (true) {
      const attempt = options.stuckAfterMs === undefined
        ? executor.execute(batch)
        : Effect.timeout(executor.execute(batch), options.stuckAfterMs)
      const exit = yield* Effect.exit(attempt)
      if (Exit.isSuccess(exit)) return { _tag: "Done", batch: exit.value, attempts } satisfies Attempted as Attempted
      if (Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.interrupt
      const failure = classify(exit.cause)
      if (failure._tag === "Split") {
        const smaller = splits < 20 ? yield* splitBatch(executor, batch) : undefined
        if (smaller === undefined) {
          return { _tag: "Failed", error: `${failure.message} (a batch of ${batch.size} row(s) cannot be split further)` } satisfies Attempted as Attempted
        }
        yield* BatchStore.recordAttempt(batch.batchId, `statement timeout with ${batch.size} rows: split at ${smaller.hi}`, smaller.hi)
          .pipe(Effect.ignore)
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

/** The running counters of a drive and the progress event of each committed batch. */
const makeProgress = (options: DriveOptions<unknown>, sessionStarted: number) => {
  const totals = { ...options.totals }
  const startScanned = totals.scanned
  return {
    totals,
    add: (batch: ClaimedBatch, done: ExecutedBatch, attempts: number) =>
      Effect.gen(function*() {
        totals.scanned += done.scanned
        totals.updated += done.updated
        totals.skipped += done.skipped
        totals.failed += done.failed
        const elapsed = Math.max(1, yield* elapsedSince(sessionStarted))
        const rate = ((totals.scanned - startScanned) * 1000) / elapsed
        const remaining = Math.max(0, options.rowsTotal - totals.scanned)
        return {
          _tag: "BatchCompleted",
          runId: options.runId,
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
          totals: { ...totals },
          rowsTotal: options.rowsTotal,
          rowsPerSecond: Math.round(rate),
          etaSeconds: rate > 0 ? Math.round(remaining / rate) : null,
          nextBatchSize: done.nextSize
        } satisfies MigrationEvent as MigrationEvent
      })
  }
}

/**
 * Drive a run to its end (see the module header): every partition from `start`, batch after
 * batch, until no range is left (`succeeded`), the guard says stop (`paused` / `cancelled`) or a
 * batch fails for good (`failed`, the batch marked failed so a resumed run redoes it).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { drive } from "./BatchDriver.ts" // internal: migrate and rollback plug their executors in
 * // const outcome = yield* drive(executor, { runId, partitions: [ALL_ROWS], start: { partition: 0, lo: null }, … })
 * ```
 *
 * @since 0.2.0
 * @category running
 */
export const drive = <R>(executor: BatchExecutor<R>, options: DriveOptions<R>) =>
  Effect.gen(function*() {
    const progress = makeProgress(options, yield* nowMillis)
    const observe = options.observe ?? (() => Effect.void)
    const retryClaim = Effect.retry({
      times: Math.max(0, options.maxAttempts - 1),
      schedule: Schedule.spaced(Math.max(1, options.retryDelayMs)),
      while: isRetryableSqlError
    })
    let batchNo = options.firstBatchNo
    let batches = 0
    let size = options.batchSize
    for (let i = options.start.partition; i < options.partitions.length; i++) {
      const partition = options.partitions[i]!
      let lo = i === options.start.partition ? options.start.lo : null
      while (true) {
        const verdict = yield* options.guard
        if (verdict !== "continue") return { status: verdict, error: verdict === "cancelled" ? "cancelled by operator" : null, batches } satisfies DriveOutcome
        // a lost connection or a deadlock while claiming is retried like a batch's transient error
        const claimed = yield* executor.claim({ batchNo, partition, lo, size }).pipe(retryClaim)
        if (claimed === undefined) break
        const batch: ClaimedBatch = { batchId: claimed.batchId, batchNo, partition, lo, hi: claimed.hi, size }
        batchNo++
        const outcome = yield* attemptBatch(executor, batch, options)
        if (outcome._tag === "Failed") {
          yield* BatchStore.failBatch(batch.batchId, outcome.error).pipe(Effect.ignore)
          yield* observe({ _tag: "failed" })
          return { status: "failed", error: `batch ${batch.batchId} failed: ${outcome.error}`, batches } satisfies DriveOutcome
        }
        yield* observe({ _tag: "completed", batch: outcome.batch })
        batches++
        lo = outcome.batch.hi
        size = outcome.batch.nextSize
        yield* options.emit(yield* progress.add(batch, outcome.batch, outcome.attempts))
        if (options.sleepMs > 0) yield* Effect.sleep(options.sleepMs)
      }
    }
    return { status: "succeeded", error: null, batches } satisfies DriveOutcome as DriveOutcome
  })
