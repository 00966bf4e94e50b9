/**
 * Operating a run on the real PostgreSQL, where several sessions exist: a concurrent writer is
 * never overwritten (compare-and-set), a lock timeout is retried, a statement timeout splits the
 * batch, lock waiters throttle the run, an interrupted batch is failed and redone on resume.
 * Plus the index helper (both databases) and the rollout engine's BackfillStatus layer.
 */
import { assert, describe, it, layer, type Vitest } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { SqlClient } from "effect/sql"
import { BackfillStatus } from "../../src/rollout/BackfillStatus.ts"
import { backfillStatusFromPostgres } from "../../src/migration/verify/BackfillStatusPostgres.ts"
import { applyIndexes, planIndexes } from "../../src/migration/sql/Indexes.ts"
import type { MigrationEvent } from "../../src/migration/MigrationEvent.ts"
import { migrate, type MigrateOptions } from "../../src/migration/run/Runner.ts"
import { resolveTarget } from "../../src/migration/schema/Target.ts"
import { layerScratchEmbedded, layerScratchPostgres, requirePostgres } from "./support/Databases.ts"
import { auditRows, createScalarTable, scalarRows, snapshot } from "./support/Fixtures.ts"

const fast: Partial<MigrateOptions> = { sleepMs: 0, batchSize: 50, adaptive: false, retryDelayMs: 20 }

/** A second session: run statements on one reserved connection. */
const session = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const conn = yield* sql.reserve
  return (text: string, params: ReadonlyArray<unknown> = []) => conn.execute(text, params, undefined)
})

const rowsOf = (n: number, stage: string) => Array.from({ length: n }, (_, i) => ({ id: i + 1, fund: 0, stage }))

