/**
 * Many workers on one run, on the real PostgreSQL (issue 15): N workers in one process, the
 * claim/lease protocol's edges (a live owner keeps its batch until its lease expires, a dead one
 * loses it at once, a stale worker's batch is refused to it), the run's shared throttle and global
 * row ceiling, a rollback with many workers, and the workers in the progress view. The
 * million-row, SIGKILL and concurrent-writer proofs are `npm run proof:parallel`.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import type { MigrationEvent } from "../../src/migration/MigrationEvent.ts"
import { rollback } from "../../src/migration/rollback/Rollback.ts"
import { migrate, type MigrateOptions } from "../../src/migration/run/Runner.ts"
import { checkHealth, DEFAULT_HEALTH_THRESHOLDS, type WalSample } from "../../src/migration/run/DatabaseHealth.ts"
import { LeaseTaken, renewLease } from "../../src/migration/run/RangeLeases.ts"
import { publishThrottle, reserveRows, setRunLimits } from "../../src/migration/run/RunThrottle.ts"
import { ensureTrackingSchema } from "../../src/migration/schema/TrackingSchema.ts"
import { normalizeStage } from "../../src/normalizer/NormalizeStage.ts"
import { layerScratchPostgres, requirePostgres } from "./support/Databases.ts"
import { auditRows, createScalarTable, scalarRows, snapshot, tableChecksum } from "./support/Fixtures.ts"

const fast: Partial<MigrateOptions> = { sleepMs: 0, batchSize: 25, adaptive: false, retryDelayMs: 10 }

const expectedStage = (value: string | null): string | null => {
  if (value === null) return null
  const r = normalizeStage(value)
  return r._tag === "Canonical" ? r.stage : value
}

const collect = () => {
  const events: Array<MigrationEvent> = []
  return { events, onEvent: (e: MigrationEvent) => Effect.sync(() => void events.push(e)) }
}

/** A run of `table` left incomplete with one open batch owned by `session` (as if its worker were busy or gone). */
const runWithOpenBatch = (table: string, session: string, leaseSeconds: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const first = yield* migrate({ table, ...fast, shouldStop: Effect.succeed(true) })
    assert.strictEqual(first.status, "paused")
    yield* sql.unsafe(
      `INSERT INTO stage_migration_batches (run_id, batch_no, range_start, range_end, status, attempts, started_at, owner, owner_session, lease_expires_at)
       SELECT $1::bigint, next_batch_no, NULL, '25', 'running', 1, now(), $2 || '#1', $2, now() + $3::int * interval '1 second'
       FROM stage_migration_control WHERE run_id = $1::bigint`,
      [first.runId, session, leaseSeconds]
    )
    yield* sql.unsafe(
      `UPDATE stage_migration_control SET next_batch_no = next_batch_no + 1, last_id = '25' WHERE run_id = $1::bigint`,
      [first.runId]
    )
    return first.runId
  })

