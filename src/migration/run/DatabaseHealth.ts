/**
 * Database health before each batch: the runner backs off while the target has sessions waiting
 * for its locks (our next UPDATE would queue behind them and make them wait longer), while an
 * autovacuum works on it, while a replica lags by more than a threshold, or — when a ceiling is
 * set — while the server writes WAL faster than `maxWalBytesPerSecond` (GitLab's health
 * indicators watch the same: autovacuum on the table, WAL rate, replication lag). The WAL rate is
 * the WAL position's advance between two checks of the same `WalSample`, in `Clock` time. Reading the
 * statistics views must never stop a migration: when they cannot be read (the embedded database
 * has no replication; a role without `pg_monitor` sees replicas in `pg_stat_replication` but not
 * their lag) the check reports healthy, with a note the runner logs once.
 *
 * The lag is the largest write/flush/replay lag of the replicas that are still behind: a replica
 * that has replayed the primary's current WAL position counts as 0, because `replay_lag` keeps
 * the age of the last WAL it applied (at its largest right after a backlog) until two idle status
 * messages later. It is only as fresh as the replicas' status messages
 * (`wal_receiver_status_interval`, 10 s by default): set that lower on replicas when
 * `maxReplicationLagMs` is tight.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { nowMillis } from "../../shared/WallClock.ts"

/** The WAL rate since the sample's last check (and the sample moved on): a reason when over the ceiling. */
const walRate = (wal: WalSample, ceiling: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ bytes: number }>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS bytes`
    const bytes = Number(rows[0]?.bytes ?? 0)
    const at = yield* nowMillis
    const previous = { bytes: wal.bytes, atMs: wal.atMs }
    wal.bytes = bytes
    wal.atMs = at
    if (previous.bytes === undefined || previous.atMs === undefined || at <= previous.atMs) return []
    const rate = ((bytes - previous.bytes) * 1000) / (at - previous.atMs)
    return rate > ceiling
      ? [`WAL written at ${(rate / 1_048_576).toFixed(1)} MiB/s > ${(ceiling / 1_048_576).toFixed(1)} MiB/s`]
      : []
  })

/**
 * @since 0.1.0
 * @category models
 */
export interface HealthThresholds {
  /** Back off while any replica's write/flush/replay lag exceeds this (default 10 s). */
  readonly maxReplicationLagMs: number
  /** Back off while sessions wait for a lock on the target (default on). */
  readonly lockWaits: boolean
  /** Back off while an autovacuum worker processes the target (default on). */
  readonly autovacuum: boolean
  /** Back off while WAL is written faster than this many bytes per second (absent or 0: not checked). */
  readonly maxWalBytesPerSecond?: number | undefined
}

/**
 * The last WAL position a health check saw, for the next check's rate (one per worker; start empty).
 *
 * @since 0.3.0
 * @category models
 */
export interface WalSample {
  bytes?: number | undefined
  atMs?: number | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = { maxReplicationLagMs: 10_000, lockWaits: true, autovacuum: true }

/**
 * @since 0.1.0
 * @category models
 */
export interface HealthReport {
  readonly healthy: boolean
  /** Why it is unhealthy (empty when healthy). */
  readonly reasons: ReadonlyArray<string>
  /** What it could not check (the report is healthy as far as it could tell). */
  readonly notes: ReadonlyArray<string>
}

/**
 * Check the database's health for a batch on table `oid`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { checkHealth, DEFAULT_HEALTH_THRESHOLDS } from "stage-normalization/migration"
 * const program = checkHealth(16384, DEFAULT_HEALTH_THRESHOLDS).pipe(Effect.map((h) => h.healthy))
 * ```
 *
 * @since 0.1.0
 * @category health
 */
export const checkHealth = (
  oid: number,
  thresholds: HealthThresholds,
  wal: WalSample = {}
): Effect.Effect<HealthReport, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const walCeiling = thresholds.maxWalBytesPerSecond ?? 0
    const walReasons = walCeiling > 0 ? yield* walRate(wal, walCeiling) : []
    const rows = yield* sql<{ lock_waiters: number; autovacuum: number; replicas: number; unreadable: number; lag_ms: number }>`
      SELECT
        (SELECT count(*) FROM pg_locks l WHERE l.relation = ${oid}::int8::oid AND NOT l.granted)::int AS lock_waiters,
        (SELECT count(*) FROM pg_stat_progress_vacuum v JOIN pg_stat_activity a ON a.pid = v.pid
           WHERE v.relid = ${oid}::int8::oid AND a.backend_type = 'autovacuum worker')::int AS autovacuum,
        (SELECT count(*) FROM pg_stat_replication)::int AS replicas,
        (SELECT count(*) FROM pg_stat_replication WHERE state IS NULL)::int AS unreadable,
        (SELECT coalesce(max(CASE WHEN replay_lsn >= pg_current_wal_lsn() THEN 0 ELSE greatest(
            extract(epoch FROM write_lag), extract(epoch FROM flush_lag), extract(epoch FROM replay_lag)) END), 0) * 1000
         FROM pg_stat_replication WHERE state IS NOT NULL)::float8 AS lag_ms`
    const row = rows[0]
    if (row === undefined) return { healthy: true, reasons: [], notes: [] }
    const reasons: Array<string> = [...walReasons]
    const notes: Array<string> = []
    if (row.unreadable > 0) {
      notes.push(
        `replication lag not checked for ${row.unreadable} replica(s): this role cannot read pg_stat_replication's lag ` +
          "(grant it pg_monitor)"
      )
    }
    if (thresholds.lockWaits && row.lock_waiters > 0) reasons.push(`${row.lock_waiters} session(s) waiting for a lock on the target`)
    if (thresholds.autovacuum && row.autovacuum > 0) reasons.push("autovacuum is processing the target")
    if (row.replicas > 0 && row.lag_ms > thresholds.maxReplicationLagMs) {
      reasons.push(`replication lag ${Math.round(row.lag_ms)} ms > ${thresholds.maxReplicationLagMs} ms`)
    }
    return { healthy: reasons.length === 0, reasons, notes }
  }).pipe(
    Effect.catch((e) => Effect.succeed({ healthy: true, reasons: [], notes: [`health not checked: ${e.message}`] }))
  )
