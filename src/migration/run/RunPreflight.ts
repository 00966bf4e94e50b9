/**
 * The read-only look at a target's runs before `migrate` writes anything (not even the tracking
 * schema): which incomplete run it would resume or join, and the refusals that need no lock —
 * `--resume` with nothing to resume, `--join RUN` when RUN is not the target's incomplete run,
 * an unfinished rollback on the target. A joiner never reaches the backup gate: it either joins
 * the run (which passed, or skipped, the gate when it started) or is refused here.
 *
 * @since 0.4.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { MigrationError, queryFailed } from "../MigrationError.ts"
import { NothingToResume, RunInProgress } from "../MigrationErrorReason.ts"
import * as RunStore from "../schema/RunStore.ts"
import type { ResolvedTarget } from "../schema/Target.ts"
import type { MigrateOptions } from "./RunSettings.ts"

export const nothingToResume = (target: ResolvedTarget) =>
  new MigrationError({
    reason: new NothingToResume({
      detail: `${target.label}.${target.column.name} has no incomplete run to resume (run without --resume to start one)`
    })
  })

export const rollbackPending = (target: ResolvedTarget, run: RunStore.RunRow) =>
  new MigrationError({
    reason: new RunInProgress({
      detail: `run ${run.runId} on ${target.label}.${target.column.name} is an unfinished rollback of run ${run.rollbackOf}; ` +
        `finish it (\`rollback --run ${run.rollbackOf} --apply\`) or cancel it (\`migrate --cancel --run ${run.runId}\`) first`
    })
  })

export const cannotJoin = (target: ResolvedTarget, runId: string, incomplete: RunStore.RunRow | undefined) =>
  new MigrationError({
    reason: new NothingToResume({
      detail: incomplete === undefined
        ? `run ${runId} is not an incomplete run of ${target.label}.${target.column.name}: there is none to join`
        : `run ${runId} is not the incomplete run of ${target.label}.${target.column.name} (run ${incomplete.runId} is); join that one`
    })
  })

/** What the preflight found: the incomplete run to work on (none: a new run starts, gated first). */
export interface Preflight {
  readonly newRun: boolean
  readonly pending: RunStore.RunRow | undefined
}

/**
 * The target's incomplete run, read without writing; refuses `--resume` with nothing to resume,
 * `--join RUN` when RUN is not the target's incomplete run, and an unfinished rollback.
 */
export const preflight = (target: ResolvedTarget, options: MigrateOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const tracked = yield* sql<{ ok: boolean }>`SELECT to_regclass('stage_migration_runs') IS NOT NULL AS ok`.pipe(
      Effect.mapError(queryFailed("looking for the tracking tables"))
    )
    const found = tracked[0]?.ok === true ? yield* RunStore.findIncompleteRun(target) : undefined
    const cancelled = found === undefined
      ? false
      : yield* RunStore.readCheckpoint(found.runId).pipe(Effect.map((c) => c.cancelRequested), Effect.orElseSucceed(() => false))
    const pending = cancelled ? undefined : found
    if (pending !== undefined && pending.operation === "rollback") return yield* rollbackPending(target, pending)
    if (options.joinRunId !== undefined && pending?.runId !== options.joinRunId) return yield* cannotJoin(target, options.joinRunId, pending)
    if (options.resume === true && pending === undefined) return yield* nothingToResume(target)
    return { newRun: pending === undefined, pending } satisfies Preflight as Preflight
  })
