/**
 * Cancelling a run (`migrate --cancel`). When a runner holds the target's lock, the run's
 * checkpoint gets `cancel_requested` and the runner stops after its current batch, marking the
 * run `cancelled`. When none does (the run is paused, failed, or its process died), the run is
 * marked `cancelled` at once. A cancelled run is complete: it is never resumed, and the next
 * `--apply` starts a new run (already-canonical rows cost nothing).
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { InvalidOptions, QueryFailed, RunNotFound } from "../MigrationErrorReason.ts"
import * as RunStore from "../schema/RunStore.ts"
import { resolveTarget, type TargetSpec } from "../schema/Target.ts"
import { isTargetLocked } from "../schema/TargetLock.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface CancelOutcome {
  readonly runId: string
  readonly previousStatus: string
  /** `cancelled`: done now; `requested`: the active runner stops after its current batch. */
  readonly action: "cancelled" | "requested"
}

/**
 * Cancel a run by id, or the incomplete run of a target.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { cancelRun } from "stage-normalization/migration"
 * const program = cancelRun({ target: { table: "portfolio_companies", column: "stage" } }).pipe(
 *   Effect.map((o) => `run ${o.runId}: ${o.action}`)
 * )
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const cancelRun = Effect.fn("Migration.cancel")(function*(
  options: { readonly runId?: string | undefined; readonly target?: TargetSpec | undefined }
) {
  const sql = yield* SqlClient.SqlClient
  const tracked = yield* sql<{ ok: boolean }>`SELECT to_regclass('stage_migration_runs') IS NOT NULL AS ok`.pipe(
    Effect.mapError((cause) => new MigrationError({ reason: new QueryFailed({ detail: describeCause(cause), cause }) }))
  )
  if (tracked[0]?.ok !== true) {
    return yield* new MigrationError({ reason: new RunNotFound({ detail: "this database has no migration runs (no tracking tables)" }) })
  }
  let run: { runId: string; status: string; targetTable: string; targetColumn: string; idColumn: string; fundColumn: string | null }
  if (options.runId !== undefined) {
    if (!/^\d+$/.test(options.runId)) {
      return yield* new MigrationError({ reason: new InvalidOptions({ detail: `--run must be a run id (a number), got ${options.runId}` }) })
    }
    const found = yield* RunStore.findRun(options.runId)
    if (found === undefined) return yield* new MigrationError({ reason: new RunNotFound({ detail: `run ${options.runId} does not exist` }) })
    run = found
  } else {
    const target = yield* resolveTarget(options.target ?? {})
    const found = yield* RunStore.findIncompleteRun(target)
    if (found === undefined) {
      return yield* new MigrationError({
        reason: new RunNotFound({
          detail: `${target.label}.${target.column.name} has no incomplete run to cancel`
        })
      })
    }
    run = { ...found, targetTable: target.label, targetColumn: target.column.name }
  }
  if (!["running", "paused", "failed"].includes(run.status)) {
    return yield* new MigrationError({ reason: new RunNotFound({ detail: `run ${run.runId} is already ${run.status}` }) })
  }
  const target = yield* resolveTarget({
    table: run.targetTable,
    column: run.targetColumn,
    idColumn: run.idColumn,
    fundColumn: run.fundColumn
  }).pipe(Effect.option)
  const active = target._tag === "Some" ? yield* isTargetLocked(target.value) : false
  if (active) {
    yield* sql`UPDATE stage_migration_control SET cancel_requested = true WHERE run_id = ${run.runId}::bigint`.pipe(
      Effect.mapError((cause) => new MigrationError({ reason: new QueryFailed({ detail: describeCause(cause), cause }) }))
    )
    return { runId: run.runId, previousStatus: run.status, action: "requested" } satisfies CancelOutcome as CancelOutcome
  }
  yield* RunStore.closeRun(run.runId, "cancelled", "cancelled by operator")
  return { runId: run.runId, previousStatus: run.status, action: "cancelled" } satisfies CancelOutcome as CancelOutcome
})
