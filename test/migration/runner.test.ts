/**
 * The migration pipeline in process, on the real PostgreSQL (a scratch database) and on the
 * embedded database: dry run writes nothing; apply normalises every known value, leaves unknowns,
 * keeps the row count and audits each changed row once; re-runs update nothing; distributions
 * keep their weights; --fund-id; per-fund batching; one active run per target; pause and resume;
 * cancel; bad input; BackfillStatus.
 */
import { assert, describe, it, layer, type Vitest } from "@effect/vitest"
import { Deferred, Effect, Fiber, Metric, Ref } from "effect"
import { SqlClient } from "effect/sql"
import { backfillStatusFromPostgres } from "../../src/migration/verify/BackfillStatusPostgres.ts"
import { cancelRun } from "../../src/migration/run/Cancel.ts"
import type { MigrationEvent } from "../../src/migration/MigrationEvent.ts"
import { preview } from "../../src/migration/run/Preview.ts"
import { migrate, type MigrateOptions } from "../../src/migration/run/Runner.ts"
import { normalizeStage } from "../../src/normalizer/NormalizeStage.ts"
import { migrationBatchesTotal, migrationRowsTotal } from "../../src/observability/metrics.ts"
import { isCanonicalStage } from "../../src/normalizer/Stages.ts"
import { layerScratchEmbedded, layerScratchPostgres, requirePostgres } from "./support/Databases.ts"
import {
  auditRows,
  createDistributionTable,
  createScalarTable,
  distributionRows,
  scalarRows,
  snapshot,
  trackingExists
} from "./support/Fixtures.ts"

const fast: Partial<MigrateOptions> = { sleepMs: 0, batchSize: 50, adaptive: false, retryDelayMs: 10 }

const expectedStage = (value: string | null): string | null => {
  if (value === null) return null
  const r = normalizeStage(value)
  return r._tag === "Canonical" ? r.stage : value
}

const sumOf = (json: string | null): number | undefined => {
  if (json === null) return undefined
  const v = JSON.parse(json) as unknown
  if (Array.isArray(v)) return v.reduce((n: number, e) => n + ((e as { weight: number }).weight ?? 0), 0)
  if (typeof v === "object" && v !== null) return Object.values(v as Record<string, number>).reduce((n, w) => n + w, 0)
  return undefined
}

