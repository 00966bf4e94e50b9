/**
 * The runner backs off while a streaming replica lags: a real PostgreSQL 15 primary and a real
 * streaming replica (see `support/ReplicatedCluster.ts`), no mocks. Replay is paused on the
 * replica, so the primary's `pg_stat_replication.replay_lag` grows past `maxReplicationLagMs`;
 * the run must emit `Throttled` events naming the replication lag and commit no batch until
 * replay resumes, then finish with every row normalised — on the primary and, once replayed, on
 * the replica.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { Deferred, Duration, Effect, Fiber, Redacted, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import type { MigrationEvent } from "../../src/migration/MigrationEvent.ts"
import { checkHealth, DEFAULT_HEALTH_THRESHOLDS } from "../../src/migration/run/DatabaseHealth.ts"
import { migrate } from "../../src/migration/run/Runner.ts"
import { uniqueName } from "./support/Databases.ts"
import { auditRows, createScalarTable, snapshot, tableChecksum } from "./support/Fixtures.ts"
import { layerReplicatedCluster, ReplicatedCluster, requireReplicatedCluster } from "./support/ReplicatedCluster.ts"

/** `maxReplicationLagMs` of the run: small, so a paused replay exceeds it within a second or two. */
const MAX_LAG_MS = 200
const BATCH_SIZE = 500
/** Longest single back-off: the run notices the resumed replica within about a second. */
const MAX_THROTTLE_MS = 1_000
/** How long replay stays paused once the run has been throttled. */
const HOLD_PAUSED = Duration.seconds(3)

/** Stored alias spellings and what they normalise to. */
const ALIASES: ReadonlyArray<readonly [string, string]> = [
  ["Series A", "series-a"],
  ["Seed Round", "seed"],
  ["  SERIES_B ", "series-b"],
  ["Pre Seed", "pre-seed"],
  ["series c plus", "series-c+"],
  ["ＳＥＥＤ", "seed"]
]
const ROWS = Array.from({ length: 3_000 }, (_, i) => ({ id: i + 1, fund: i % 3, stage: ALIASES[i % ALIASES.length]![0] }))
const EXPECTED = ROWS.map((r) => [String(r.id), ALIASES[(r.id - 1) % ALIASES.length]![1]] as const)