describe("migration operations", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)
  layer(layerScratchPostgres("ops", 8), { timeout: "60 seconds", excludeTestServices: true })("real PostgreSQL", (it) => {
    it.effect("a concurrent write is never lost: the new value is derived from it, and audited as the old value", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("cas", rowsOf(60, "Series A"))
        const other = yield* session
        yield* other("BEGIN")
        yield* other(`UPDATE ${table} SET stage = 'Series B' WHERE id = 25`)
        const run = yield* migrate({ table, ...fast, lockTimeoutMs: 20_000 }).pipe(Effect.forkChild)
        yield* Effect.sleep(500)
        yield* other("COMMIT")
        const summary = yield* Fiber.join(run)
        assert.strictEqual(summary.status, "succeeded")
        const after = new Map(yield* snapshot(table))
        assert.strictEqual(after.get("25"), "series-b")
        assert.strictEqual(after.get("24"), "series-a")
        const audit = (yield* auditRows(table)).filter((a) => a.pk === "25")
        assert.deepStrictEqual(audit.map((a) => [a.old, a.new]), [["Series B", "series-b"]])
        assert.strictEqual((yield* auditRows(table)).length, 60)
      }).pipe(Effect.scoped))

    it.effect("a lock timeout is a transient error: the batch is retried and succeeds", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("retry", rowsOf(40, "Seed Round"))
        const other = yield* session
        yield* other("BEGIN")
        yield* other(`UPDATE ${table} SET note = 'busy' WHERE id = 10`)
        const events: Array<MigrationEvent> = []
        const summary = yield* migrate({
          table,
          ...fast,
          lockTimeoutMs: 200,
          onEvent: (e) =>
            Effect.gen(function*() {
              events.push(e)
              if (e._tag === "BatchRetrying") yield* other("COMMIT").pipe(Effect.orDie)
            })
        })
        assert.strictEqual(summary.status, "succeeded")
        const retry = events.find((e) => e._tag === "BatchRetrying")
        assert.isDefined(retry)
        assert.include(retry!._tag === "BatchRetrying" ? retry!.error : "", "lock timeout")
        const sql = yield* SqlClient.SqlClient
        const batches = yield* sql<{ attempts: number; status: string }>`
          SELECT attempts, status FROM stage_migration_batches WHERE run_id = ${summary.runId}::bigint ORDER BY batch_no`
        assert.deepStrictEqual(batches[0], { attempts: 2, status: "succeeded" })
        assert.isTrue((yield* snapshot(table)).every(([, v]) => v === "seed"))
      }).pipe(Effect.scoped))

    it.effect("a transient error that persists fails the run after 3 attempts; resuming redoes the batch", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("persist", rowsOf(30, "growth"))
        const other = yield* session
        yield* other("BEGIN")
        yield* other(`UPDATE ${table} SET note = 'busy' WHERE id = 5`)
        const failed = yield* migrate({ table, ...fast, lockTimeoutMs: 100 })
        assert.strictEqual(failed.status, "failed")
        assert.include(failed.error ?? "", "after 3 attempts")
        yield* other("COMMIT")
        const sql = yield* SqlClient.SqlClient
        const failures = yield* sql<{ attempts: number; resolution: string | null }>`
          SELECT attempts, resolution FROM stage_migration_failures WHERE run_id = ${failed.runId}::bigint`
        assert.deepStrictEqual(failures, [{ attempts: 3, resolution: null }])
        const resumed = yield* migrate({ table, ...fast, resume: true })
        assert.strictEqual(resumed.status, "succeeded")
        assert.strictEqual(resumed.runId, failed.runId)
        const after = yield* sql<{ resolution: string | null }>`
          SELECT resolution FROM stage_migration_failures WHERE run_id = ${failed.runId}::bigint`
        assert.deepStrictEqual(after, [{ resolution: "redone" }])
        assert.strictEqual((yield* auditRows(table)).length, 30)
      }).pipe(Effect.scoped))

    it.effect("a statement timeout splits the batch in half until it fits", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const table = yield* createScalarTable("split", rowsOf(40, "Series A"))
        yield* sql.unsafe(`CREATE FUNCTION ${table}_slow() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN PERFORM pg_sleep(0.01); RETURN NEW; END $$`).unprepared
        yield* sql.unsafe(`CREATE TRIGGER ${table}_slow BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_slow()`).unprepared
        const events: Array<MigrationEvent> = []
        const summary = yield* migrate({
          table,
          ...fast,
          batchSize: 40,
          minBatchSize: 1,
          statementTimeoutMs: 250,
          onEvent: (e) => Effect.sync(() => events.push(e))
        })
        assert.strictEqual(summary.status, "succeeded")
        const splits = events.filter((e) => e._tag === "BatchSplit")
        assert.isAtLeast(splits.length, 1)
        assert.deepStrictEqual(splits[0]!._tag === "BatchSplit" ? [splits[0]!.fromSize, splits[0]!.toSize] : [], [40, 20])
        assert.isTrue((yield* snapshot(table)).every(([, v]) => v === "series-a"))
        assert.strictEqual((yield* auditRows(table)).length, 40)
      }))

    it.effect("a batch running longer than the stuck limit is abandoned and retried; the run fails after 3 attempts", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const table = yield* createScalarTable("stuck", rowsOf(20, "Series A"))
        yield* sql.unsafe(`CREATE FUNCTION ${table}_slow() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN PERFORM pg_sleep(0.05); RETURN NEW; END $$`).unprepared
        yield* sql.unsafe(`CREATE TRIGGER ${table}_slow BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_slow()`).unprepared
        const summary = yield* migrate({ table, ...fast, stuckAfterMs: 250 })
        assert.strictEqual(summary.status, "failed")
        assert.include(summary.error ?? "", "stuck")
        assert.strictEqual((yield* auditRows(table)).length, 0)
        const failures = yield* sql<{ attempts: number }>`
          SELECT attempts FROM stage_migration_failures WHERE run_id = ${summary.runId}::bigint`
        assert.deepStrictEqual(failures, [{ attempts: 3 }])
        yield* sql.unsafe(`DROP TRIGGER ${table}_slow ON ${table}`).unprepared
        const resumed = yield* migrate({ table, ...fast, resume: true })
        assert.strictEqual(resumed.status, "succeeded")
        assert.strictEqual((yield* auditRows(table)).length, 20)
      }))

    it.effect("sessions waiting for a lock on the target throttle the run until they are gone", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("throttle", rowsOf(30, "Seed"))
        const holder = yield* session
        const waiter = yield* session
        yield* holder("BEGIN")
        yield* holder(`UPDATE ${table} SET note = 'held' WHERE id = 1`)
        const waiting = yield* Effect.gen(function*() {
          yield* waiter("BEGIN")
          yield* waiter(`LOCK TABLE ${table} IN SHARE MODE`)
          yield* waiter("COMMIT")
        }).pipe(Effect.forkChild)
        yield* Effect.sleep(200)
        const throttled = yield* Deferred.make<ReadonlyArray<string>>()
        const summary = yield* migrate({
          table,
          ...fast,
          onEvent: (e) =>
            e._tag === "Throttled"
              ? Deferred.succeed(throttled, e.reasons).pipe(Effect.andThen(holder("COMMIT").pipe(Effect.orDie)), Effect.asVoid)
              : Effect.void
        })
        yield* Fiber.join(waiting)
        assert.strictEqual(summary.status, "succeeded")
        const reasons = yield* Deferred.await(throttled)
        assert.match(reasons[0] ?? "", /waiting for a lock on the target/)
      }).pipe(Effect.scoped))

    it.effect("a batch interrupted mid-flight is rolled back, failed as interrupted and redone on resume", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const table = yield* createScalarTable("interrupt", rowsOf(80, "Pre Seed"))
        const other = yield* session
        yield* other("BEGIN")
        yield* other(`UPDATE ${table} SET note = 'busy' WHERE id = 60`)
        const batchDone = yield* Deferred.make<void>()
        const run = yield* migrate({
          table,
          ...fast,
          lockTimeoutMs: 30_000,
          onEvent: (e) => (e._tag === "BatchCompleted" ? Deferred.succeed(batchDone, undefined).pipe(Effect.asVoid) : Effect.void)
        }).pipe(Effect.forkChild)
        yield* Deferred.await(batchDone)
        yield* Effect.sleep(300)
        yield* Fiber.interrupt(run)
        yield* other("COMMIT")
        const runs = yield* sql<{ run_id: string; status: string }>`
          SELECT run_id::text, status FROM stage_migration_runs WHERE target_table = ${"public." + table}`
        assert.strictEqual(runs[0]?.status, "paused")
        const running = yield* sql<{ batch_id: string }>`
          SELECT batch_id::text FROM stage_migration_batches WHERE run_id = ${runs[0]!.run_id}::bigint AND status = 'running'`
        assert.strictEqual(running.length, 1)
        assert.strictEqual((yield* auditRows(table)).length, 50)
        const events: Array<MigrationEvent> = []
        const resumed = yield* migrate({ table, ...fast, onEvent: (e) => Effect.sync(() => events.push(e)) })
        assert.strictEqual(resumed.status, "succeeded")
        assert.deepStrictEqual(resumed.interruptedBatches, [running[0]!.batch_id])
        assert.isTrue(events.some((e) => e._tag === "StuckBatchesRecovered"))
        const failure = yield* sql<{ resolution: string; error_message: string }>`
          SELECT resolution, error_message FROM stage_migration_failures WHERE batch_id = ${running[0]!.batch_id}::bigint`
        assert.strictEqual(failure[0]?.resolution, "redone")
        assert.include(failure[0]?.error_message ?? "", "interrupted")
        const audit = yield* auditRows(table)
        assert.strictEqual(audit.length, 80)
        assert.strictEqual(new Set(audit.map((a) => a.pk)).size, 80)
        assert.isTrue((yield* snapshot(table)).every(([, v]) => v === "pre-seed"))
      }).pipe(Effect.scoped))

    it.effect("BackfillStatus layer answers the rollout engine's question from PostgreSQL", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("status", rowsOf(10, "Series C"))
        const status = BackfillStatus.use((s) => s.status).pipe(Effect.provide(BackfillStatus.layerCheck(backfillStatusFromPostgres({ table }))))
        assert.deepStrictEqual([(yield* status).migrated, (yield* status).verified], [false, false])
        yield* migrate({ table, ...fast })
        const after = yield* status
        assert.isTrue(after.migrated)
        assert.isFalse(after.verified)
        assert.include(after.detail ?? "", "0 non-canonical values remain")
        const missing = yield* BackfillStatus.use((s) => s.status).pipe(
          Effect.provide(BackfillStatus.layerCheck(backfillStatusFromPostgres({ table: "no_such_table" }))),
          Effect.flip
        )
        assert.strictEqual(missing._tag, "BackfillStatusError")
      }))

    indexTests(it)
  })

  layer(layerScratchEmbedded, { timeout: "120 seconds", excludeTestServices: true })("embedded database", (it) => {
    indexTests(it)
  })
})

