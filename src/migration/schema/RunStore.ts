/**
 * The run lifecycle in the tracking tables: creating a run with its baseline counts (rows, NULLs,
 * non-canonical values, per fund), finding and resuming an incomplete run (its interrupted
 * batches are marked failed and `redone`), reading the checkpoint, and closing a run. Internal to
 * the runner; the tables are the public contract.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import type { Vocabulary } from "../../normalizer/Vocabulary.ts"
import { describeCause, MigrationError, queryFailed } from "../MigrationError.ts"
import { RunInProgress, RunNotFound } from "../MigrationErrorReason.ts"
import type { ResolvedTarget, TargetKind } from "./Target.ts"

/**
 * A run row, as the runner needs it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunRow {
  readonly runId: string
  readonly kind: TargetKind
  readonly idColumn: string
  readonly fundColumn: string | null
  readonly fundId: string | null
  readonly batchBy: "id" | "fund"
  readonly status: string
  readonly rowsTotal: number
  readonly rowsScanned: number
  readonly rowsUpdated: number
  readonly rowsSkipped: number
  readonly rowsFailed: number
  /** `normalize` (a `migrate` run) or `rollback` (a `rollback` run). */
  readonly operation: "normalize" | "rollback"
  /** For a rollback: the run it undoes. */
  readonly rollbackOf: string | null
}

/**
 * The checkpoint of a run.
 *
 * @since 0.1.0
 * @category models
 */
interface Checkpoint {
  readonly fundPosition: string | null
  readonly lastId: string | null
  readonly nextBatchNo: number
  readonly batchSize: number
  readonly cancelRequested: boolean
}


interface RunRecord {
  run_id: string
  kind: TargetKind
  id_column: string
  fund_column: string | null
  fund_id: string | null
  batch_by: "id" | "fund"
  status: string
  rows_total: string | null
  rows_scanned: string
  rows_updated: string
  rows_skipped: string
  rows_failed: string
  operation: "normalize" | "rollback"
  rollback_of: string | null
}

const toRunRow = (r: RunRecord): RunRow => ({
  runId: r.run_id,
  kind: r.kind,
  idColumn: r.id_column,
  fundColumn: r.fund_column,
  fundId: r.fund_id,
  batchBy: r.batch_by,
  status: r.status,
  rowsTotal: Number(r.rows_total ?? 0),
  rowsScanned: Number(r.rows_scanned),
  rowsUpdated: Number(r.rows_updated),
  rowsSkipped: Number(r.rows_skipped),
  rowsFailed: Number(r.rows_failed),
  operation: r.operation,
  rollbackOf: r.rollback_of
})

// `operation` / `rollback_of` through to_jsonb: readable before migration 3 is applied (the
// pre-checks of `--resume` and the backup gate run before the tracking schema is brought up to date).
const runColumns = `r.run_id::text AS run_id, r.kind, r.id_column, r.fund_column, r.fund_id, r.batch_by, r.status,
  r.rows_total::text AS rows_total, r.rows_scanned::text AS rows_scanned, r.rows_updated::text AS rows_updated,
  r.rows_skipped::text AS rows_skipped, r.rows_failed::text AS rows_failed,
  coalesce(to_jsonb(r) ->> 'operation', 'normalize') AS operation, to_jsonb(r) ->> 'rollback_of' AS rollback_of`

/**
 * The incomplete (running, paused or failed) applied run of a target, if any.
 *
 * @since 0.1.0
 * @category runs
 */
export const findIncompleteRun = (target: ResolvedTarget) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<RunRecord>(
      `SELECT ${runColumns} FROM stage_migration_runs r
       WHERE target_table = $1 AND target_column = $2 AND status IN ('running', 'paused', 'failed') AND NOT dry_run
       ORDER BY run_id DESC LIMIT 1`,
      [target.label, target.column.name]
    ).pipe(Effect.mapError(queryFailed("looking for an incomplete run")))
    return rows[0] === undefined ? undefined : toRunRow(rows[0])
  })

/**
 * A run by id.
 *
 * @since 0.1.0
 * @category runs
 */
export const findRun = (runId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<RunRecord & { target_table: string; target_column: string }>(
      `SELECT ${runColumns}, r.target_table, r.target_column FROM stage_migration_runs r WHERE r.run_id = $1::text::bigint`,
      [runId]
    ).pipe(Effect.mapError(queryFailed(`reading run ${runId}`)))
    const row = rows[0]
    return row === undefined ? undefined : { ...toRunRow(row), targetTable: row.target_table, targetColumn: row.target_column }
  })

/**
 * @since 0.1.0
 * @category models
 */
