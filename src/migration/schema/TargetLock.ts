/**
 * One active run per target. On a real PostgreSQL the lock is a session-level advisory lock
 * (`pg_try_advisory_lock(hashtextextended('stage-normalization:migrate:<table>.<column>', 0))`)
 * held on a connection reserved for the whole run: it is released when the run ends and, if the
 * process dies, when PostgreSQL notices the closed socket — so a crashed run can be resumed at
 * once, and no two processes can apply to the same target. The embedded database is a single
 * session (advisory locks are re-entrant there) reachable only from this process, so an
 * in-process registry takes the lock's place; it also guards two fibers of one process on a real
 * server before they reach the database.
 *
 * @since 0.1.0
 */
import { Effect, Scope } from "effect"
import { SqlClient } from "effect/sql"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { QueryFailed, RunInProgress } from "../MigrationErrorReason.ts"
import type { ResolvedTarget } from "./Target.ts"

/**
 * A held target lock.
 *
 * @since 0.1.0
 * @category models
 */
export interface TargetLock {
  readonly name: string
  /** Does this process still hold it? (false when its connection was lost) */
  readonly stillHeld: Effect.Effect<boolean>
}

const heldInProcess = new Set<string>()

/**
 * The advisory-lock name of a target.
 *
 * @example
 * ```ts

 * targetLockName({ label: "public.portfolio_companies", column: { name: "stage" } })
 * // => "stage-normalization:migrate:public.portfolio_companies.stage"
 * ```
 *
 * @since 0.1.0
 * @category locking
 */
const targetLockName = (target: { readonly label: string; readonly column: { readonly name: string } }): string =>
  `stage-normalization:migrate:${target.label}.${target.column.name}`

/**
 * Is the connected database the embedded one (PGlite)? (Its version string names PGlite.)
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { isEmbeddedDatabase } from "./TargetLock.ts" // internal: not part of the package's API
 * import { layerFromUrl } from "stage-normalization/migration"
 * const program = isEmbeddedDatabase.pipe(Effect.provide(layerFromUrl("pglite://memory"))) // => true
 * ```
 *
 * @since 0.1.0
 * @category locking
 */
export const isEmbeddedDatabase: Effect.Effect<boolean, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ version: string }>`SELECT version() AS version`
  return (rows[0]?.version ?? "").includes("PGlite")
}).pipe(Effect.orElseSucceed(() => false))

const databaseIdentity = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ id: string }>`
    SELECT current_database() || '@' || coalesce(inet_server_port()::text, '') || '@' || pg_postmaster_start_time()::text AS id`
  return rows[0]?.id ?? ""
})

const busy = (target: ResolvedTarget) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ run_id: string; owner: string | null; status: string; age: string | null }>`
      SELECT run_id::text AS run_id, owner, status,
             round(extract(epoch FROM now() - coalesce(heartbeat_at, started_at)))::text AS age
      FROM stage_migration_runs
      WHERE target_table = ${target.label} AND target_column = ${target.column.name}
        AND status IN ('running', 'paused', 'failed') AND NOT dry_run
      ORDER BY run_id DESC LIMIT 1`.pipe(Effect.orElseSucceed(() => []))
    const run = rows[0]
    const who = run === undefined
      ? "another process"
      : `run ${run.run_id} (${run.owner ?? "unknown owner"}, last heartbeat ${run.age ?? "?"} s ago)`
    return new MigrationError({
      reason: new RunInProgress({
        detail: `${target.label}.${target.column.name} is being migrated by ${who}; ` +
          `wait for it to finish, or stop it with \`migrate --cancel\` — one active run per target`
      })
    })
  })

/**
 * Take the target's lock for the current scope, or fail with `RunInProgress` naming the run
 * that holds it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { acquireTargetLock } from "./TargetLock.ts" // internal: not part of the package's API
 * import { resolveTarget } from "stage-normalization/migration"
 * const program = Effect.scoped(
 *   resolveTarget({}).pipe(Effect.flatMap(acquireTargetLock), Effect.flatMap((lock) => lock.stillHeld))
 * )
 * ```
 *
 * @since 0.1.0
 * @category locking
 */
export const acquireTargetLock = (
  target: ResolvedTarget
): Effect.Effect<TargetLock, MigrationError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const name = targetLockName(target)
    const failed = (cause: unknown) =>
      new MigrationError({ reason: new QueryFailed({ detail: `could not take the lock ${name}: ${describeCause(cause)}`, cause }) })
    const key = `${yield* databaseIdentity.pipe(Effect.mapError(failed))}|${name}`
    if (heldInProcess.has(key)) return yield* Effect.flatMap(busy(target), Effect.fail)
    heldInProcess.add(key)
    yield* Effect.addFinalizer(() => Effect.sync(() => heldInProcess.delete(key)))
    if (yield* isEmbeddedDatabase) return { name, stillHeld: Effect.succeed(true) }

    const conn = yield* sql.reserve.pipe(Effect.mapError(failed))
    const locked = yield* conn.execute("SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked", [name], undefined)
      .pipe(Effect.mapError(failed))
    if (locked[0]?.locked !== true) return yield* Effect.flatMap(busy(target), Effect.fail)
    yield* Effect.addFinalizer(() =>
      conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [name], undefined).pipe(Effect.ignore)
    )
    const stillHeld = conn.execute(
      `SELECT count(*)::int AS n FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() AND objsubid = 1
         AND ((classid::int8 << 32) | objid::int8) = hashtextextended($1, 0)`,
      [name],
      undefined
    ).pipe(Effect.map((rows) => Number(rows[0]?.n ?? 0) > 0), Effect.orElseSucceed(() => false))
    return { name, stillHeld }
  })

/**
 * Is a runner holding the target's lock right now? Takes and releases the lock to find out.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { isTargetLocked } from "./TargetLock.ts" // internal: not part of the package's API
 * import { resolveTarget } from "stage-normalization/migration"
 * const program = resolveTarget({ table: "portfolio_companies" }).pipe(Effect.flatMap(isTargetLocked))
 * ```
 *
 * @since 0.1.0
 * @category locking
 */
export const isTargetLocked = (target: ResolvedTarget): Effect.Effect<boolean, MigrationError, SqlClient.SqlClient> =>
  Effect.scoped(acquireTargetLock(target)).pipe(
    Effect.as(false),
    Effect.catchIf((e) => e.reason._tag === "RunInProgress", () => Effect.succeed(true))
  )