function indexTests(it: Vitest.MethodsNonLive<SqlClient.SqlClient>) {
  it.effect("index helper: plan, create (concurrently), idempotent, rebuilds an INVALID leftover", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createScalarTable("idx", scalarRows(50))
      const target = yield* resolveTarget({ table })
      const plan = yield* planIndexes(target)
      assert.deepStrictEqual(plan.map((p) => p.state), ["missing", "missing", "missing"])
      assert.match(plan[0]!.statement, /CREATE INDEX CONCURRENTLY IF NOT EXISTS .* WHERE "stage" NOT IN \('pre-seed'/)
      const created = yield* applyIndexes(target)
      assert.deepStrictEqual(created.map((o) => o.action), ["created", "created", "created"])
      const again = yield* applyIndexes(target)
      assert.deepStrictEqual(again.map((o) => o.action), ["exists", "exists", "exists"])
      const resolved = yield* resolveTarget({ table })
      assert.isTrue(resolved.hasFundIdIndex)
      yield* sql.unsafe(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = '${plan[1]!.name}'::regclass`).unprepared
      assert.strictEqual((yield* planIndexes(target))[1]!.state, "invalid")
      const rebuilt = yield* applyIndexes(target)
      assert.deepStrictEqual(rebuilt.map((o) => o.action), ["exists", "rebuilt", "exists"])
      assert.strictEqual((yield* planIndexes(target))[1]!.state, "valid")
    }))
}