interface NewRun {
  readonly target: ResolvedTarget
  readonly fundId: string | null
  readonly batchBy: "id" | "fund"
  readonly batchSize: number
  readonly parameters: Record<string, unknown>
  readonly vocabulary: Vocabulary<string>
  readonly owner: string
}

/** The baseline counts of a new run: rows, NULLs and (scalar) non-canonical values, per fund when there is a fund column. */
const baselineCounts = (run: NewRun) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { target } = run
    const fund = target.fund
    const params: Array<unknown> = []
    const bind = (value: unknown, cast: string) => {
      params.push(value)
      return `$${params.length}::${cast}`
    }
    const noncanonical = target.kind === "scalar"
      ? `count(*) FILTER (WHERE t.${target.column.sql} IS NOT NULL AND t.${target.column.sql}::text <> ALL(${
        bind(run.vocabulary.canonical, "text[]")
      }))::text`
      : "NULL::text"
    const filter = run.fundId !== null && fund !== undefined ? `t.${fund.sql} = ${bind(run.fundId, `text::${fund.type}`)}` : "TRUE"
    return yield* sql.unsafe<{ fund: string | null; total: string; nulls: string; noncanonical: string | null }>(
      `SELECT ${fund === undefined ? "NULL::text" : `t.${fund.sql}::text`} AS fund,
              count(*)::text AS total,
              count(*) FILTER (WHERE t.${target.column.sql} IS NULL)::text AS nulls,
              ${noncanonical} AS noncanonical
       FROM ${target.sql} AS t
       WHERE ${filter}
       ${fund === undefined ? "" : `GROUP BY t.${fund.sql} ORDER BY t.${fund.sql} NULLS LAST`}`,
      params
    ).pipe(Effect.mapError(queryFailed(`counting ${target.label}`)))
  })

/**
 * Create a run, its checkpoint and its baselines (one transaction; a full count of the target,
 * per fund when it has a fund column).
 *
 * @since 0.1.0
 * @category runs
 */
export const createRun = (run: NewRun) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { target } = run
    const fund = target.fund
    const groups = yield* baselineCounts(run)
    const sum = (pick: (g: (typeof groups)[number]) => string | null) =>
      groups.reduce((n, g) => n + Number(pick(g) ?? 0), 0)
    const rowsTotal = sum((g) => g.total)
    return yield* sql.withTransaction(Effect.gen(function*() {
      const inserted = yield* sql.unsafe<{ run_id: string }>(
        `INSERT INTO stage_migration_runs (target_table, target_column, id_column, fund_column, kind, fund_id, batch_by,
           status, parameters, vocabulary_name, vocabulary_version, owner, heartbeat_at,
           rows_total, rows_null, rows_noncanonical)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8::jsonb, $9, $10, $11, now(), $12::int8, $13::int8, $14::int8)
         RETURNING run_id::text AS run_id`,
        [
          target.label,
          target.column.name,
          target.id.name,
          fund?.name ?? null,
          target.kind,
          run.fundId,
          run.batchBy,
          JSON.stringify(run.parameters),
          run.vocabulary.name,
          run.vocabulary.version,
          run.owner,
          String(rowsTotal),
          String(sum((g) => g.nulls)),
          target.kind === "scalar" ? String(sum((g) => g.noncanonical)) : null
        ]
      )
      const runId = inserted[0]!.run_id
      yield* sql.unsafe(`UPDATE stage_migration_runs SET start_xid = pg_current_xact_id()::text WHERE run_id = $1::bigint`, [runId])
      yield* sql.unsafe(
        `INSERT INTO stage_migration_control (run_id, batch_size) VALUES ($1::bigint, $2::int)`,
        [runId, run.batchSize]
      )
      if (fund !== undefined && groups.length > 0) {
        yield* sql.unsafe(
          `INSERT INTO stage_migration_run_funds (run_id, position, fund_id, rows_total, rows_null, rows_noncanonical)
           SELECT $1::bigint, g.position, g.fund, g.total::int8, g.nulls::int8, g.noncanonical::int8
           FROM json_to_recordset($2::text::json) AS g(position int, fund text, total text, nulls text, noncanonical text)`,
          [runId, JSON.stringify(groups.map((g, i) => ({ position: i + 1, ...g })))]
        )
      }
      return runId
    })).pipe(
      Effect.mapError((cause) =>
        cause instanceof MigrationError
          ? cause
          : describeCause(cause).includes("stage_migration_runs_one_incomplete_idx")
          ? new MigrationError({
            reason: new RunInProgress({
              detail: `${target.label}.${target.column.name} already has an incomplete run; resume it or cancel it`,
              cause
            })
          })
          : queryFailed(`creating a run for ${target.label}`)(cause)
      )
    )
  })