const suite = (it: Vitest.MethodsNonLive<SqlClient.SqlClient>, kind: "postgres" | "embedded") => {
  it.effect("dry run writes nothing: no tracking tables, no twin, table unchanged", () =>
    Effect.gen(function*() {
      const table = yield* createScalarTable("dry", scalarRows(240))
      const before = yield* snapshot(table)
      const report = yield* preview({ table, sleepMs: 0, batchSize: 100 })
      assert.strictEqual(report.rowsScanned, 240)
      assert.deepStrictEqual(yield* snapshot(table), before)
      assert.deepStrictEqual(yield* trackingExists, { runs: false, twin: false })
      const expectedUpdates = before.filter(([, v]) => v !== null && expectedStage(v) !== v && isCanonicalStage(expectedStage(v))).length
      assert.strictEqual(report.rowsToUpdate, expectedUpdates)
      assert.strictEqual(report.rowsNull, before.filter(([, v]) => v === null).length)
      const unknown = report.unknowns.find((u) => u.value === "serie a")
      assert.isDefined(unknown)
      assert.include(unknown!.suggestions, "series-a")
      assert.strictEqual(report.values.find((v) => v.value === "Series A")?.stage, "series-a")
    }))

  it.effect("apply normalises every known value, leaves unknowns, audits each changed row once; re-run updates nothing", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createScalarTable("apply", scalarRows(300))
      const before = yield* snapshot(table)
      const events: Array<MigrationEvent> = []
      const { summary, updatedMetric, batchesMetric } = yield* Effect.gen(function*() {
        const summary = yield* migrate({ table, ...fast, onEvent: (e) => Effect.sync(() => events.push(e)) })
        const updatedMetric = yield* Metric.value(Metric.withAttributes(migrationRowsTotal, { result: "updated" }))
        const batchesMetric = yield* Metric.value(Metric.withAttributes(migrationBatchesTotal, { status: "completed" }))
        return { summary, updatedMetric, batchesMetric }
      }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
      assert.strictEqual(summary.status, "succeeded")
      const after = yield* snapshot(table)
      assert.strictEqual(after.length, before.length)
      const changed = before.filter(([, v], i) => after[i]![1] !== v)
      after.forEach(([id, v], i) => {
        assert.strictEqual(id, before[i]![0])
        assert.strictEqual(v, expectedStage(before[i]![1]), `row ${id}: ${before[i]![1]}`)
        if (v !== null && normalizeStage(v)._tag === "Canonical") assert.isTrue(isCanonicalStage(v))
      })
      const audit = yield* auditRows(table)
      assert.strictEqual(audit.length, changed.length)
      assert.strictEqual(summary.totals.updated, changed.length)
      assert.strictEqual(updatedMetric.count, changed.length)
      assert.strictEqual(batchesMetric.count, 6)
      const got = audit.map((a) => [a.pk, a.old, a.new])
      const want = changed.map(([id, old]) => [id, old, expectedStage(old)])
      const k = got.findIndex((g, i) => JSON.stringify(g) !== JSON.stringify(want[i]))
      assert.strictEqual(k, -1, `first difference at ${k}: ${JSON.stringify(got[k])} vs ${JSON.stringify(want[k])}`)
      assert.strictEqual(summary.totals.scanned, 300)
      assert.deepStrictEqual(summary.unknowns.map((u) => u.value).sort(), ["early stage", "serie a"])
      assert.isTrue(events.some((e) => e._tag === "BatchCompleted"))
      const progress = yield* sql<{ percent_complete: string; status: string }>`
        SELECT percent_complete::text, status FROM stage_migration_progress WHERE run_id = ${summary.runId}::bigint`
      assert.deepStrictEqual(progress[0], { percent_complete: "100.00", status: "succeeded" })
      const notes = yield* sql.unsafe<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE note = 'keep'`)
      assert.strictEqual(notes[0]!.n, 300)

      const again = yield* migrate({ table, ...fast })
      assert.strictEqual(again.status, "succeeded")
      assert.notStrictEqual(again.runId, summary.runId)
      assert.strictEqual(again.totals.updated, 0)
      assert.deepStrictEqual(yield* snapshot(table), after)
      assert.strictEqual((yield* auditRows(table)).length, changed.length)
    }))

  it.effect("distributions: stages canonical and merged, weights preserved, bad rows left alone", () =>
    Effect.gen(function*() {
      const table = yield* createDistributionTable("dist", distributionRows(120))
      const before = yield* snapshot(table, "mix")
      const summary = yield* migrate({ table, column: "mix", ...fast })
      assert.strictEqual(summary.status, "succeeded")
      assert.strictEqual(summary.kind, "distribution")
      const after = yield* snapshot(table, "mix")
      assert.strictEqual(after.length, before.length)
      let changed = 0
      after.forEach(([, v], i) => {
        const old = before[i]![1]
        if (v === old) return
        changed++
        const s0 = sumOf(old)!
        const s1 = sumOf(v)!
        assert.isAtMost(Math.abs(s1 - s0), 1e-9 * Math.abs(s0), `${old} → ${v}`)
        const parsed = JSON.parse(v!) as unknown
        const stages = Array.isArray(parsed) ? parsed.map((e) => (e as { stage: string }).stage) : Object.keys(parsed as object)
        assert.isTrue(stages.every(isCanonicalStage), v!)
        assert.strictEqual(new Set(stages).size, stages.length)
      })
      assert.isAbove(changed, 0)
      assert.strictEqual(summary.totals.updated, changed)
      assert.strictEqual((yield* auditRows(table)).length, changed)
      const kept = after.find(([, v]) => v?.includes("kept"))
      assert.include(kept![1]!, "series-b")
      for (const [i, [, v]] of after.entries()) {
        const old = before[i]![1]
        if (old?.includes("serie x") === true || old?.includes("-1") === true || old === "\"not a distribution\"") {
          assert.strictEqual(v, old)
        }
      }
      assert.includeMembers(summary.unknowns.map((u) => u.kind), ["unknown-stage", "invalid-weight", "not-a-distribution"])
      const again = yield* migrate({ table, column: "mix", ...fast })
      assert.strictEqual(again.totals.updated, 0)
    }))

  it.effect("--fund-id migrates one fund only", () =>
    Effect.gen(function*() {
      const table = yield* createScalarTable("fund", scalarRows(150))
      const before = yield* snapshot(table)
      const sql = yield* SqlClient.SqlClient
      const funds = yield* sql.unsafe<{ k: string; fund: number | null }>(`SELECT t.id::text AS k, t.fund_id AS fund FROM ${table} AS t ORDER BY t.id`)
      const summary = yield* migrate({ table, fundId: "1", ...fast })
      assert.strictEqual(summary.batchBy, "fund")
      const after = yield* snapshot(table)
      after.forEach(([, v], i) => {
        const old = before[i]![1]
        assert.strictEqual(v, funds[i]!.fund === 1 ? expectedStage(old) : old)
      })
      const byFund = yield* sql<{ fund_id: string | null; percent_complete: string }>`
        SELECT fund_id, percent_complete::text FROM stage_migration_progress_by_fund WHERE run_id = ${summary.runId}::bigint`
      assert.deepStrictEqual(byFund, [{ fund_id: "1", percent_complete: "100.00" }])
    }))

  it.effect("batches per fund when a (fund, id) index exists, NULL funds included", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createScalarTable("perfund", scalarRows(200), { fundIdIndex: true })
      const before = yield* snapshot(table)
      const summary = yield* migrate({ table, ...fast })
      assert.strictEqual(summary.batchBy, "fund")
      assert.deepStrictEqual((yield* snapshot(table)).map(([, v]) => v), before.map(([, v]) => expectedStage(v)))
      const batches = yield* sql<{ fund_id: string | null }>`
        SELECT DISTINCT fund_id FROM stage_migration_batches WHERE run_id = ${summary.runId}::bigint ORDER BY fund_id`
      assert.deepStrictEqual(batches.map((b) => b.fund_id), ["0", "1", "2", null])
      const byFund = yield* sql<{ fund_id: string | null; rows_total: string; rows_scanned: string }>`
        SELECT fund_id, rows_total::text, rows_scanned::text FROM stage_migration_progress_by_fund
        WHERE run_id = ${summary.runId}::bigint`
      assert.strictEqual(byFund.length, 4)
      for (const f of byFund) assert.strictEqual(f.rows_scanned, f.rows_total)
    }))

  it.effect("per-fund batching pauses and resumes at the right fund and id", () =>
    Effect.gen(function*() {
      const table = yield* createScalarTable("fundpause", scalarRows(300), { fundIdIndex: true })
      const before = yield* snapshot(table)
      for (const stopAfter of [2, 3, 1]) {
        const done = yield* Ref.make(0)
        const partial = yield* migrate({
          table,
          ...fast,
          batchSize: 40,
          onEvent: (e) => (e._tag === "BatchCompleted" ? Ref.update(done, (n) => n + 1) : Effect.void),
          shouldStop: Ref.get(done).pipe(Effect.map((n) => n >= stopAfter))
        })
        assert.strictEqual(partial.status, "paused")
      }
      const finished = yield* migrate({ table, ...fast, batchSize: 40 })
      assert.strictEqual(finished.status, "succeeded")
      assert.strictEqual(finished.totals.scanned, 300)
      assert.deepStrictEqual((yield* snapshot(table)).map(([, v]) => v), before.map(([, v]) => expectedStage(v)))
      const audit = yield* auditRows(table)
      assert.strictEqual(audit.length, before.filter(([, v]) => expectedStage(v) !== v).length)
      assert.strictEqual(new Set(audit.map((a) => a.pk)).size, audit.length)
    }))

  it.effect(kind === "postgres"
    ? "two concurrent applies on one target: the second joins the run, each range is applied once"
    : "two concurrent applies on one target: the embedded database (one session) refuses the second", () =>
    Effect.gen(function*() {
      const table = yield* createScalarTable("conc", scalarRows(200))
      const before = yield* snapshot(table)
      const started = yield* Deferred.make<void>()
      const first = yield* migrate({
        table,
        ...fast,
        batchSize: 20,
        adaptive: false,
        sleepMs: 30,
        onEvent: (e) => (e._tag === "BatchCompleted" ? Deferred.succeed(started, undefined).pipe(Effect.asVoid) : Effect.void)
      }).pipe(Effect.forkChild)
      yield* Deferred.await(started)
      if (kind === "embedded") {
        const refused = yield* migrate({ table, ...fast }).pipe(Effect.flip)
        assert.strictEqual(refused.reason._tag, "RunInProgress")
        assert.isTrue(refused.isInputError)
        assert.include(refused.message, "being migrated by run")
        assert.strictEqual((yield* Fiber.join(first)).status, "succeeded")
        return
      }
      const second = yield* migrate({ table, ...fast, batchSize: 20, adaptive: false, sleepMs: 30 })
      const summary = yield* Fiber.join(first)
      assert.strictEqual(second.runId, summary.runId)
      assert.isTrue(second.resumed)
      assert.strictEqual(summary.status, "succeeded")
      assert.strictEqual(second.status, "succeeded")
      assert.isAbove(second.batches, 0)
      assert.strictEqual(summary.batches + second.batches, 10)
      assert.deepStrictEqual((yield* snapshot(table)).map(([, v]) => v), before.map(([, v]) => expectedStage(v)))
      const audit = yield* auditRows(table)
      assert.strictEqual(new Set(audit.map((a) => a.pk)).size, audit.length)
      const sql = yield* SqlClient.SqlClient
      const overlaps = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM stage_migration_batches a JOIN stage_migration_batches b
          ON a.run_id = b.run_id AND a.batch_id < b.batch_id
         AND coalesce(a.range_start, '0')::bigint < b.range_end::bigint AND coalesce(b.range_start, '0')::bigint < a.range_end::bigint
        WHERE a.run_id = ${summary.runId}::bigint AND a.status = 'succeeded' AND b.status = 'succeeded'`
      assert.strictEqual(overlaps[0]!.n, 0)
      const workers = yield* sql<{ n: number }>`SELECT count(DISTINCT session)::int AS n FROM stage_migration_workers WHERE run_id = ${summary.runId}::bigint`
      assert.strictEqual(workers[0]!.n, 2)
    }))

  it.effect("pause between batches, resume: same table as an uninterrupted run, one audit row per change", () =>
    Effect.gen(function*() {
      const rows = scalarRows(260)
      const reference = yield* createScalarTable("ref", rows)
      yield* migrate({ table: reference, ...fast })
      const table = yield* createScalarTable("pause", rows)
      const before = yield* snapshot(table)
      const done = yield* Ref.make(0)
      const paused = yield* migrate({
        table,
        ...fast,
        onEvent: (e) => (e._tag === "BatchCompleted" ? Ref.update(done, (n) => n + 1) : Effect.void),
        shouldStop: Ref.get(done).pipe(Effect.map((n) => n >= 2))
      })
      assert.strictEqual(paused.status, "paused")
      assert.strictEqual(paused.batches, 2)
      assert.strictEqual(paused.totals.scanned, 100)
      const nothingToResume = yield* migrate({ table: reference, ...fast, resume: true }).pipe(Effect.flip)
      assert.strictEqual(nothingToResume.reason._tag, "NothingToResume")
      const resumed = yield* migrate({ table, ...fast, resume: true })
      assert.strictEqual(resumed.status, "succeeded")
      assert.isTrue(resumed.resumed)
      assert.strictEqual(resumed.runId, paused.runId)
      assert.strictEqual(resumed.totals.scanned, 260)
      assert.deepStrictEqual((yield* snapshot(table)).map(([, v]) => v), (yield* snapshot(reference)).map(([, v]) => v))
      const audit = yield* auditRows(table)
      const changed = before.filter(([, v]) => v !== expectedStage(v))
      assert.strictEqual(audit.length, changed.length)
      assert.strictEqual(new Set(audit.map((a) => a.pk)).size, audit.length)
    }))

  it.effect("cancel: a paused run is cancelled at once and the next apply starts a new run", () =>
    Effect.gen(function*() {
      const table = yield* createScalarTable("cancel", scalarRows(120))
      const paused = yield* migrate({ table, ...fast, shouldStop: Effect.succeed(true) })
      assert.strictEqual(paused.status, "paused")
      const mismatch = yield* migrate({ table, ...fast, fundId: "2" }).pipe(Effect.flip)
      assert.strictEqual(mismatch.reason._tag, "ResumeMismatch")
      const cancelled = yield* cancelRun({ target: { table } })
      assert.deepStrictEqual(cancelled, { runId: paused.runId, previousStatus: "paused", action: "cancelled" })
      const again = yield* cancelRun({ runId: paused.runId }).pipe(Effect.flip)
      assert.include(again.message, "already cancelled")
      const fresh = yield* migrate({ table, ...fast })
      assert.notStrictEqual(fresh.runId, paused.runId)
      // a cancel requested from an active runner that then died is honoured by the next apply
      const sql = yield* SqlClient.SqlClient
      const other = yield* createScalarTable("cancel2", scalarRows(60))
      const stopped = yield* migrate({ table: other, ...fast, shouldStop: Effect.succeed(true) })
      yield* sql`UPDATE stage_migration_control SET cancel_requested = true WHERE run_id = ${stopped.runId}::bigint`
      const next = yield* migrate({ table: other, ...fast })
      assert.notStrictEqual(next.runId, stopped.runId)
      const statuses = yield* sql<{ status: string }>`
        SELECT status FROM stage_migration_runs WHERE run_id IN (${stopped.runId}::bigint, ${next.runId}::bigint) ORDER BY run_id`
      assert.deepStrictEqual(statuses.map((r) => r.status), ["cancelled", "succeeded"])
      assert.isFalse(fresh.resumed)
      assert.strictEqual(fresh.status, "succeeded")
    }))

  it.effect("bad input is refused with a clear input error and writes nothing", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createScalarTable("bad", scalarRows(10))
      yield* sql.unsafe(`CREATE TABLE ${table}_noid (id bigint, stage text)`).unprepared
      yield* sql.unsafe(`CREATE TABLE ${table}_int (id bigint PRIMARY KEY, stage int)`).unprepared
      yield* sql.unsafe(`CREATE TABLE ${table}_json (id bigint PRIMARY KEY, stage json)`).unprepared
      const runsBefore = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM stage_migration_runs`
      const cases: ReadonlyArray<[MigrateOptions, string, string]> = [
        [{ table: "no_such_table" }, "TableNotFound", "does not exist"],
        [{ table, column: "stag" }, "ColumnNotFound", "no stage column \"stag\""],
        [{ table: `${table}_int` }, "WrongColumnType", "is integer"],
        [{ table: `${table}_json` }, "WrongColumnType", "jsonb"],
        [{ table, kind: "distribution" }, "WrongColumnType", "not distributions"],
        [{ table: `${table}_noid` }, "IdNotUnique", "unique"],
        [{ table, fundId: "abc" }, "InvalidOptions", "not a valid integer"],
        [{ table, batchSize: 0 }, "InvalidOptions", "--batch-size"]
      ]
      for (const [options, reason, text] of cases) {
        const e = yield* migrate({ ...fast, ...options }).pipe(Effect.flip)
        assert.strictEqual(e.reason._tag, reason, JSON.stringify(options))
        assert.isTrue(e.isInputError)
        assert.include(e.message, text)
        const p = yield* preview({ ...fast, ...options }).pipe(Effect.flip)
        assert.strictEqual(p.reason._tag, reason)
      }
      assert.deepStrictEqual(yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM stage_migration_runs`, runsBefore)
    }))

  it.effect("BackfillStatus: migrated once no non-canonical value remains, verified once the run is verified", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createScalarTable("backfill", scalarRows(60))
      const initial = yield* backfillStatusFromPostgres({ table })
      assert.deepStrictEqual([initial.migrated, initial.verified, initial.runId], [false, false, null])
      assert.isAbove(initial.remainingNonCanonical, 0)
      const run = yield* migrate({ table, ...fast })
      const withUnknowns = yield* backfillStatusFromPostgres({ table })
      assert.isFalse(withUnknowns.migrated)
      assert.strictEqual(withUnknowns.remainingNonCanonical, run.unknowns.reduce((n, u) => n + u.rows, 0))
      yield* sql.unsafe(`UPDATE ${table} SET stage = 'seed' WHERE stage IN ('early stage', 'serie a')`).unprepared
      const fixed = yield* migrate({ table, ...fast })
      const migrated = yield* backfillStatusFromPostgres({ table })
      assert.deepStrictEqual([migrated.migrated, migrated.verified, migrated.runId], [true, false, fixed.runId])
      yield* sql`UPDATE stage_migration_runs SET verified_at = now() WHERE run_id = ${fixed.runId}::bigint`
      const verified = yield* backfillStatusFromPostgres({ table })
      assert.deepStrictEqual([verified.migrated, verified.verified], [true, true])
      assert.include(verified.detail, "verified at")
      const dist = yield* createDistributionTable("backfill_dist", distributionRows(20))
      const d = yield* backfillStatusFromPostgres({ table: dist, column: "mix" })
      assert.isAbove(d.remainingNonCanonical, 0)
    }))

  if (kind === "embedded") return
}

describe("migration runner", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)
  layer(layerScratchPostgres("runner"), { timeout: "60 seconds", excludeTestServices: true })("real PostgreSQL", (it) => suite(it, "postgres"))
  layer(layerScratchEmbedded, { timeout: "120 seconds", excludeTestServices: true })("embedded database", (it) => suite(it, "embedded"))
})
