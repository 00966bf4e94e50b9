/**
 * The migration's pure parts: the distribution plan, adaptive sizing, the JS → ARE translator of
 * the SQL twin generator, URL parsing, rendering.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { nextBatchSize } from "../../src/migration/run/AdaptiveBatchSize.ts"
import { parseDatabaseUrl, redactUrl } from "../../src/migration/database/Database.ts"
import { planDistribution } from "../../src/migration/run/DistributionPlan.ts"
import { indexName } from "../../src/migration/sql/Indexes.ts"
import { toJsonLine } from "../../src/migration/MigrationEvent.ts"
import { formatDuration, progressLine } from "../../src/migration/run/ProgressReporter.ts"
import { makeSqlTwinResult, sqlStringLiteral, toPostgresPattern, toPostgresReplacement } from "../../src/normalizer/SqlTwin.ts"
import { stageVocabulary } from "../../src/normalizer/StageVocabulary.ts"
import { KEY_FOLDING_STEPS } from "../../src/normalizer/KeyFolding.ts"

describe("planDistribution", () => {
  it("leaves canonical distributions alone, whatever their weights", () => {
    assert.deepStrictEqual(planDistribution([{ stage: "seed", weight: 0.5 }, { stage: "series-a", weight: 0.5 }]), { _tag: "Unchanged" })
    assert.deepStrictEqual(planDistribution({ "series-c+": 2 }), { _tag: "Unchanged" })
  })

  it("renames and merges, preserving the weight sum", () => {
    const r = planDistribution([{ stage: "Series A", weight: 0.1 }, { stage: "seed", weight: 0.7 }, { stage: "series_a", weight: 0.2 }])
    assert.strictEqual(r._tag, "Changed")
    if (r._tag !== "Changed") return
    // merged weights are exact decimal sums (as PostgreSQL's numeric adds them), not float sums
    assert.deepStrictEqual(r.value, [{ stage: "seed", weight: 0.7 }, { stage: "series-a", weight: 0.3 }])
    assert.strictEqual(r.json, "[{\"stage\":\"seed\",\"weight\":0.7},{\"stage\":\"series-a\",\"weight\":0.3}]")
    assert.isAtMost(Math.abs(r.newSum - r.oldSum), 1e-9)
    const o = planDistribution({ "Seed Round": 0.25, "seed": 0.25, "SERIES B": 0.5 })
    assert.deepStrictEqual(o._tag === "Changed" ? JSON.stringify(o.value) : "", "{\"seed\":0.5,\"series-b\":0.5}")
  })

  it("keeps an array's order and extra fields when nothing merges; refuses to drop them when merging", () => {
    const r = planDistribution([{ weight: 0.5, stage: "Series B", note: "x" }, { stage: "seed", weight: 0.5 }])
    assert.deepStrictEqual(r._tag === "Changed" ? JSON.stringify(r.value) : "", "[{\"weight\":0.5,\"stage\":\"series-b\",\"note\":\"x\"},{\"stage\":\"seed\",\"weight\":0.5}]")
    const m = planDistribution([{ stage: "Seed", weight: 0.5, note: "x" }, { stage: "seed", weight: 0.5 }])
    assert.deepStrictEqual(m, { _tag: "Skipped", issues: [{ kind: "extra-fields", value: "note" }] })
  })

  it("skips unknown stages, invalid weights and non-distributions", () => {
    assert.deepStrictEqual(planDistribution({ "Seed": 0.5, "serie x": 0.5 }), {
      _tag: "Skipped",
      issues: [{ kind: "unknown-stage", value: "serie x" }]
    })
    assert.deepStrictEqual(planDistribution([{ stage: "Seed", weight: -1 }]), {
      _tag: "Skipped",
      issues: [{ kind: "invalid-weight", value: "Seed" }]
    })
    assert.deepStrictEqual(planDistribution("seed")._tag, "Skipped")
    assert.deepStrictEqual(planDistribution(null), { _tag: "Skipped", issues: [{ kind: "not-a-distribution", value: "null" }] })
  })

  it("treats __proto__ as an ordinary key", () => {
    const value = JSON.parse("{\"__proto__\": 0.5, \"Seed\": 0.5}") as unknown
    assert.deepStrictEqual(planDistribution(value), { _tag: "Skipped", issues: [{ kind: "unknown-stage", value: "__proto__" }] })
  })
})

describe("nextBatchSize", () => {
  const sizing = { initial: 1000, min: 100, max: 5000, targetMs: 1000, adaptive: true }
  it("grows at most 20 %, shrinks at most 50 %, settles in the ±10 % band, stays within bounds", () => {
    assert.strictEqual(nextBatchSize(1000, 10, sizing), 1200)
    assert.strictEqual(nextBatchSize(1000, 0, sizing), 1200)
    assert.strictEqual(nextBatchSize(1000, 1250, sizing), 800)
    assert.strictEqual(nextBatchSize(1000, 10_000, sizing), 500)
    assert.strictEqual(nextBatchSize(1000, 950, sizing), 1000)
    assert.strictEqual(nextBatchSize(4900, 1, sizing), 5000)
    assert.strictEqual(nextBatchSize(150, 60_000, sizing), 100)
    assert.strictEqual(nextBatchSize(1000, 1, { ...sizing, adaptive: false }), 1000)
  })
})

describe("SQL twin generator", () => {
  it("translates the folding steps, and only constructs both dialects read alike", () => {
    for (const step of [KEY_FOLDING_STEPS.trim, ...KEY_FOLDING_STEPS.afterLowerCase]) {
      assert.isTrue(Result.isSuccess(toPostgresPattern(step.pattern)), step.pattern)
    }
    assert.deepStrictEqual(toPostgresPattern("[\\d_]+\\d"), Result.succeed("[0-9_]+[0-9]"))
    for (const bad of ["\\bseed", "a.b", "\\s+", "\\w", "(?<n>a)", "a+?", "[[:alpha:]]", "[]a]", "[abc", "\\"]) {
      const r = toPostgresPattern(bad)
      assert.isTrue(Result.isFailure(r) && r.failure.reason === "UnsupportedPattern", bad)
    }
    assert.deepStrictEqual(toPostgresReplacement("$1+"), Result.succeed("\\1+"))
    assert.deepStrictEqual(toPostgresReplacement("$&-$$-a&b\\"), Result.succeed("\\&-$-a\\&b\\\\"))
    for (const bad of ["$10", "$'", "$`", "$<x>"]) assert.isTrue(Result.isFailure(toPostgresReplacement(bad)), bad)
  })

  it("generates the function from the vocabulary, versioned by its fingerprint", () => {
    const twin = Result.getOrThrow(makeSqlTwinResult())
    assert.strictEqual(twin.qualifiedName, "stage_normalization.normalize_stage")
    assert.strictEqual(twin.version, stageVocabulary.version)
    assert.include(twin.comment, `version=${stageVocabulary.version}`)
    for (const [key, stage] of stageVocabulary.table) assert.include(twin.script, `WHEN '${key}' THEN '${stage}'`)
    assert.include(twin.script, "IMMUTABLE STRICT PARALLEL SAFE")
    assert.strictEqual(twin.statements.length, 3)
    const custom = Result.getOrThrow(makeSqlTwinResult(stageVocabulary, { schema: "app", functionName: "norm" }))
    assert.strictEqual(custom.signature, "app.norm(text)")
    assert.isTrue(Result.isFailure(makeSqlTwinResult(stageVocabulary, { schema: "Bad-Name" })))
    assert.strictEqual(sqlStringLiteral("it's"), "E'it''s'")
    assert.strictEqual(sqlStringLiteral("plain"), "'plain'")
  })
})

describe("database URLs and rendering", () => {
  it("parses URLs and never shows a password", () => {
    assert.strictEqual(Result.getOrThrow(parseDatabaseUrl(undefined))._tag, "Embedded")
    assert.strictEqual(Result.getOrThrow(parseDatabaseUrl("pglite:///tmp/x")).display, "embedded database in /tmp/x")
    assert.strictEqual(Result.getOrThrow(parseDatabaseUrl("postgresql://a:b@h/d")).display, "postgresql://a:***@h/d")
    assert.strictEqual(Result.isFailure(parseDatabaseUrl("redis://x")), true)
    assert.strictEqual(redactUrl("postgres://u:p%40ss@h:1/d"), "postgres://u:***@h:1/d")
  })

  it("renders progress and events", () => {
    assert.strictEqual(formatDuration(3725), "1:02:05")
    assert.strictEqual(
      progressLine({ scanned: 25, total: 100, rowsPerSecond: 1000, etaSeconds: null, updated: 5, skipped: 1 }, 4),
      "[#---]  25.0%  25/100 rows  1,000 rows/s  ETA ?  updated 5  skipped 1"
    )
    assert.strictEqual(toJsonLine({ _tag: "Throttled", runId: "1", reasons: ["x"], waitMs: 5 }), "{\"event\":\"Throttled\",\"runId\":\"1\",\"reasons\":[\"x\"],\"waitMs\":5}")
    assert.strictEqual(indexName(["idx", "t", "stage"]), "idx_t_stage")
    assert.isAtMost(indexName(["idx", "x".repeat(80), "stage"]).length, 63)
  })
})
