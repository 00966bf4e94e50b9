/**
 * `verify` in process, on the real PostgreSQL and on the embedded database: a clean run passes
 * all nine checks and is marked verified (BackfillStatus then says verified); each kind of damage
 * fails or warns the check that owns it — a value damaged by hand, values the run reported as
 * unknown (a warning, failing under strict), a new NULL, a deleted or inserted row, audit rows
 * missing or doubled, an audit row the TypeScript normaliser disagrees with, a distribution whose
 * weight sum changed or does not sum to 1 — and a failing verification clears `verified_at`.
 * Per-fund scope, and bad input.
 */
import { assert, describe, it, layer, type Vitest } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { backfillStatusFromPostgres } from "../../src/migration/verify/BackfillStatusPostgres.ts"
import { migrate, type MigrateOptions } from "../../src/migration/run/Runner.ts"
import { verify } from "../../src/migration/verify/Verify.ts"
import { encodeReport, VerifyReport } from "../../src/migration/verify/VerifyReport.ts"
import { layerScratchEmbedded, layerScratchPostgres, requirePostgres } from "./support/Databases.ts"
import { createDistributionTable, createScalarTable, type ScalarRow } from "./support/Fixtures.ts"

const fast: Partial<MigrateOptions> = { sleepMs: 0, batchSize: 40, adaptive: false, retryDelayMs: 10 }

const KNOWN = ["seed", "Series A", "Seed Round", "  SERIES_B ", "growth", "Pre Seed", "series-a", null]
const knownRows = (n: number): ReadonlyArray<ScalarRow> =>
  Array.from({ length: n }, (_, i) => ({ id: i + 1, fund: i % 3, stage: KNOWN[i % KNOWN.length] ?? null }))

const statuses = (r: VerifyReport) => Object.fromEntries(r.checks.map((c) => [c.name, c.status]))

