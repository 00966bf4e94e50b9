/**
 * Properties of migration safety (issue 7):
 *
 * - `--force-unknown`'s edit-distance rule forces a value only onto the one canonical stage whose
 *   keys are within one edit of it, never a value the normaliser knows, and never when two stages
 *   are that close (checked against a brute-force scan of every key);
 * - a forced distribution keeps its weight sum and ends canonical (each stage once);
 * - on the real PostgreSQL: for random messy tables (known aliases, unknowns one edit from a stage,
 *   unknowns nowhere near one, NULLs), apply with `--force-unknown` → rollback leaves the table
 *   byte-identical (ordered checksum), scalar and distribution; and every run verifies.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import fc from "fast-check"
import { planForcedDistribution } from "../src/migration/run/DistributionPlan.ts"
import { uniqueStageAtEditDistance1 } from "../src/migration/run/ForceUnknown.ts"
import { rollback } from "../src/migration/rollback/Rollback.ts"
import { migrate } from "../src/migration/run/Runner.ts"
import { verify } from "../src/migration/verify/Verify.ts"
import {
  CANONICAL_STAGES,
  foldKey,
  normalizeStage,
  STAGE_ALIASES,
  stageVocabulary
} from "../src/normalizer/index.ts"
import { boundedEditDistance } from "../src/normalizer/EditDistance.ts"
import { layerScratchPostgres, requirePostgres } from "../test/migration/support/Databases.ts"
import { createDistributionTable, createScalarTable, tableChecksum } from "../test/migration/support/Fixtures.ts"

const spellings = [...CANONICAL_STAGES, ...STAGE_ALIASES.map((a) => a.alias)]
const edit = fc.tuple(fc.constantFrom(...spellings), fc.nat(), fc.constantFrom("drop", "double", "swap", "replace"), fc.constantFrom("x", "e", "a", "s", "-"))
  .map(([s, n, op, c]) => {
    const i = n % Math.max(1, s.length)
    return op === "drop"
      ? s.slice(0, i) + s.slice(i + 1)
      : op === "double"
      ? s.slice(0, i) + s[i] + s.slice(i)
      : op === "swap"
      ? s.slice(0, i) + (s[i + 1] ?? "") + s[i] + s.slice(i + 2)
      : s.slice(0, i) + c + s.slice(i + 1)
  })
const stageLike = fc.oneof(
  { weight: 3, arbitrary: edit },
  { weight: 2, arbitrary: fc.constantFrom(...spellings) },
  { weight: 1, arbitrary: fc.constantFrom("early stage", "venture", "series-x", "angel", "bridge", "series") },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }).filter((s) => !s.includes("\u0000")) }
)

/** Brute force: the canonical stages with a key within one edit of the value's folded key. */
const withinOneEdit = (value: string): Set<string> => {
  const key = foldKey(value)
  const out = new Set<string>()
  if (key === undefined) return out
  for (const [candidate, index] of stageVocabulary.suggestionKeys) {
    if (boundedEditDistance(key, candidate, 1) <= 1) out.add(stageVocabulary.canonical[index]!)
  }
  return out
}

describe("--force-unknown (pure)", () => {
  it("forces only onto the unique stage within one edit, never a known value", () => {
    fc.assert(
      fc.property(stageLike, (value) => {
        const forced = uniqueStageAtEditDistance1(value)
        if (normalizeStage(value)._tag === "Canonical") return forced === undefined
        const near = withinOneEdit(value)
        const key = foldKey(value) ?? ""
        if (forced === undefined) return near.size !== 1 || key.length < 3
        return near.size === 1 && near.has(forced) && (CANONICAL_STAGES as ReadonlyArray<string>).includes(forced)
      }),
      { numRuns: 3_000 }
    )
  })

  it("a forced distribution keeps its weight sum and ends canonical", () => {
    const weight = fc.double({ min: 0, max: 10, noNaN: true, noDefaultInfinity: true })
    const entries = fc.array(fc.tuple(stageLike, weight), { minLength: 1, maxLength: 5 })
    fc.assert(
      fc.property(entries, fc.boolean(), (pairs, asArray) => {
        const value = asArray ? pairs.map(([stage, w]) => ({ stage, weight: w })) : Object.fromEntries(pairs)
        const plan = planForcedDistribution(value, {})
        if (plan._tag !== "Changed") return true
        const out = plan.value
        const stages = Array.isArray(out) ? out.map((e) => (e as { stage: string }).stage) : Object.keys(out as object)
        const canonical = stages.every((s) => (CANONICAL_STAGES as ReadonlyArray<string>).includes(s)) && new Set(stages).size === stages.length
        return canonical && Math.abs(plan.newSum - plan.oldSum) <= 1e-9 * Math.max(1, Math.abs(plan.oldSum))
      }),
      { numRuns: 2_000 }
    )
  })
})

describe("apply → rollback is byte-identical (real PostgreSQL)", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)
  layer(layerScratchPostgres("safetyprop"), { timeout: "60 seconds", excludeTestServices: true })("real PostgreSQL", (it) => {
    it.effect("random scalar and distribution tables, with forced unknowns", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const run = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
          Effect.runPromise(effect.pipe(Effect.provideService(SqlClient.SqlClient, sql)))
        const scalar = fc.array(fc.option(stageLike, { nil: null, freq: 8 }), { minLength: 1, maxLength: 120 })
        const mix = fc.array(fc.tuple(stageLike, fc.constantFrom(0.1, 0.25, 0.5, 1 / 3, 0.2)), { minLength: 1, maxLength: 4 })
          .map((pairs) => Object.fromEntries(pairs))
        const mixes = fc.array(fc.option(mix, { nil: null, freq: 8 }), { minLength: 1, maxLength: 80 })
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(scalar, mixes, fc.integer({ min: 7, max: 60 }), async (stages, distributions, batchSize) => {
              await run(Effect.gen(function*() {
                const table = yield* createScalarTable("prop_s", stages.map((stage, i) => ({ id: i + 1, fund: i % 2, stage })))
                const original = yield* tableChecksum(table)
                const applied = yield* migrate({ table, sleepMs: 0, batchSize, adaptive: false, forceUnknown: {} })
                assert.strictEqual(applied.status, "succeeded")
                assert.isTrue((yield* verify({ runId: applied.runId, sampleSize: 30 })).summary.ok)
                const undone = yield* rollback({ runId: applied.runId, apply: true, batchSize, sleepMs: 0 })
                assert.strictEqual(undone.restored, applied.totals.updated)
                assert.strictEqual(yield* tableChecksum(table), original, JSON.stringify(stages))

                const dist = yield* createDistributionTable("prop_d", distributions.map((m, i) => ({ id: i + 1, fund: i % 2, mix: m })))
                const before = yield* tableChecksum(dist)
                const d = yield* migrate({ table: dist, column: "mix", sleepMs: 0, batchSize, adaptive: false, forceUnknown: {} })
                assert.isTrue((yield* verify({ runId: d.runId, sampleSize: 30 })).summary.ok)
                yield* rollback({ runId: d.runId, apply: true, batchSize, sleepMs: 0 })
                assert.strictEqual(yield* tableChecksum(dist), before, JSON.stringify(distributions))
              }).pipe(Effect.orDie))
            }),
            { numRuns: 12, endOnFailure: true }
          )
        )
      }), { timeout: 90_000 })
  })
})
