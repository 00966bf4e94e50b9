/**
 * The runs a rollback works with: the source run it undoes (checked: it exists, it is a
 * normalisation, the batch is one of its own), the dry run's preview, the rollback's own run
 * (`operation = 'rollback'`, created with its audit-row count), and the conflicts it recorded.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { elapsedSince } from "../../shared/WallClock.ts"
import { describeCause, MigrationError, queryFailed } from "../MigrationError.ts"
import { InvalidOptions, RunInProgress, RunNotFound } from "../MigrationErrorReason.ts"
import * as RunStore from "../schema/RunStore.ts"
import { resolveTarget, type ResolvedTarget } from "../schema/Target.ts"
import { exec } from "../sql/BoundStatement.ts"
import type { RollbackConflict, RollbackOptions, RollbackSummary } from "./RollbackModels.ts"
import { previewRollback, type RollbackScope } from "./RollbackStatements.ts"

/** A bad option (`InvalidOptions`). */
export const invalid = (detail: string) => new MigrationError({ reason: new InvalidOptions({ detail }) })

/** An SQL failure while doing `what` (`QueryFailed`); a `MigrationError` passes through. */
export const failed = queryFailed

/** The run being undone, its target and the rows in scope. */
export interface Source {
  readonly run: NonNullable<Effect.Success<ReturnType<typeof RunStore.findRun>>>
  readonly target: ResolvedTarget
  readonly scope: RollbackScope
}

/** Load and check the source run (and batch) of a rollback. */
export const loadSource = (options: RollbackOptions) =>
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

/** What a rollback would restore now, and what conflicts: writes nothing. */
export const dryRun = (source: Source, options: RollbackOptions, started: number) =>
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
      durationMs: yield* elapsedSince(started),
      error: null
    } satisfies RollbackSummary as RollbackSummary
  })

/** Create the rollback's own run (fails with `RunInProgress` when the target has an incomplete run). */
export const createRollbackRun = (source: Source, options: RollbackOptions, batchSize: number, owner: string) =>
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

/** The conflicts a rollback run recorded: the total and the first `limit`. */
export const readConflicts = (rollbackRunId: string, limit: number) =>
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

