/**
 * The locks a process working on a target's run holds, on one connection reserved for its whole
 * session:
 *
 * - the **target lock**, a session-level advisory lock taken in *shared* mode
 *   (`pg_try_advisory_lock_shared(hashtextextended('stage-normalization:migrate:<table>.<column>', 0))`):
 *   every process working on the target's run holds it, so `isTargetLocked` (an exclusive try)
 *   tells whether anyone is working there; which run they work on is the run table's business
 *   (one incomplete run per target, a unique index), so processes join the same run;
 * - the **session lock** `stage-normalization:session:<token>` (exclusive, one token per session):
 *   while it is held, the session's workers are alive; once PostgreSQL notices the closed socket of
 *   a killed process it is free, and other workers reclaim its batches at once (`RangeLeases`).
 *
 * Both are released when the session ends. The embedded database is a single session (advisory
 * locks are re-entrant there) reachable only from this process, so an in-process registry takes
 * the locks' place: one session per target at a time.
 *
 * @since 0.1.0
 */
import { Effect, Scope } from "effect"
import { SqlClient } from "effect/sql"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { QueryFailed, RunInProgress } from "../MigrationErrorReason.ts"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import type { ResolvedTarget } from "./Target.ts"

/**
 * A held target lock.
 *
 * @since 0.1.0
 * @category models
 */
export interface TargetLock {
  readonly name: string
  /** This session's token: its workers' batches name it (`owner_session`). */
  readonly session: string
  /** On the embedded database (one session): no session lock to probe. */
  readonly embedded: boolean
  /** Does this process still hold it? (false when its connection was lost) */
  readonly stillHeld: Effect.Effect<boolean>
}

const heldInProcess = new Set<string>()

/** `<host>/<pid>/<random>`: unique per session, readable in the tables. */
const newSessionToken = Effect.sync(() => `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`)

/**
 * The advisory-lock name that proves a session alive.
 *
 * @example
 * ```ts
 * import { sessionLockName } from "./TargetLock.ts" // internal: not part of the package's API
 * sessionLockName("h1/42/ab12") // => "stage-normalization:session:h1/42/ab12"
 * ```
 *
 * @since 0.3.0
 * @category locking
 */
export const sessionLockName = (session: string): string => `stage-normalization:session:${session}`

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
 * Take the target's (shared) lock and a new session lock for the current scope, or fail with
 * `RunInProgress` naming the run that holds the target (an exclusive holder, or another session
 * of this process on the embedded database).
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
    const session = yield* newSessionToken
    if (yield* isEmbeddedDatabase) {
      const key = `${yield* databaseIdentity.pipe(Effect.mapError(failed))}|${name}`
      if (heldInProcess.has(key)) return yield* Effect.flatMap(busy(target), Effect.fail)
      heldInProcess.add(key)
      yield* Effect.addFinalizer(() => Effect.sync(() => heldInProcess.delete(key)))
      return { name, session, embedded: true, stillHeld: Effect.succeed(true) }
    }

    const conn = yield* sql.reserve.pipe(Effect.mapError(failed))
    const sessionLock = sessionLockName(session)
    const locked = yield* conn.execute(
      "SELECT pg_try_advisory_lock_shared(hashtextextended($1, 0)) AND pg_try_advisory_lock(hashtextextended($2, 0)) AS locked",
      [name, sessionLock],
      undefined
    ).pipe(Effect.mapError(failed))
    if (locked[0]?.locked !== true) return yield* Effect.flatMap(busy(target), Effect.fail)
    yield* Effect.addFinalizer(() =>
      conn.execute(
        "SELECT pg_advisory_unlock_shared(hashtextextended($1, 0)), pg_advisory_unlock(hashtextextended($2, 0))",
        [name, sessionLock],
        undefined
      ).pipe(Effect.ignore)
    )
    const stillHeld = conn.execute(
      `SELECT count(*)::int AS n FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() AND objsubid = 1
         AND ((classid::int8 << 32) | objid::int8) IN (hashtextextended($1, 0), hashtextextended($2, 0))`,
      [name, sessionLock],
      undefined
    ).pipe(Effect.map((rows) => Number(rows[0]?.n ?? 0) === 2), Effect.orElseSucceed(() => false))
    return { name, session, embedded: false, stillHeld }
  })


/**
 * Is any process working on the target right now? Tries the target's lock exclusively (and
 * releases it at once) to find out.
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
  Effect.gen(function*() {
    if (yield* isEmbeddedDatabase) {
      return yield* Effect.scoped(acquireTargetLock(target)).pipe(
        Effect.as(false),
        Effect.catchIf((e) => e.reason._tag === "RunInProgress", () => Effect.succeed(true))
      )
    }
    const sql = yield* SqlClient.SqlClient
    const name = targetLockName(target)
    // one statement: the exclusive try and its release happen on the same connection
    const rows = yield* sql<{ free: boolean }>`
      SELECT CASE WHEN pg_try_advisory_lock(hashtextextended(${name}, 0))
                  THEN pg_advisory_unlock(hashtextextended(${name}, 0)) ELSE false END AS free`.pipe(
      Effect.mapError((cause) =>
        new MigrationError({ reason: new QueryFailed({ detail: `could not test the lock ${name}: ${describeCause(cause)}`, cause }) })
      )
    )
    return rows[0]?.free !== true
  })
