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
 * - One active run per target: a rollback takes the target's lock, like `migrate`.
 *
 * @since 0.1.0
 */
import { Cause, Effect, Exit, Schedule } from "effect"
import { SqlClient, SqlError } from "effect/sql"
import type { BoundStatement } from "../run/BatchStatements.ts"
import { finishBatch } from "../run/BatchStatements.ts"
import type { MigrationEvent } from "../MigrationEvent.ts"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { InvalidOptions, LockLost, QueryFailed, ResumeMismatch, RunInProgress, RunNotFound } from "../MigrationErrorReason.ts"
import { claimRollbackBatch, previewRollback, rollbackBatch, type RollbackScope } from "./RollbackStatements.ts"
import * as RunStore from "../schema/RunStore.ts"
import { resolveTarget, type ResolvedTarget } from "../schema/Target.ts"
import { acquireTargetLock } from "../schema/TargetLock.ts"
import { ensureTrackingSchema } from "../schema/TrackingSchema.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface RollbackOptions {
  /** The normalisation run to undo. */
  readonly runId: string
  /** Only this batch of it. */
  readonly batchId?: string | undefined
  /** Write (default false: report what would be restored and what conflicts, writing nothing). */
  readonly apply?: boolean | undefined
  /** Audit rows per batch (default 1,000). */
  readonly batchSize?: number | undefined
  /** Pause between batches (default 100 ms). */
  readonly sleepMs?: number | undefined
  /** Conflicts listed in the summary (default 100; all are in `stage_rollback_conflicts`). */
  readonly conflictsLimit?: number | undefined
  readonly onEvent?: ((event: MigrationEvent) => Effect.Effect<void>) | undefined
  /** Polled between batches: `true` pauses the rollback (signals). */
  readonly shouldStop?: Effect.Effect<boolean> | undefined
  readonly owner?: string | undefined
  /** Attempts per batch for transient errors (default 3). */
  readonly maxAttempts?: number | undefined
}

/**
 * A row the rollback left alone.
 *
 * @since 0.1.0
 * @category models
 */
export interface RollbackConflict {
  readonly pk: string
  /** What the run wrote (and the rollback expected to find). */
  readonly expected: string | null
  /** What the row holds now (null when deleted or NULL). */
  readonly found: string | null
  readonly missing: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RollbackSummary {
  readonly sourceRunId: string
  readonly batchId: string | null
  /** The rollback's own run (null for a dry run). */
  readonly rollbackRunId: string | null
  readonly status: "dry-run" | "succeeded" | "paused" | "cancelled" | "failed"
  readonly target: string
  readonly column: string
  readonly kind: "scalar" | "distribution"
  readonly resumed: boolean
  /** Audit rows of the source run in scope. */
  readonly auditRows: number
  /** Reverted by an earlier rollback. */
  readonly alreadyRestored: number
  /** Restored (dry run: restorable now). */
  readonly restored: number
  /** Changed or deleted since the run: left alone. */
  readonly conflicts: number
  readonly conflictList: ReadonlyArray<RollbackConflict>
  readonly batches: number
  readonly durationMs: number
  readonly error: string | null
}

const invalid = (detail: string) => new MigrationError({ reason: new InvalidOptions({ detail }) })

const failed = (what: string) => (cause: unknown) =>
  cause instanceof MigrationError
    ? cause
    : new MigrationError({ reason: new QueryFailed({ detail: `${what}: ${describeCause(cause)}`, cause }) })

const exec = <A extends object>(statement: BoundStatement) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.unsafe<A>(statement.text, statement.params)
  })

const isTransient = (cause: Cause.Cause<unknown>): boolean => {
  const error = Cause.squash(cause)
  return SqlError.isSqlError(error) && error.reason.isRetryable
}

interface Source {
  readonly run: NonNullable<Effect.Success<ReturnType<typeof RunStore.findRun>>>
  readonly target: ResolvedTarget
  readonly scope: RollbackScope
}

