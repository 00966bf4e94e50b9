/**
 * `rollback` in process, on the real PostgreSQL and on the embedded database. Lossless: apply
 * (with forced unknowns) → rollback leaves the table byte-identical (an ordered checksum of the
 * whole table), for scalar and distribution targets; the dry run writes nothing; each restored row
 * is audited once (`reverts_log_id` unique), a repeated rollback restores nothing; rows changed or
 * deleted since the run are left alone and listed; one batch only; an interrupted rollback resumes
 * to the same result; refusals (a rollback of a rollback, of a run still in progress, a batch of
 * another run) and a migrate refused while a rollback is unfinished.
 */
import { assert, describe, it, layer, type Vitest } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { SqlClient } from "effect/sql"
import { backfillStatusFromPostgres } from "../../src/migration/verify/BackfillStatusPostgres.ts"
import { rollback } from "../../src/migration/rollback/Rollback.ts"
import { migrate, type MigrateOptions } from "../../src/migration/run/Runner.ts"
import { verify } from "../../src/migration/verify/Verify.ts"
import { layerScratchEmbedded, layerScratchPostgres, requirePostgres } from "./support/Databases.ts"
import {
  createDistributionTable,
  createScalarTable,
  distributionRows,
  scalarRows,
  slowUpdates,
  tableChecksum
} from "./support/Fixtures.ts"

const fast: Partial<MigrateOptions> = { sleepMs: 0, batchSize: 40, adaptive: false, retryDelayMs: 10 }
const force = { map: { "early stage": "seed" }, editDistance: true }