/** Fail with `what` unless `effect` finishes within `duration`. */
const within = (duration: Duration.Input, what: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutOrElse(effect, {
    duration,
    orElse: () => Effect.fail(new Error(`timed out after ${Duration.format(Duration.fromInputUnsafe(duration))}: ${what}`))
  })

/** Retry `effect` every 100 ms until it succeeds and satisfies `ok`, for at most `duration`. */
const eventually = <A, E, R>(what: string, duration: Duration.Input, effect: Effect.Effect<A, E, R>, ok: (a: A) => boolean) =>
  effect.pipe(
    Effect.filterOrFail(ok, (a) => new Error(`not yet: ${what} (last: ${JSON.stringify(a)})`)),
    Effect.retry(Schedule.spaced("100 millis")),
    within(duration, what)
  )

const LAG_REASON = /^replication lag (\d+) ms > (\d+) ms$/

const withUser = (url: string, user: string): string => {
  const u = new URL(url)
  u.username = user
  u.password = ""
  return u.toString()
}

describe("replication lag", () => {
  it.effect("PostgreSQL 15 binaries, runuser and the postgres OS user are present (required)", () => requireReplicatedCluster)
  layer(layerReplicatedCluster, { timeout: "60 seconds", excludeTestServices: true })("real primary + streaming replica", (it) => {
    it.effect(
      "the run backs off while replay is paused on the replica and finishes once it resumes",
      () =>
        Effect.gen(function*() {
          const testStarted = Date.now()
          const cluster = yield* ReplicatedCluster
          const sql = yield* SqlClient.SqlClient
          const onReplica = cluster.onReplica

          // a table of alias spellings on the primary, replicated before the replica is paused
          const table = yield* createScalarTable("lag", ROWS)
          const before = yield* snapshot(table)
          yield* eventually(
            "the replica has the table with all its rows",
            "15 seconds",
            onReplica(tableChecksum(table)),
            (c) => c.startsWith(`${ROWS.length}:`)
          )
          assert.deepStrictEqual(yield* onReplica(snapshot(table)), before)

          // pause replay and write WAL: the replica receives it but does not apply it
          yield* onReplica(Effect.gen(function*() {
            const replica = yield* SqlClient.SqlClient
            yield* replica`SELECT pg_wal_replay_pause()`
          }))
          const ballast = uniqueName("ballast")
          yield* sql.unsafe(`CREATE TABLE ${ballast} AS SELECT g, md5(g::text) AS h FROM generate_series(1, 20000) AS g`).unprepared
          yield* eventually(
            "replay is paused on the replica",
            "10 seconds",
            onReplica(Effect.gen(function*() {
              const replica = yield* SqlClient.SqlClient
              return (yield* replica<{ state: string }>`SELECT pg_get_wal_replay_pause_state() AS state`)[0]?.state
            })),
            (state) => state === "paused"
          )
          const lagged = yield* eventually(
            `the primary reports a replay lag above ${MAX_LAG_MS} ms`,
            "10 seconds",
            cluster.replicaStatus,
            (s) => (s.replayLagMs ?? 0) > MAX_LAG_MS
          )
          assert.strictEqual(lagged.state, "streaming")
          assert.isAbove(lagged.replayBehindBytes, 0, "the replica is behind the primary's WAL")
          const replayedLsn = Effect.gen(function*() {
            const replica = yield* SqlClient.SqlClient
            return (yield* replica<{ lsn: string }>`SELECT pg_last_wal_replay_lsn()::text AS lsn`)[0]!.lsn
          })
          const pausedAt = yield* onReplica(replayedLsn)

          // the run: throttled from its first health check on
          const events: Array<{ readonly at: number; readonly event: MigrationEvent }> = []
          const firstThrottle = yield* Deferred.make<void>()
          const migrateStarted = Date.now()
          const run = yield* migrate({
            table,
            batchSize: BATCH_SIZE,
            adaptive: false,
            sleepMs: 50,
            health: { maxReplicationLagMs: MAX_LAG_MS },
            maxThrottleMs: MAX_THROTTLE_MS,
            onEvent: (event) =>
              Effect.sync(() => events.push({ at: Date.now(), event })).pipe(
                Effect.andThen(event._tag === "Throttled" ? Deferred.succeed(firstThrottle, undefined) : Effect.void),
                Effect.asVoid
              )
          }).pipe(Effect.forkChild)
          yield* Deferred.await(firstThrottle).pipe(within("15 seconds", "a Throttled event while replay is paused"))
          yield* Effect.sleep(HOLD_PAUSED)

          // while replay is paused: only back-off, no batch, nothing written, nothing replayed
          const whilePaused = events.slice()
          const throttledWhilePaused = whilePaused.flatMap(({ event }) => (event._tag === "Throttled" ? [event] : []))
          assert.deepStrictEqual(whilePaused.filter(({ event }) => event._tag === "BatchCompleted"), [], "no batch completes while replay is paused")
          assert.isAtLeast(throttledWhilePaused.length, 2, "the run keeps backing off while the replica lags")
          const pausedLags = throttledWhilePaused.map((e) => {
            assert.strictEqual(e.reasons.length, 1, `reasons: ${JSON.stringify(e.reasons)}`)
            const m = LAG_REASON.exec(e.reasons[0]!)
            assert.isNotNull(m, `a Throttled reason names the replication lag: ${JSON.stringify(e.reasons)}`)
            assert.strictEqual(Number(m![2]), MAX_LAG_MS)
            assert.isAbove(Number(m![1]), MAX_LAG_MS)
            assert.isAtMost(e.waitMs, MAX_THROTTLE_MS)
            return Number(m![1])
          })
          assert.isAbove(pausedLags.at(-1)!, pausedLags[0]!, "the reported lag grows while replay stays paused")
          assert.deepStrictEqual(yield* snapshot(table), before, "the primary's table is untouched while throttled")
          assert.strictEqual((yield* auditRows(table)).length, 0)
          assert.strictEqual(yield* onReplica(replayedLsn), pausedAt, "the replica replayed nothing meanwhile")
          const stillLagging = yield* cluster.replicaStatus
          assert.isAbove(stillLagging.replayLagMs ?? 0, MAX_LAG_MS)

          // a role without pg_monitor sees the replica but not its lag: healthy, with a note — never a silent 0
          const oid = (yield* sql<{ oid: number }>`SELECT ${table}::regclass::oid::int AS oid`)[0]!.oid
          const thresholds = { ...DEFAULT_HEALTH_THRESHOLDS, maxReplicationLagMs: MAX_LAG_MS }
          const privileged = yield* checkHealth(oid, thresholds)
          assert.isFalse(privileged.healthy)
          assert.match(privileged.reasons.join("; "), LAG_REASON)
          const reader = uniqueName("lag_reader")
          yield* sql.unsafe(`CREATE ROLE ${reader} LOGIN`).unprepared
          const restricted = yield* checkHealth(oid, thresholds).pipe(
            Effect.provide(PgClient.layer({ url: Redacted.make(withUser(cluster.primaryUrl, reader)), maxConnections: 1 })),
            Effect.scoped
          )
          assert.deepStrictEqual(restricted, {
            healthy: true,
            reasons: [],
            notes: ["replication lag not checked for 1 replica(s): this role cannot read pg_stat_replication's lag (grant it pg_monitor)"]
          })

          // resume replay: the replica catches up, the lag falls, the run proceeds and finishes.
          // The run may still be throttled for a moment after the replica has caught up:
          // pg_stat_replication.replay_lag is how old the WAL was when the replica applied it, so
          // replaying the backlog reports it at its largest, and the primary forgets it only after
          // two idle status messages (wal_receiver_status_interval, 1 s here).
          const backlogEnd = (yield* sql<{ lsn: string }>`SELECT pg_current_wal_lsn()::text AS lsn`)[0]!.lsn
          yield* onReplica(Effect.gen(function*() {
            const replica = yield* SqlClient.SqlClient
            yield* replica`SELECT pg_wal_replay_resume()`
          }))
          const resumedAt = Date.now()
          yield* eventually(
            "the replica replays the paused backlog",
            "10 seconds",
            onReplica(Effect.gen(function*() {
              const replica = yield* SqlClient.SqlClient
              return (yield* replica<{ done: boolean }>`SELECT pg_last_wal_replay_lsn() >= ${backlogEnd}::pg_lsn AS done`)[0]!.done
            })),
            (done) => done
          )
          const backlogReplayedAt = Date.now()
          // once the primary knows the replica replayed its current WAL, the lag counts 0 — although
          // replay_lag still holds the backlog's age at that moment
          const caughtUp = yield* eventually(
            "the primary sees the replica caught up",
            "10 seconds",
            Effect.gen(function*() {
              const status = yield* cluster.replicaStatus
              const report = yield* checkHealth(oid, thresholds)
              return { status, report }
            }),
            ({ status }) => status.replayLsn !== null && status.replayBehindBytes === 0
          )
          assert.isTrue(caughtUp.report.healthy, `caught up, replay_lag ${caughtUp.status.replayLagMs} ms: ${caughtUp.report.reasons.join("; ")}`)
          const summary = yield* Fiber.join(run).pipe(within("30 seconds", "the run finishing after replay resumed"))
          const finishedAt = Date.now()
          assert.strictEqual(summary.status, "succeeded", summary.error ?? "")
          assert.deepStrictEqual(summary.totals, { scanned: ROWS.length, updated: ROWS.length, skipped: 0, failed: 0 })
          assert.strictEqual(summary.batches, ROWS.length / BATCH_SIZE)
          const batchTimes = events.flatMap(({ at, event }) => (event._tag === "BatchCompleted" ? [at] : []))
          assert.strictEqual(batchTimes.length, ROWS.length / BATCH_SIZE)
          assert.isAtLeast(batchTimes[0]!, resumedAt, "the first batch completes only after replay resumed")
          const throttled = events.flatMap(({ event }) => (event._tag === "Throttled" ? [event] : []))
          for (const e of throttled) assert.match(e.reasons.join("; "), LAG_REASON)
          assert.deepStrictEqual(yield* snapshot(table), EXPECTED, "every row normalised on the primary")
          assert.strictEqual((yield* auditRows(table)).length, ROWS.length)

          // the replica replays the normalisation
          const primaryChecksum = yield* tableChecksum(table)
          yield* eventually(
            "the replica has the normalised values",
            "15 seconds",
            onReplica(tableChecksum(table)),
            (c) => c === primaryChecksum
          )
          const replicaCaughtUpAt = Date.now()
          assert.deepStrictEqual(yield* onReplica(snapshot(table)), EXPECTED, "every row normalised on the replica")

          const throttledBefore = (t: number) => events.filter(({ at, event }) => event._tag === "Throttled" && at < t).length
          const lagsSeen = throttled.map((e) => Number(LAG_REASON.exec(e.reasons[0] ?? "")?.[1] ?? 0))
          yield* Effect.log(
            `[replication-lag] lag before migrating ${Math.round(lagged.replayLagMs ?? 0)} ms ` +
              `(${lagged.replayBehindBytes} bytes unreplayed); Throttled events: ${throttledWhilePaused.length} while paused, ` +
              `${throttled.length} in all, reported lags ${lagsSeen.join(", ")} ms; ` +
              `run ${summary.durationMs} ms (${summary.batches} batches); after resume: backlog replayed within ` +
              `${backlogReplayedAt - resumedAt} ms, ${throttled.length - throttledBefore(resumedAt)} Throttled event(s), first batch ${batchTimes[0]! - resumedAt} ms ` +
              `and finish ${finishedAt - resumedAt} ms after resume; replica caught up ${replicaCaughtUpAt - finishedAt} ms ` +
              `after the run; migrate started ${migrateStarted - testStarted} ms into the test, test body ${Date.now() - testStarted} ms`
          )
        }),
      60_000
    )
  })
})
