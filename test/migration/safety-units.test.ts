/**
 * The pure parts of migration safety (issue 7): the forced-mapping rules and the mapping file's
 * validation, forced distributions, the backup gate's age parser, tool versions and connections,
 * weight sums, the verification report's schema (the published JSON Schema is the generated one,
 * and reports decode with it) and the `--force-unknown` confirmation on a terminal.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Result, Schema } from "effect"
import { readFileSync } from "node:fs"
import { confirmForceUnknown } from "../../src/cli/ForceUnknownConfirmation.ts"
import { parseMaxAge } from "../../src/migration/backup/BackupGate.ts"
import { planForcedDistribution } from "../../src/migration/run/DistributionPlan.ts"
import { forcedStage, parseMapping, uniqueStageAtEditDistance1 } from "../../src/migration/run/ForceUnknown.ts"
import { toolConnection, toolMajorVersion, withDatabaseName } from "../../src/migration/backup/PgTools.ts"
import { weightSum } from "../../src/migration/verify/VerifyDistributions.ts"
import { encodeReport, type VerifyReport, verifyReportJsonSchema, VerifyReport as VerifyReportSchema } from "../../src/migration/verify/VerifyReport.ts"

describe("--force-unknown rules", () => {
  it("forces only a unique stage at edit distance 1", () => {
    assert.strictEqual(uniqueStageAtEditDistance1("serie a"), "series-a")
    assert.strictEqual(uniqueStageAtEditDistance1("Seeed"), "seed")
    assert.strictEqual(uniqueStageAtEditDistance1("pre-sed"), "pre-seed")
    assert.strictEqual(uniqueStageAtEditDistance1("series-x"), undefined, "a, b and c are all one edit away")
    assert.strictEqual(uniqueStageAtEditDistance1("early stage"), undefined)
    assert.strictEqual(uniqueStageAtEditDistance1("sed"), "seed")
    assert.strictEqual(uniqueStageAtEditDistance1("se"), undefined, "too short for a one-edit suggestion")
    assert.strictEqual(uniqueStageAtEditDistance1("Series A"), undefined, "known values are never forced")
    assert.strictEqual(uniqueStageAtEditDistance1("seriess-aa"), undefined, "two edits away")
  })

  it("the map wins over the rule; the rule can be switched off", () => {
    assert.deepStrictEqual(forcedStage("serie a", { map: { "serie a": "series-b" } }), { stage: "series-b", reason: "forced:map" })
    assert.deepStrictEqual(forcedStage("serie a", {}), { stage: "series-a", reason: "forced:edit-distance-1" })
    assert.strictEqual(forcedStage("serie a", { editDistance: false }), undefined)
    assert.strictEqual(forcedStage("__proto__", { map: {} }), undefined)
  })

  it("validates the mapping file against the vocabulary, reporting every problem", () => {
    assert.deepStrictEqual(Result.getOrThrow(parseMapping(`{"early stage": "seed", "angel": "pre-seed"}`)), {
      "early stage": "seed",
      "angel": "pre-seed"
    })
    const cases: ReadonlyArray<[string, string]> = [
      ["{ nope", "not valid JSON"],
      ["[]", "expected a JSON object"],
      ["null", "expected a JSON object"],
      ["{}", "no mappings"],
      [`{"early stage": "Seed"}`, "not a canonical stage"],
      [`{"early stage": 3}`, "not a string"],
      [`{"Series A": "seed"}`, "already normalised to series-a"]
    ]
    for (const [text, message] of cases) {
      const r = parseMapping(text, "map.json")
      assert.isTrue(Result.isFailure(r), text)
      if (Result.isFailure(r)) {
        assert.strictEqual(r.failure.reason._tag, "InvalidMapping")
        assert.isTrue(r.failure.isInputError)
        assert.include(r.failure.message, message)
        assert.include(r.failure.message, "map.json")
      }
    }
    const both = parseMapping(`{"a x": "nope", "Seed": "seed"}`)
    assert.isTrue(Result.isFailure(both) && both.failure.message.includes("nope") && both.failure.message.includes("Seed"))
  })

  it("forces unknown stages inside distributions, merging and keeping the weight sum", () => {
    const r = planForcedDistribution({ "serie a": 0.25, "Series A": 0.25, "seed": 0.5 }, {})
    assert.strictEqual(r._tag, "Changed")
    if (r._tag === "Changed") {
      assert.deepStrictEqual(r.value, { "seed": 0.5, "series-a": 0.5 })
      assert.strictEqual(r.reason, "forced:edit-distance-1")
      assert.strictEqual(r.newSum, r.oldSum)
    }
    const collide = planForcedDistribution({ "serie a": 0.5, "series-a": 0.5 }, {})
    assert.deepStrictEqual(collide._tag === "Changed" ? collide.value : undefined, { "series-a": 1 })
    const array = planForcedDistribution([{ stage: "early stage", weight: 1, note: "x" }], { map: { "early stage": "seed" } })
    assert.deepStrictEqual(array._tag === "Changed" ? [JSON.stringify(array.value), array.reason] : [], [
      "[{\"stage\":\"seed\",\"weight\":1,\"note\":\"x\"}]",
      "forced:map"
    ])
    assert.strictEqual(planForcedDistribution({ "series-x": 1 }, {})._tag, "Skipped", "not unique: left alone")
    assert.strictEqual(planForcedDistribution({ "serie a": -1 }, {})._tag, "Skipped", "invalid weights are never forced")
    assert.strictEqual(planForcedDistribution({ "Series A": 1 }, undefined)._tag, "Changed")
    assert.strictEqual(planForcedDistribution({ "serie a": 1 }, undefined)._tag, "Skipped", "no forcing without the option")
  })
})

describe("backup helpers", () => {
  it("parses maximum ages", () => {
    assert.strictEqual(Result.getOrThrow(parseMaxAge("24h")), 86_400_000)
    assert.strictEqual(Result.getOrThrow(parseMaxAge("90 min")), 5_400_000)
    assert.strictEqual(Result.getOrThrow(parseMaxAge("2d")), 172_800_000)
    assert.strictEqual(Result.getOrThrow(parseMaxAge("0.5h")), 1_800_000)
    for (const bad of ["", "soon", "24", "-1h", "0h", "1 fortnight"]) assert.isTrue(Result.isFailure(parseMaxAge(bad)), bad)
  })

  it("reads tool versions and keeps passwords off the command line", () => {
    assert.strictEqual(toolMajorVersion("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"), 15)
    assert.strictEqual(toolMajorVersion("pg_restore (PostgreSQL) 17beta1"), 17)
    assert.strictEqual(toolMajorVersion("something else"), undefined)
    assert.deepStrictEqual(toolConnection("postgres://app:s%40cret@db:5432/funds?sslmode=require", "x"), {
      url: "postgres://app@db:5432/funds?sslmode=require",
      env: { PGAPPNAME: "x", PGPASSWORD: "s@cret" }
    })
    assert.strictEqual(withDatabaseName("postgres://app@db:5432/funds?sslmode=require", "scratch"), "postgres://app@db:5432/scratch?sslmode=require")
  })

  it("sums weights", () => {
    assert.strictEqual(weightSum([{ stage: "seed", weight: 0.25 }, { stage: "x", weight: 0.75 }]), 1)
    assert.strictEqual(weightSum({ a: 0.5 }), 0.5)
    assert.strictEqual(weightSum({ a: "0.5" }), undefined)
    assert.strictEqual(weightSum([1]), undefined)
    assert.strictEqual(weightSum("x"), undefined)
  })
})

describe("verification report schema", () => {
  it("docs/verify-report.schema.json is the schema generated from the report's Effect Schema", () => {
    const published = JSON.parse(readFileSync(new URL("../../docs/verify-report.schema.json", import.meta.url), "utf8")) as unknown
    assert.deepStrictEqual(published, verifyReportJsonSchema())
  })

  it.effect("a report encodes to JSON that decodes back with the schema; an invalid one does not encode", () => Effect.gen(function*() {
    const report: VerifyReport = {
      reportVersion: 1,
      tool: { name: "stage-normalization", version: "0.1.0" },
      generatedAt: "2026-11-24T00:00:00.000Z",
      run: {
        runId: "1",
        target: "public.t",
        column: "stage",
        kind: "scalar",
        status: "succeeded",
        fundId: null,
        startedAt: "2026-11-24T00:00:00.000Z",
        finishedAt: null,
        rowsTotal: 2,
        rowsUpdated: 1,
        rowsSkipped: 0,
        rowsFailed: 0,
        vocabularyVersion: "abc",
        forcedUnknowns: false,
        rolledBackBy: null
      },
      scope: { fundId: null, sampleSize: 100, strict: true },
      checks: [{ id: 1, name: "batches", title: "t", status: "pass", summary: "s", counts: { batches: 1 }, examples: [] }],
      funds: [],
      summary: { passed: 1, warnings: 0, failed: 0, skipped: 0, ok: true, markedVerified: true, verifiedAt: null }
    }
    const decoded = Schema.decodeUnknownSync(Schema.fromJsonString(VerifyReportSchema))(yield* encodeReport(report))
    assert.deepStrictEqual(decoded, report)
    const invalid = yield* Effect.flip(encodeReport({ ...report, checks: [{ ...report.checks[0]!, id: 10 }] }))
    assert.strictEqual(invalid._tag, "SchemaError")
  }))
})

const terminal = (interactive: boolean, answer: string | undefined) => {
  const written: Array<string> = []
  return { written, terminal: { interactive, write: (t: string) => void written.push(t), ask: async () => answer } }
}

describe("--force-unknown confirmation", () => {
  it.effect("the flag confirms without asking; a terminal must type CONFIRM; no terminal and no flag is refused", () =>
    Effect.gen(function*() {
      const flag = terminal(false, undefined)
      assert.strictEqual(yield* confirmForceUnknown({ flag: true, description: "d", terminal: flag.terminal }), "--confirm-force-unknown")
      assert.deepStrictEqual(flag.written, [])
      const typed = terminal(true, "CONFIRM\n")
      assert.strictEqual(yield* confirmForceUnknown({ flag: false, description: "maps x", terminal: typed.terminal }), "typed CONFIRM on a terminal")
      assert.include(typed.written.join(""), "WARNING: --force-unknown maps x")
      for (const answer of ["confirm", "yes", "", undefined]) {
        const exit = yield* Effect.exit(confirmForceUnknown({ flag: false, description: "d", terminal: terminal(true, answer).terminal }))
        assert.isTrue(Exit.isFailure(exit), String(answer))
      }
      const none = yield* Effect.flip(confirmForceUnknown({ flag: false, description: "d", terminal: terminal(false, "CONFIRM").terminal }))
      assert.include(none.message, "--confirm-force-unknown when not interactive")
    }))
})