const loadSource = (options: RollbackOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    if (!/^\d+$/.test(options.runId)) return yield* invalid(`--run must be a run id (a number), got ${JSON.stringify(options.runId)}`)
    if (options.batchId !== undefined && !/^\d+$/.test(options.batchId)) {
      return yield* invalid(`--batch must be a batch id (a number), got ${JSON.stringify(options.batchId)}`)
    }
    const tracked = yield* sql<{ ok: boolean }>`SELECT to_regclass('stage_migration_runs') IS NOT NULL AS ok`.pipe(
      Effect.mapError(failed("looking for the tracking tables"))
    )
    if (tracked[0]?.ok !== true) {
      return yield* new MigrationError({ reason: new RunNotFound({ detail: `run ${options.runId} does not exist (this database has no migration runs)` }) })
    }
    const run = yield* RunStore.findRun(options.runId)
    if (run === undefined) return yield* new MigrationError({ reason: new RunNotFound({ detail: `run ${options.runId} does not exist` }) })
    if (run.operation === "rollback") {
      return yield* invalid(`run ${run.runId} is itself a rollback (of run ${run.rollbackOf}); to redo the normalisation, run migrate --apply`)
    }
    if (options.batchId !== undefined) {
      const batch = yield* sql<{ ok: boolean }>`
        SELECT EXISTS (SELECT 1 FROM stage_migration_batches WHERE batch_id = ${options.batchId}::bigint AND run_id = ${run.runId}::bigint) AS ok`
        .pipe(Effect.mapError(failed("looking for the batch")))
      if (batch[0]?.ok !== true) return yield* invalid(`batch ${options.batchId} is not a batch of run ${run.runId}`)
    }
    const target = yield* resolveTarget({
      table: run.targetTable,
      column: run.targetColumn,
      idColumn: run.idColumn,
      fundColumn: run.fundColumn
    })
    return { run, target, scope: { sourceRunId: run.runId, batchId: options.batchId ?? null } } satisfies Source as Source
  })