/**
 * Take over or join an incomplete run: mark it running (counting a resume when it was not
 * running) and clear a stale cancel request. Its open batches are not touched here: workers
 * reclaim them one by one once their owners are gone (`RangeLeases`), so joining a run others
 * still work on takes nothing from them.
 *
 * @since 0.1.0
 * @category runs
 */
export const resumeRun = (runId: string, owner: string, embedded = false) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // joining workers that are alive is not a resume; taking over a run whose workers are gone is
    const live = embedded
      ? "false"
      : `EXISTS (SELECT 1 FROM stage_migration_workers w WHERE w.run_id = $1::bigint AND w.finished_at IS NULL
           AND NOT pg_try_advisory_xact_lock(hashtextextended('stage-normalization:session:' || w.session, 0)))`
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* sql.unsafe(
        `UPDATE stage_migration_runs
         SET resumed_count = resumed_count + CASE WHEN status = 'running' AND ${live} THEN 0 ELSE 1 END,
             status = 'running', owner = $2, heartbeat_at = now(), finished_at = NULL,
             error_message = CASE WHEN status = 'running' THEN error_message END
         WHERE run_id = $1::bigint`,
        [runId, owner]
      )
      yield* sql.unsafe(`UPDATE stage_migration_control SET cancel_requested = false WHERE run_id = $1::bigint`, [runId])
    })).pipe(Effect.mapError(queryFailed(`resuming run ${runId}`)))
  })

/**
 * The checkpoint of a run.
 *
 * @since 0.1.0
 * @category runs
 */
export const readCheckpoint = (runId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<
      { fund_position: string | null; last_id: string | null; next_batch_no: number; batch_size: number; cancel_requested: boolean }
    >(
      `SELECT fund_position, last_id, next_batch_no, batch_size, cancel_requested
       FROM stage_migration_control WHERE run_id = $1::bigint`,
      [runId]
    ).pipe(Effect.mapError(queryFailed(`reading the checkpoint of run ${runId}`)))
    const row = rows[0]
    if (row === undefined) {
      return yield* new MigrationError({ reason: new RunNotFound({ detail: `run ${runId} has no checkpoint` }) })
    }
    return {
      fundPosition: row.fund_position,
      lastId: row.last_id,
      nextBatchNo: row.next_batch_no,
      batchSize: row.batch_size,
      cancelRequested: row.cancel_requested
    } satisfies Checkpoint as Checkpoint
  })

/**
 * The funds of a run in visiting order (`null`: rows without a fund).
 *
 * @since 0.1.0
 * @category runs
 */
export const runFunds = (runId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ fund_id: string | null }>(
      `SELECT fund_id FROM stage_migration_run_funds WHERE run_id = $1::bigint ORDER BY position`,
      [runId]
    ).pipe(Effect.mapError(queryFailed(`reading the funds of run ${runId}`)))
    return rows.map((r) => r.fund_id)
  })

/**
 * The current counters of a run.
 *
 * @since 0.1.0
 * @category runs
 */
export const readRun = (runId: string) =>
  Effect.gen(function*() {
    const run = yield* findRun(runId)
    if (run === undefined) return yield* new MigrationError({ reason: new RunNotFound({ detail: `run ${runId} does not exist` }) })
    return run
  })

/**
 * Close a run with a final (or paused) status.
 *
 * @since 0.1.0
 * @category runs
 */
export const closeRun = (runId: string, status: "succeeded" | "paused" | "failed" | "cancelled", error: string | null) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(
      `UPDATE stage_migration_runs
       SET status = $2, error_message = $3, heartbeat_at = now(),
           finished_at = CASE WHEN $2 IN ('succeeded', 'cancelled') THEN now() END
       WHERE run_id = $1::bigint`,
      [runId, status, error]
    ).pipe(Effect.mapError(queryFailed(`closing run ${runId}`)))
  })

/**
 * Is cancellation requested for a run?
 *
 * @since 0.1.0
 * @category runs
 */
export const cancelRequested = (runId: string) =>
  Effect.map(readCheckpoint(runId), (c) => c.cancelRequested)

/**
 * The parameters a run was started with.
 *
 * @since 0.1.0
 * @category runs
 */
export const readParameters = (runId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ parameters: string }>(
      `SELECT parameters::text AS parameters FROM stage_migration_runs WHERE run_id = $1::bigint`,
      [runId]
    ).pipe(Effect.mapError(queryFailed(`reading the parameters of run ${runId}`)))
    return (rows[0] === undefined ? {} : JSON.parse(rows[0].parameters)) as Record<string, unknown>
  })