const suite = (it: Vitest.MethodsNonLive<SqlClient.SqlClient>) => {
  it.effect("a clean run passes every check, strict; the run is marked verified; the report is valid JSON of the schema", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createScalarTable("v_clean", knownRows(200), { fundIdIndex: true })
      const run = yield* migrate({ table, ...fast })
      const report = yield* verify({ target: { table }, strict: true })
      assert.deepStrictEqual(statuses(report), {
        batches: "pass",
        canonical: "pass",
        nulls: "pass",
        "row-count": "pass",
        audit: "pass",
        sample: "pass",
        funds: "pass",
        distributions: "skipped",
        "non-stage-content": "skipped"
      }, JSON.stringify(report.checks, null, 1))
      assert.isTrue(report.summary.ok)
      assert.isTrue(report.summary.markedVerified)
      assert.strictEqual(report.run.runId, run.runId)
      assert.strictEqual(report.funds.length, 3)
      assert.strictEqual(report.funds.reduce((n, f) => n + f.updated, 0), run.totals.updated)
      const sample = report.checks.find((c) => c.name === "sample")!
      assert.strictEqual(sample.counts["sampled"], 100)
      const audit = report.checks.find((c) => c.name === "audit")!
      assert.strictEqual(audit.counts["auditRows"], run.totals.updated)
      assert.deepStrictEqual(Schema.decodeUnknownSync(Schema.fromJsonString(VerifyReport))(yield* encodeReport(report)), report)
      const status = yield* backfillStatusFromPostgres({ table })
      assert.deepStrictEqual([status.migrated, status.verified], [true, true])
      const stored = yield* sql<{ ok: boolean }>`SELECT (verification ->> 'ok')::boolean AS ok FROM stage_migration_runs WHERE run_id = ${run.runId}::bigint`
      assert.isTrue(stored[0]!.ok)
    }))

  it.effect("damage by hand fails check 2 (and 5 warns); the failing verification clears verified_at", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createScalarTable("v_damage", knownRows(120))
      yield* migrate({ table, ...fast })
      assert.isTrue((yield* verify({ target: { table }, strict: true })).summary.ok)
      yield* sql.unsafe(`UPDATE ${table} SET stage = 'Series  Z' WHERE id = 2`).unprepared
      yield* sql.unsafe(`UPDATE ${table} SET stage = 'Series A' WHERE id = 3`).unprepared
      const report = yield* verify({ target: { table }, strict: true, sampleSize: 0 })
      assert.isFalse(report.summary.ok)
      const canonical = report.checks.find((c) => c.name === "canonical")!
      assert.strictEqual(canonical.status, "fail")
      assert.deepStrictEqual([canonical.counts["notNormalised"], canonical.counts["unreportedUnknown"]], [1, 1])
      // both were written after the run started, none is a row the run left behind
      assert.deepStrictEqual([canonical.counts["writtenSinceRunStart"], canonical.counts["notNormalisedByRun"]], [2, 0])
      assert.include(canonical.summary, "2 were written after the run started")
      assert.deepStrictEqual(canonical.examples.map((e) => e.pk).sort(), ["2", "3"])
      const audit = report.checks.find((c) => c.name === "audit")!
      assert.strictEqual(audit.status, "warn")
      assert.strictEqual(audit.counts["changedSince"], 2)
      assert.strictEqual(report.checks.find((c) => c.name === "sample")!.status, "skipped")
      const status = yield* backfillStatusFromPostgres({ table })
      assert.isFalse(status.verified)
    }))

  it.effect("reported unknowns warn (strict fails); new NULLs and lost rows fail; new rows warn", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = knownRows(90).map((r) => (r.id % 30 === 0 ? { ...r, stage: "early stage" } : r))
      const table = yield* createScalarTable("v_counts", rows)
      yield* migrate({ table, ...fast })
      const lenient = yield* verify({ target: { table } })
      assert.strictEqual(statuses(lenient)["canonical"], "warn")
      assert.isTrue(lenient.summary.ok)
      assert.isTrue(lenient.summary.markedVerified)
      const strict = yield* verify({ target: { table }, strict: true })
      assert.isFalse(strict.summary.ok)
      assert.isNull(strict.summary.verifiedAt)

      yield* sql.unsafe(`UPDATE ${table} SET stage = NULL WHERE id = 2`).unprepared
      yield* sql.unsafe(`DELETE FROM ${table} WHERE id = 4`).unprepared
      const damaged = yield* verify({ target: { table } })
      assert.strictEqual(statuses(damaged)["nulls"], "fail")
      assert.strictEqual(statuses(damaged)["row-count"], "fail")
      assert.strictEqual(statuses(damaged)["funds"], "fail")
      const audit = damaged.checks.find((c) => c.name === "audit")!
      assert.deepStrictEqual([audit.counts["changedSince"], audit.counts["deletedSince"]], [1, 1])

      yield* sql.unsafe(`UPDATE ${table} SET stage = 'series-a' WHERE id = 2`).unprepared
      yield* sql.unsafe(`INSERT INTO ${table} (id, fund_id, stage) VALUES (4, 0, 'series-b'), (1000, 0, 'seed')`).unprepared
      const grown = yield* verify({ target: { table } })
      assert.strictEqual(statuses(grown)["row-count"], "warn")
      assert.strictEqual(statuses(grown)["nulls"], "pass")
    }))

  it.effect("tampered audit: a missing audit row, a doubled one, a wrong new value (TypeScript disagrees) fail", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createScalarTable("v_audit", knownRows(60).map((r) => ({ ...r, stage: "Series A" })))
      const run = yield* migrate({ table, ...fast })
      yield* sql`INSERT INTO stage_normalization_log (run_id, batch_id, table_name, pk, column_name, old_value, new_value)
                 SELECT run_id, batch_id, table_name, pk, column_name, old_value, new_value FROM stage_normalization_log
                 WHERE run_id = ${run.runId}::bigint AND pk = '5'`
      yield* sql`UPDATE stage_normalization_log SET new_value = 'series-b' WHERE run_id = ${run.runId}::bigint AND pk = '6'`
      yield* sql.unsafe(`UPDATE ${table} SET stage = 'series-b' WHERE id = 6`).unprepared
      const report = yield* verify({ target: { table }, sampleSize: 1000 })
      const audit = report.checks.find((c) => c.name === "audit")!
      assert.strictEqual(audit.status, "fail")
      assert.strictEqual(audit.counts["appliedTwice"], 1)
      assert.include(audit.summary, "61 audit rows but the run counts 60 updated rows")
      const sample = report.checks.find((c) => c.name === "sample")!
      assert.strictEqual(sample.status, "fail")
      assert.strictEqual(sample.counts["disagree"], 1)
      assert.strictEqual(sample.examples.find((e) => e.note.includes("TypeScript"))?.pk, "6")
    }))

  it.effect("distributions: weight sums preserved pass, a changed sum fails, a sum off 1 warns", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const mixes = [
        [{ stage: "Series A", weight: 0.25 }, { stage: "series_a", weight: 0.25 }, { stage: "Seed", weight: 0.5 }],
        { "Seed Round": 0.1, "seed": 0.2, "SERIES B": 0.7 },
        { "seed": 0.3, "series-c+": 0.7 }
      ]
      const table = yield* createDistributionTable("v_dist", Array.from({ length: 30 }, (_, i) => ({ id: i + 1, fund: i % 2, mix: mixes[i % 3] })))
      const run = yield* migrate({ table, column: "mix", ...fast })
      const clean = yield* verify({ target: { table, column: "mix" }, strict: true })
      assert.deepStrictEqual(statuses(clean), {
        batches: "pass",
        canonical: "pass",
        nulls: "pass",
        "row-count": "pass",
        audit: "pass",
        sample: "pass",
        funds: "pass",
        distributions: "pass",
        "non-stage-content": "pass"
      }, JSON.stringify(clean.checks, null, 1))
      yield* sql.unsafe(`UPDATE ${table} SET mix = '{"seed": 0.5, "series-a": 0.4}' WHERE id = 3`).unprepared
      const offOne = yield* verify({ target: { table, column: "mix" } })
      assert.strictEqual(statuses(offOne)["distributions"], "warn")
      assert.strictEqual(offOne.checks.find((c) => c.name === "distributions")!.counts["notSummingToOne"], 1)
      yield* sql`UPDATE stage_normalization_log SET new_json = '[{"stage": "seed", "weight": 0.9}]'::jsonb
                 WHERE run_id = ${run.runId}::bigint AND pk = '1'`
      const drift = yield* verify({ target: { table, column: "mix" } })
      assert.strictEqual(statuses(drift)["distributions"], "fail")
      assert.strictEqual(drift.checks.find((c) => c.name === "distributions")!.examples[0]?.pk, "1")
    }))

  it.effect("--fund-id verifies one fund and records nothing; bad input is an input error", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createScalarTable("v_fund", knownRows(60))
      const run = yield* migrate({ table, ...fast })
      yield* sql.unsafe(`UPDATE ${table} SET stage = 'Series A' WHERE id = 2`).unprepared // fund 1
      const fund0 = yield* verify({ target: { table }, fundId: "0", strict: true })
      assert.isTrue(fund0.summary.ok, JSON.stringify(fund0.checks, null, 1))
      assert.isFalse(fund0.summary.markedVerified)
      assert.deepStrictEqual(fund0.funds.map((f) => f.fundId), ["0"])
      const fund1 = yield* verify({ runId: run.runId, fundId: "1" })
      assert.strictEqual(statuses(fund1)["canonical"], "fail")
      const recorded = yield* sql<{ v: string | null }>`SELECT verification::text AS v FROM stage_migration_runs WHERE run_id = ${run.runId}::bigint`
      assert.isNull(recorded[0]!.v)

      const cases: ReadonlyArray<[Parameters<typeof verify>[0], string, string]> = [
        [{ runId: "999999" }, "RunNotFound", "run 999999 does not exist"],
        [{ runId: "x" }, "InvalidOptions", "--run must be a run id"],
        [{ target: { table: "no_such_table" } }, "TableNotFound", "does not exist"],
        [{ target: { table, column: "note" } }, "RunNotFound", "has no migration run"],
        [{ runId: run.runId, fundId: "abc" }, "InvalidOptions", "not a valid integer"],
        [{ runId: run.runId, sampleSize: -1 }, "InvalidOptions", "--sample-size"]
      ]
      for (const [options, reason, text] of cases) {
        const e = yield* verify(options).pipe(Effect.flip)
        assert.strictEqual(e.reason._tag, reason, JSON.stringify(options))
        assert.isTrue(e.isInputError)
        assert.include(e.message, text)
      }
    }))
}

describe("verify", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)
  layer(layerScratchPostgres("verify"), { timeout: "60 seconds", excludeTestServices: true })("real PostgreSQL", suite)
  layer(layerScratchEmbedded, { timeout: "120 seconds", excludeTestServices: true })("embedded database", suite)
})