const hasRevertsColumn = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ ok: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('stage_normalization_log')
                   AND attname = 'reverts_log_id' AND NOT attisdropped) AS ok`
  return rows[0]?.ok === true
})

const dryRun = (source: Source, options: RollbackOptions, started: number) =>
  Effect.gen(function*() {
    const reverted = yield* hasRevertsColumn
    const rows = yield* exec<{ total: number; already: number; restorable: number; conflicts: number; examples: string }>(
      previewRollback(source.target, source.scope, { reverted, limit: options.conflictsLimit ?? 100 })
    )
    const r = rows[0]!
    return {
      sourceRunId: source.run.runId,
      batchId: source.scope.batchId,
      rollbackRunId: null,
      status: "dry-run",
      target: source.target.label,
      column: source.target.column.name,
      kind: source.target.kind,
      resumed: false,
      auditRows: r.total,
      alreadyRestored: r.already,
      restored: r.restorable,
      conflicts: r.conflicts,
      conflictList: JSON.parse(r.examples) as Array<RollbackConflict>,
      batches: 0,
      durationMs: Date.now() - started,
      error: null
    } satisfies RollbackSummary as RollbackSummary
  })

const createRollbackRun = (source: Source, options: RollbackOptions, batchSize: number, owner: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      const total = yield* exec<{ n: string }>({
        text: `SELECT count(*)::text AS n FROM stage_normalization_log l WHERE l.run_id = $1::bigint ${
          source.scope.batchId === null ? "" : "AND l.batch_id = $2::bigint"
        }`,
        params: source.scope.batchId === null ? [source.run.runId] : [source.run.runId, source.scope.batchId]
      })
      const inserted = yield* sql.unsafe<{ run_id: string }>(
        `INSERT INTO stage_migration_runs (target_table, target_column, id_column, fund_column, kind, fund_id, batch_by,
           status, parameters, vocabulary_name, vocabulary_version, owner, heartbeat_at, rows_total, operation, rollback_of)
         SELECT target_table, target_column, id_column, fund_column, kind, NULL, 'id', 'running', $2::jsonb,
                vocabulary_name, vocabulary_version, $3, now(), $4::int8, 'rollback', run_id
         FROM stage_migration_runs WHERE run_id = $1::bigint
         RETURNING run_id::text AS run_id`,
        [
          source.run.runId,
          JSON.stringify({ rollbackOf: source.run.runId, batchId: source.scope.batchId, batchSize, sleepMs: options.sleepMs ?? 100 }),
          owner,
          total[0]?.n ?? "0"
        ]
      )
      const runId = inserted[0]!.run_id
      yield* sql.unsafe(`INSERT INTO stage_migration_control (run_id, batch_size) VALUES ($1::bigint, $2::int)`, [runId, batchSize])
      return runId
    })).pipe(
      Effect.mapError((cause) =>
        describeCause(cause).includes("stage_migration_runs_one_incomplete_idx")
          ? new MigrationError({
            reason: new RunInProgress({
              detail: `${source.target.label}.${source.target.column.name} already has an incomplete run; finish or cancel it first`,
              cause
            })
          })
          : failed(`creating the rollback of run ${source.run.runId}`)(cause)
      )
    )
  })

const readConflicts = (rollbackRunId: string, limit: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ pk: string; expected: string | null; found: string | null; row_missing: boolean; n: string }>(
      `SELECT pk, expected, found, row_missing, count(*) OVER ()::text AS n FROM stage_rollback_conflicts
       WHERE run_id = $1::bigint ORDER BY log_id LIMIT $2::int`,
      [rollbackRunId, limit]
    )
    const total = yield* sql.unsafe<{ n: string }>(
      `SELECT count(*)::text AS n FROM stage_rollback_conflicts WHERE run_id = $1::bigint`,
      [rollbackRunId]
    )
    return {
      total: Number(total[0]?.n ?? 0),
      list: rows.map((r): RollbackConflict => ({ pk: r.pk, expected: r.expected, found: r.found, missing: r.row_missing }))
    }
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
  const started = Date.now()
  const batchSize = options.batchSize ?? 1_000
  const sleepMs = options.sleepMs ?? 100
  const maxAttempts = options.maxAttempts ?? 3
  if (!Number.isInteger(batchSize) || batchSize < 1) return yield* invalid(`--batch-size must be an integer ≥ 1, got ${batchSize}`)
  if (!Number.isInteger(sleepMs) || sleepMs < 0) return yield* invalid(`--sleep-ms must be an integer ≥ 0, got ${sleepMs}`)
  const source = yield* loadSource(options)
  const where = `${source.target.label}.${source.target.column.name}`
  if (options.apply !== true) return yield* dryRun(source, options, started).pipe(Effect.mapError(failed(`previewing the rollback of run ${source.run.runId}`)))

  if (["running", "paused", "failed"].includes(source.run.status)) {
    return yield* new MigrationError({
      reason: new RunInProgress({
        detail: `run ${source.run.runId} is ${source.run.status}: cancel it first (\`migrate --cancel --run ${source.run.runId}\`) ` +
          "so it is not resumed later, then roll it back"
      })
    })
  }
  const emit = options.onEvent ?? (() => Effect.void)
  const shouldStop = options.shouldStop ?? Effect.succeed(false)
  const owner = options.owner ?? `pid ${process.pid}@${process.env["HOSTNAME"] ?? "localhost"}`
  yield* ensureTrackingSchema

  return yield* Effect.scoped(Effect.gen(function*() {
    const lock = yield* acquireTargetLock(source.target)
    const incomplete = yield* RunStore.findIncompleteRun(source.target)
    let runId: string
    let resumed = false
    if (incomplete !== undefined) {
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
      runId = incomplete.runId
      resumed = true
      yield* RunStore.resumeRun(runId, owner)
    } else {
      runId = yield* createRollbackRun(source, options, batchSize, owner)
    }
    const close = (status: "succeeded" | "paused" | "cancelled" | "failed", error: string | null, batches: number) =>
      Effect.gen(function*() {
        yield* RunStore.closeRun(runId, status, error)
        const run = yield* RunStore.readRun(runId)
        const conflicts = yield* readConflicts(runId, options.conflictsLimit ?? 100).pipe(Effect.mapError(failed("reading conflicts")))
        const durationMs = Date.now() - started
        const totals = { scanned: run.rowsScanned, updated: run.rowsUpdated, skipped: run.rowsSkipped, failed: run.rowsFailed }
        yield* emit({ _tag: "RunFinished", runId, status, totals, durationMs, error })
        return {
          sourceRunId: source.run.runId,
          batchId: source.scope.batchId,
          rollbackRunId: runId,
          status,
          target: source.target.label,
          column: source.target.column.name,
          kind: source.target.kind,
          resumed,
          auditRows: run.rowsTotal,
          alreadyRestored: run.rowsSkipped,
          restored: run.rowsUpdated,
          conflicts: conflicts.total,
          conflictList: conflicts.list,
          batches,
          durationMs,
          error
        } satisfies RollbackSummary as RollbackSummary
      })

    let batches = 0
    const body = Effect.gen(function*() {
      const run = yield* RunStore.readRun(runId)
      const checkpoint = yield* RunStore.readCheckpoint(runId)
      const maxNo = yield* exec<{ n: number }>({
        text: "SELECT coalesce(max(batch_no), 0)::int AS n FROM stage_migration_batches WHERE run_id = $1::bigint",
        params: [runId]
      })
      let batchNo = (maxNo[0]?.n ?? 0) + 1
      let lo = checkpoint.lastId
      const totals = { scanned: run.rowsScanned, updated: run.rowsUpdated, skipped: run.rowsSkipped, failed: run.rowsFailed }
      yield* emit({
        _tag: "RunStarted",
        runId,
        target: source.target.label,
        column: source.target.column.name,
        kind: source.target.kind,
        batchBy: "id",
        fundId: null,
        resumed,
        rowsTotal: run.rowsTotal,
        alreadyScanned: totals.scanned,
        batchSize
      })
      while (true) {
        if (yield* shouldStop) return yield* close("paused", null, batches)
        if (yield* RunStore.cancelRequested(runId)) return yield* close("cancelled", "cancelled by operator", batches)
        if (!(yield* lock.stillHeld)) {
          return yield* new MigrationError({
            reason: new LockLost({
              detail: `lost the lock on ${where} (connection closed?); rollback run ${runId} stays incomplete — run the rollback again to resume it`
            })
          })
        }
        const claimed = yield* exec<{ batch_id: string; range_end: string }>(
          claimRollbackBatch(source.scope, { runId, batchNo, lo, limit: batchSize })
        ).pipe(Effect.retry({
          times: maxAttempts - 1,
          schedule: Schedule.spaced(200),
          while: (e) => SqlError.isSqlError(e) && e.reason.isRetryable
        }))
        const row = claimed[0]
        if (row === undefined) break
        const batchId = row.batch_id
        const hi = row.range_end
        const thisBatchNo = batchNo
        batchNo++
        const sql = yield* SqlClient.SqlClient
        const attempt = sql.withTransaction(Effect.gen(function*() {
          const t0 = Date.now()
          const counts = (yield* exec<{ in_range: number; pending: number; restored: number; conflicts: number }>(
            rollbackBatch(source.target, source.scope, { runId, batchId, lo, hi })
          ))[0]!
          const result = {
            scanned: counts.in_range,
            updated: counts.restored,
            skipped: counts.in_range - counts.pending,
            failed: counts.conflicts
          }
          yield* exec(finishBatch({
            runId,
            batchId,
            batchNo: thisBatchNo,
            partition: { _tag: "All" },
            hi,
            nextBatchSize: batchSize,
            ...result
          }))
          return { ...result, durationMs: Date.now() - t0 }
        }))
        let attempts = 1
        let outcome = yield* Effect.exit(attempt)
        while (Exit.isFailure(outcome) && !Cause.hasInterruptsOnly(outcome.cause) && isTransient(outcome.cause) && attempts < maxAttempts) {
          const message = describeCause(Cause.squash(outcome.cause))
          yield* RunStore.recordAttempt(batchId, message, null).pipe(Effect.ignore)
          yield* emit({ _tag: "BatchRetrying", runId, batchId, attempt: attempts + 1, delayMs: 200 * attempts, error: message })
          yield* Effect.sleep(200 * attempts)
          attempts++
          outcome = yield* Effect.exit(attempt)
        }
        if (Exit.isFailure(outcome)) {
          if (Cause.hasInterruptsOnly(outcome.cause)) return yield* Effect.interrupt
          const message = describeCause(Cause.squash(outcome.cause))
          yield* RunStore.failBatch(batchId, message).pipe(Effect.ignore)
          return yield* close("failed", `batch ${batchId} failed: ${message}`, batches)
        }
        const r = outcome.value
        const rangeStart = lo
        batches++
        totals.scanned += r.scanned
        totals.updated += r.updated
        totals.skipped += r.skipped
        totals.failed += r.failed
        lo = hi
        yield* emit({
          _tag: "BatchCompleted",
          runId,
          batchId,
          batchNo: thisBatchNo,
          fundId: null,
          rangeStart,
          rangeEnd: hi,
          scanned: r.scanned,
          updated: r.updated,
          skipped: r.skipped,
          failed: r.failed,
          durationMs: r.durationMs,
          attempts,
          totals: { ...totals },
          rowsTotal: run.rowsTotal,
          rowsPerSecond: 0,
          etaSeconds: null,
          nextBatchSize: batchSize
        })
        if (sleepMs > 0) yield* Effect.sleep(sleepMs)
      }
      return yield* close("succeeded", null, batches)
    })
    return yield* body.pipe(
      Effect.mapError(failed(`rolling back run ${source.run.runId} (rollback run ${runId})`)),
      Effect.onInterrupt(() => RunStore.closeRun(runId, "paused", null).pipe(Effect.ignore))
    )
  }))
})