describe("parallel backfill", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)

  layer(layerScratchPostgres("parallel", 10), { timeout: "60 seconds", excludeTestServices: true })("real PostgreSQL", (it) => {
    it.effect("three workers in one process: every range once, every worker seen in the progress view", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("three", scalarRows(600))
        const before = yield* snapshot(table)
        const { events, onEvent } = collect()
        const summary = yield* migrate({ table, ...fast, workers: 3, sleepMs: 5, onEvent })
        assert.strictEqual(summary.status, "succeeded")
        assert.strictEqual(summary.totals.scanned, 600)
        assert.strictEqual(summary.batches, 24)
        assert.deepStrictEqual((yield* snapshot(table)).map(([, v]) => v), before.map(([, v]) => expectedStage(v)))
        const audit = yield* auditRows(table)
        assert.strictEqual(new Set(audit.map((a) => a.pk)).size, audit.length)
        const byWorker = new Map<string, number>()
        for (const e of events) if (e._tag === "BatchCompleted") byWorker.set(e.worker, (byWorker.get(e.worker) ?? 0) + 1)
        assert.strictEqual(byWorker.size, 3)
        const last = events.filter((e) => e._tag === "BatchCompleted").at(-1)
        assert.strictEqual(last?._tag === "BatchCompleted" ? last.totals.scanned : 0, 600)
        const sql = yield* SqlClient.SqlClient
        const view = yield* sql<{ workers_active: string; workers: ReadonlyArray<{ state: string; batches: number }> }>`
          SELECT workers_active::text, workers FROM stage_migration_progress WHERE run_id = ${summary.runId}::bigint`
        assert.strictEqual(view[0]!.workers.length, 3)
        assert.deepStrictEqual(view[0]!.workers.map((w) => w.state), ["finished", "finished", "finished"])
        assert.strictEqual(view[0]!.workers.reduce((n, w) => n + w.batches, 0), 24)
        assert.strictEqual(view[0]!.workers_active, "0")
      }))

    it.effect("a batch whose owner is alive stays its own until the lease expires, then it is redone", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("live_owner", scalarRows(100))
        const sql = yield* SqlClient.SqlClient
        const session = "test-host/1/alive"
        // the owner's session lock, held on a reserved connection for the whole test: the owner is alive
        const conn = yield* sql.reserve
        yield* conn.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", [`stage-normalization:session:${session}`], undefined)
        const runId = yield* runWithOpenBatch(table, session, 2)
        const { events, onEvent } = collect()
        const started = Date.now()
        const summary = yield* migrate({ table, ...fast, onEvent })
        const elapsed = Date.now() - started
        assert.strictEqual(summary.runId, runId)
        assert.strictEqual(summary.status, "succeeded")
        assert.isAtLeast(elapsed, 1_500, "waited for the live owner's lease")
        assert.isTrue(events.some((e) => e._tag === "WorkerChanged" && e.state === "waiting"))
        assert.strictEqual(summary.interruptedBatches.length, 1)
        const redone = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM stage_migration_batches WHERE run_id = ${runId}::bigint AND resolution = 'redone' AND owner = ${session + "#1"}`
        assert.strictEqual(redone[0]!.n, 1)
        const covered = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM stage_migration_batches WHERE run_id = ${runId}::bigint AND status = 'succeeded' AND range_start IS NULL`
        assert.strictEqual(covered[0]!.n, 1, "the range (start, 25] was redone by a batch of the new worker")
      }).pipe(Effect.scoped))

    it.effect("a batch whose owner's session is gone is reclaimed at once, long before its lease ends", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("dead_owner", scalarRows(100))
        const runId = yield* runWithOpenBatch(table, "test-host/2/gone", 600)
        const started = Date.now()
        const summary = yield* migrate({ table, ...fast })
        assert.strictEqual(summary.runId, runId)
        assert.strictEqual(summary.status, "succeeded")
        assert.isBelow(Date.now() - started, 10_000)
        assert.deepStrictEqual(summary.interruptedBatches.length, 1)
        const audit = yield* auditRows(table)
        assert.strictEqual(new Set(audit.map((a) => a.pk)).size, audit.length)
      }))

    it.effect("a worker whose batch was taken over is refused its lease (LeaseTaken)", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("taken", scalarRows(50))
        const runId = yield* runWithOpenBatch(table, "test-host/3/other", 60)
        const sql = yield* SqlClient.SqlClient
        const batch = (yield* sql<{ id: string }>`
          SELECT batch_id::text AS id FROM stage_migration_batches WHERE run_id = ${runId}::bigint AND status = 'running'`)[0]!.id
        const who = { runId, workerId: "test-host/4/late#1", session: "test-host/4/late", leaseMs: 1_000, embedded: false }
        const refused = yield* renewLease(who, batch).pipe(Effect.flip)
        assert.instanceOf(refused, LeaseTaken)
        yield* renewLease({ ...who, workerId: "test-host/3/other#1", session: "test-host/3/other" }, batch)
      }))

    it.effect("one throttle for the run: a throttle any worker publishes holds every worker", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("throttled", scalarRows(100))
        const first = yield* migrate({ table, ...fast, shouldStop: Effect.succeed(true) })
        yield* publishThrottle(first.runId, 1_500, ["autovacuum is processing the target (published by another worker)"])
        const { events, onEvent } = collect()
        const started = Date.now()
        const summary = yield* migrate({ table, ...fast, workers: 2, onEvent })
        assert.strictEqual(summary.status, "succeeded")
        assert.isAtLeast(Date.now() - started, 1_200)
        const throttled = events.filter((e) => e._tag === "Throttled")
        assert.isAtLeast(throttled.length, 2, "both workers waited")
        assert.include(throttled[0]!._tag === "Throttled" ? throttled[0]!.reasons[0] : "", "published by another worker")
      }))

    it.effect("--max-rows-per-second holds for all the workers together", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("ceiling", scalarRows(400))
        const started = Date.now()
        const summary = yield* migrate({ table, ...fast, batchSize: 50, workers: 3, maxRowsPerSecond: 400 })
        const elapsed = Date.now() - started
        assert.strictEqual(summary.status, "succeeded")
        // 8 batches of 50 rows at 400 rows/s: the first starts at once, the last ≥ 7 × 125 ms later
        assert.isAtLeast(elapsed, 850)
        const waits: Array<number> = []
        yield* setRunLimits(summary.runId, { maxRowsPerSecond: 1_000 })
        for (let i = 0; i < 3; i++) waits.push(yield* reserveRows(summary.runId, 500))
        assert.strictEqual(waits[0], 0)
        assert.isAtLeast(waits[2]!, 900)
        yield* setRunLimits(summary.runId, { maxRowsPerSecond: 0 })
        assert.strictEqual(yield* reserveRows(summary.runId, 500), 0)
      }))

    it.effect("rollback with three workers restores the table byte for byte", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("rb_workers", scalarRows(500))
        const before = yield* tableChecksum(table)
        const run = yield* migrate({ table, ...fast, workers: 3 })
        assert.strictEqual(run.status, "succeeded")
        const undone = yield* rollback({ runId: run.runId, apply: true, workers: 3, batchSize: 30, sleepMs: 0 })
        assert.strictEqual(undone.status, "succeeded")
        assert.strictEqual(undone.conflicts, 0)
        assert.strictEqual(undone.restored, run.totals.updated)
        assert.strictEqual(yield* tableChecksum(table), before)
        const sql = yield* SqlClient.SqlClient
        const workers = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM stage_migration_workers WHERE run_id = ${undone.rollbackRunId}::bigint AND batches > 0`
        assert.isAtLeast(workers[0]!.n, 2)
      }))

    it.effect("WAL rate is a health indicator: over the ceiling the run backs off, under it it goes on", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("wal", scalarRows(50))
        const sql = yield* SqlClient.SqlClient
        const oid = Number((yield* sql<{ oid: number }>`SELECT ${table}::regclass::oid::int8 AS oid`)[0]!.oid)
        const sample: WalSample = {}
        const tight = { ...DEFAULT_HEALTH_THRESHOLDS, maxWalBytesPerSecond: 1 }
        assert.isTrue((yield* checkHealth(oid, tight, sample)).healthy, "no rate without an earlier sample")
        yield* sql.unsafe(`INSERT INTO ${table} (id, stage) SELECT g, 'seed' FROM generate_series(1000, 3000) g`).unprepared
        yield* Effect.sleep(20)
        const busy = yield* checkHealth(oid, tight, sample)
        assert.isFalse(busy.healthy)
        assert.match(busy.reasons.join(" "), /WAL written at [\d.]+ MiB\/s > 0\.0 MiB\/s/)
        const loose = { ...DEFAULT_HEALTH_THRESHOLDS, maxWalBytesPerSecond: 10 * 1_073_741_824 }
        yield* Effect.sleep(20)
        assert.isTrue((yield* checkHealth(oid, loose, sample)).healthy)
      }))

    it.effect("bad worker options are refused before anything is written", () =>
      Effect.gen(function*() {
        yield* ensureTrackingSchema
        const table = yield* createScalarTable("bad_workers", scalarRows(10))
        const zero = yield* migrate({ table, ...fast, workers: 0 }).pipe(Effect.flip)
        assert.strictEqual(zero.reason._tag, "InvalidOptions")
        assert.include(zero.message, "--workers")
        const lease = yield* migrate({ table, ...fast, leaseMs: 5 }).pipe(Effect.flip)
        assert.include(lease.message, "--lease-ms")
        const join = yield* migrate({ table, ...fast, joinRunId: "424242" }).pipe(Effect.flip)
        assert.strictEqual(join.reason._tag, "NothingToResume")
        assert.include(join.message, "there is none to join")
      }))
  })
})