const runsCount = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM stage_migration_runs`)[0]!.n
})

const rollbackAudit = (runId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql<{ n: number; distinct_reverts: number; reasons: string }>`
      SELECT count(*)::int AS n, count(DISTINCT reverts_log_id)::int AS distinct_reverts, string_agg(DISTINCT reason, ',') AS reasons
      FROM stage_normalization_log WHERE run_id = ${runId}::bigint`
  }).pipe(Effect.map((rows) => rows[0]!))

const suite = (it: Vitest.MethodsNonLive<SqlClient.SqlClient>) => {
  it.effect("scalar: apply (with forced unknowns) → rollback is byte-identical; dry run writes nothing; a second rollback restores nothing", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createScalarTable("rb_scalar", scalarRows(300))
      const original = yield* tableChecksum(table)
      const run = yield* migrate({ table, ...fast, forceUnknown: force })
      assert.strictEqual(run.status, "succeeded")
      assert.isAbove(run.forced.length, 0)
      assert.deepStrictEqual([...new Set(run.forced.map((f) => f.reason))].sort(), ["forced:edit-distance-1", "forced:map"])
      const migrated = yield* tableChecksum(table)
      assert.notStrictEqual(migrated, original)

      const runsBefore = yield* runsCount
      const dry = yield* rollback({ runId: run.runId })
      assert.deepStrictEqual([dry.status, dry.rollbackRunId, dry.restored, dry.conflicts], ["dry-run", null, run.totals.updated, 0])
      assert.strictEqual(yield* tableChecksum(table), migrated)
      assert.strictEqual(yield* runsCount, runsBefore)

      const undone = yield* rollback({ runId: run.runId, apply: true, batchSize: 50, sleepMs: 0 })
      assert.strictEqual(undone.status, "succeeded")
      assert.strictEqual(undone.restored, run.totals.updated)
      assert.strictEqual(yield* tableChecksum(table), original)
      assert.deepStrictEqual(yield* rollbackAudit(undone.rollbackRunId!), {
        n: run.totals.updated,
        distinct_reverts: run.totals.updated,
        reasons: "rollback"
      })
      const kind = yield* sql<{ operation: string; rollback_of: string }>`
        SELECT operation, rollback_of::text FROM stage_migration_runs WHERE run_id = ${undone.rollbackRunId!}::bigint`
      assert.deepStrictEqual(kind[0], { operation: "rollback", rollback_of: run.runId })

      const again = yield* rollback({ runId: run.runId, apply: true, sleepMs: 0 })
      assert.deepStrictEqual([again.restored, again.alreadyRestored, again.conflicts], [0, run.totals.updated, 0])
      assert.strictEqual(yield* tableChecksum(table), original)
      const status = yield* backfillStatusFromPostgres({ table })
      assert.isFalse(status.migrated)
      assert.include(status.detail, "rolled back run")
      const report = yield* verify({ runId: run.runId, sampleSize: 20 })
      assert.strictEqual(report.run.rolledBackBy, again.rollbackRunId)
      assert.strictEqual(report.checks.find((c) => c.name === "audit")!.counts["rolledBack"], run.totals.updated)
    }))

  it.effect("distributions: apply (with forced unknowns) → rollback is byte-identical", () =>
    Effect.gen(function*() {
      const table = yield* createDistributionTable("rb_dist", distributionRows(150))
      const original = yield* tableChecksum(table)
      const run = yield* migrate({ table, column: "mix", ...fast, forceUnknown: { map: { "serie x": "series-a" } } })
      assert.strictEqual(run.status, "succeeded")
      assert.isAbove(run.forced.length, 0)
      assert.notStrictEqual(yield* tableChecksum(table), original)
      const undone = yield* rollback({ runId: run.runId, apply: true, batchSize: 33, sleepMs: 0 })
      assert.deepStrictEqual([undone.status, undone.restored, undone.conflicts], ["succeeded", run.totals.updated, 0])
      assert.strictEqual(yield* tableChecksum(table), original)
    }))

  it.effect("rows changed or deleted since the run are left alone and listed; --batch restores one batch only", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = Array.from({ length: 120 }, (_, i) => ({ id: i + 1, fund: 0, stage: i % 2 === 0 ? "Series A" : "Seed Round" }))
      const table = yield* createScalarTable("rb_conflict", rows)
      const run = yield* migrate({ table, ...fast })
      const batches = yield* sql<{ batch_id: string }>`
        SELECT batch_id::text FROM stage_migration_batches WHERE run_id = ${run.runId}::bigint ORDER BY batch_no`
      assert.strictEqual(batches.length, 3)
      const one = yield* rollback({ runId: run.runId, batchId: batches[1]!.batch_id, apply: true, sleepMs: 0 })
      assert.strictEqual(one.restored, 40)
      const restored = yield* sql.unsafe<{ id: string }>(`SELECT id::text FROM ${table} WHERE stage IN ('Series A', 'Seed Round') ORDER BY id`)
      assert.deepStrictEqual(restored.map((r) => Number(r.id)), Array.from({ length: 40 }, (_, i) => 41 + i))

      yield* sql.unsafe(`UPDATE ${table} SET stage = 'series-c' WHERE id = 5`).unprepared
      yield* sql.unsafe(`DELETE FROM ${table} WHERE id = 6`).unprepared
      const dry = yield* rollback({ runId: run.runId })
      assert.deepStrictEqual([dry.restored, dry.alreadyRestored, dry.conflicts], [78, 40, 2])
      const rest = yield* rollback({ runId: run.runId, apply: true, sleepMs: 0 })
      assert.deepStrictEqual([rest.restored, rest.alreadyRestored, rest.conflicts], [78, 40, 2])
      assert.deepStrictEqual(rest.conflictList, [
        { pk: "5", expected: "series-a", found: "series-c", missing: false },
        { pk: "6", expected: "seed", found: null, missing: true }
      ])
      const five = yield* sql.unsafe<{ stage: string }>(`SELECT stage FROM ${table} WHERE id = 5`)
      assert.strictEqual(five[0]!.stage, "series-c", "a newer write is never clobbered")
      const recorded = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM stage_rollback_conflicts WHERE run_id = ${rest.rollbackRunId!}::bigint`
      assert.strictEqual(recorded[0]!.n, 2)
    }))

  it.effect("an interrupted rollback pauses and resumes to the same byte-identical table, each row restored once", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createScalarTable("rb_resume", scalarRows(160))
      const original = yield* tableChecksum(table)
      const run = yield* migrate({ table, ...fast })
      yield* slowUpdates(table, 0.004)
      const firstBatch = yield* Deferred.make<void>()
      const fiber = yield* rollback({
        runId: run.runId,
        apply: true,
        batchSize: 20,
        sleepMs: 0,
        onEvent: (e) => (e._tag === "BatchCompleted" ? Deferred.succeed(firstBatch, undefined).pipe(Effect.asVoid) : Effect.void)
      }).pipe(Effect.forkChild)
      yield* Deferred.await(firstBatch)
      yield* Effect.sleep(30)
      yield* Fiber.interrupt(fiber)
      const paused = yield* sql<{ run_id: string; status: string; rows_updated: string }>`
        SELECT run_id::text, status, rows_updated::text FROM stage_migration_runs WHERE rollback_of = ${run.runId}::bigint`
      assert.strictEqual(paused[0]?.status, "paused")
      assert.notStrictEqual(yield* tableChecksum(table), original)
      const resumed = yield* rollback({ runId: run.runId, apply: true, batchSize: 20, sleepMs: 0 })
      assert.isTrue(resumed.resumed)
      assert.strictEqual(resumed.rollbackRunId, paused[0]!.run_id)
      assert.strictEqual(resumed.restored, run.totals.updated)
      assert.strictEqual(yield* tableChecksum(table), original)
      const audit = yield* rollbackAudit(resumed.rollbackRunId!)
      assert.deepStrictEqual([audit.n, audit.distinct_reverts], [run.totals.updated, run.totals.updated])
    }))

  it.effect("refusals: a rollback of a rollback, of a run in progress, a batch of another run; migrate over an unfinished rollback", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createScalarTable("rb_refuse", scalarRows(80))
      const run = yield* migrate({ table, ...fast })
      const undone = yield* rollback({ runId: run.runId, apply: true, sleepMs: 0 })
      const cases: ReadonlyArray<[Parameters<typeof rollback>[0], string, string]> = [
        [{ runId: undone.rollbackRunId!, apply: true }, "InvalidOptions", "is itself a rollback"],
        [{ runId: "424242" }, "RunNotFound", "does not exist"],
        [{ runId: "abc" }, "InvalidOptions", "--run must be a run id"],
        [{ runId: run.runId, batchId: "999999" }, "InvalidOptions", "is not a batch of run"],
        [{ runId: run.runId, batchSize: 0 }, "InvalidOptions", "--batch-size"]
      ]
      for (const [options, reason, text] of cases) {
        const e = yield* rollback(options).pipe(Effect.flip)
        assert.strictEqual(e.reason._tag, reason, JSON.stringify(options))
        assert.include(e.message, text)
        assert.isTrue(e.isInputError)
      }
      // a paused normalisation run cannot be rolled back until it is cancelled
      const other = yield* createScalarTable("rb_refuse2", scalarRows(80))
      const paused = yield* migrate({ table: other, ...fast, shouldStop: Effect.succeed(true) })
      assert.strictEqual(paused.status, "paused")
      const inProgress = yield* rollback({ runId: paused.runId, apply: true }).pipe(Effect.flip)
      assert.strictEqual(inProgress.reason._tag, "RunInProgress")
      assert.include(inProgress.message, `migrate --cancel --run ${paused.runId}`)
      // an unfinished rollback blocks migrate on its target
      const again = yield* migrate({ table, ...fast })
      yield* sql`UPDATE stage_migration_runs SET status = 'paused' WHERE run_id = ${undone.rollbackRunId!}::bigint`
      const blocked = yield* migrate({ table, ...fast }).pipe(Effect.flip)
      assert.strictEqual(blocked.reason._tag, "RunInProgress")
      assert.include(blocked.message, "unfinished rollback")
      const blockedRollback = yield* rollback({ runId: again.runId, apply: true }).pipe(Effect.flip)
      assert.strictEqual(blockedRollback.reason._tag, "RunInProgress")
    }))
}

describe("rollback", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)
  layer(layerScratchPostgres("rollback"), { timeout: "60 seconds", excludeTestServices: true })("real PostgreSQL", suite)
  layer(layerScratchEmbedded, { timeout: "120 seconds", excludeTestServices: true })("embedded database", suite)
})
