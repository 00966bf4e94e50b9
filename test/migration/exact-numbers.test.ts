/**
 * Issue 25, defect 5: the distribution migration keeps every number's exact text. Rows holding
 * `12345678901234567890`, `9007199254740993`, `0.333333333333333333333` and `1e-400` in non-stage
 * fields and as weights are migrated (`migrate`, as operators run it) and each value keeps the text
 * PostgreSQL's jsonb renders for it; merged weights are summed as `numeric` (exactly); rollback
 * restores every row byte for byte; and `verify` fails (check `non-stage-content`) on a row whose
 * non-stage content was changed by hand. On the real PostgreSQL and on the embedded database.
 */
import { assert, describe, it, layer, type Vitest } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { rollback } from "../../src/migration/rollback/Rollback.ts"
import { readDistributionJson } from "../../src/migration/run/DistributionJson.ts"
import { planDistributionJson } from "../../src/migration/run/DistributionPlan.ts"
import { sumExact } from "../../src/migration/run/DistributionSum.ts"
import { migrate, type MigrateOptions } from "../../src/migration/run/Runner.ts"
import { verify } from "../../src/migration/verify/Verify.ts"
import { layerScratchEmbedded, layerScratchPostgres, requirePostgres, uniqueName } from "./support/Databases.ts"
import { tableChecksum } from "./support/Fixtures.ts"

const fast: Partial<MigrateOptions> = { sleepMs: 0, batchSize: 4, adaptive: false, retryDelayMs: 10 }

const BIG = "12345678901234567890"
const ID = "9007199254740993"
const THIRD = "0.333333333333333333333"
const TINY = "1e-400"

/** [id, stored JSON text, expected after the migration as a SQL jsonb expression]. */
const ROWS: ReadonlyArray<readonly [number, string, string]> = [
  // renamed in place: every other field (and the weights) kept
  [
    1,
    `[{"stage": "Series A", "weight": ${THIRD}, "ref": ${BIG}, "companyId": ${ID}, "tiny": ${TINY}, "meta": {"x": [${BIG}, ${TINY}]}},
      {"stage": "seed", "weight": 0.666666666666666666667}]`,
    `'[{"stage": "series-a", "weight": ${THIRD}, "ref": ${BIG}, "companyId": ${ID}, "tiny": ${TINY}, "meta": {"x": [${BIG}, ${TINY}]}},
      {"stage": "seed", "weight": 0.666666666666666666667}]'::jsonb`
  ],
  // object form, renamed: weights kept exactly
  [2, `{"Seed Round": ${THIRD}, "SERIES B": ${ID}, "series-c": ${TINY}}`, `'{"seed": ${THIRD}, "series-b": ${ID}, "series-c": ${TINY}}'::jsonb`],
  // object form, merged: the sum is numeric (0.1 + 0.2 is exactly 0.3)
  [3, `{"Seed Round": 0.1, "seed": 0.2, "Series A": ${THIRD}}`, `jsonb_build_object('seed', 0.1 + 0.2, 'series-a', ${THIRD})`],
  // array form, merged: [{stage, weight}] in canonical order, the sum numeric
  [
    4,
    `[{"stage": "Series A", "weight": ${TINY}}, {"stage": "series_a", "weight": 0.5}, {"stage": "Seed", "weight": 0.499999999999999999999}]`,
    `jsonb_build_array(jsonb_build_object('stage', 'seed', 'weight', 0.499999999999999999999),
                       jsonb_build_object('stage', 'series-a', 'weight', ${TINY}::numeric + 0.5))`
  ],
  // forced unknown colliding with its stage: summed as numeric
  [5, `{"serie a": ${THIRD}, "series-a": ${BIG}}`, `jsonb_build_object('series-a', ${THIRD} + ${BIG}::numeric)`],
  // canonical already: untouched
  [6, `{"seed": ${THIRD}, "series-a": ${BIG}}`, `'{"seed": ${THIRD}, "series-a": ${BIG}}'::jsonb`]
]

const createTable = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const table = uniqueName("exact")
  yield* sql.unsafe(`CREATE TABLE ${table} (id bigint PRIMARY KEY, fund_id int, mix jsonb)`).unprepared
  for (const [id, text] of ROWS) yield* sql.unsafe(`INSERT INTO ${table} VALUES ($1, 0, $2::jsonb)`, [id, text])
  return table
})

const texts = (table: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ id: string; v: string }>(`SELECT id::text AS id, mix::text AS v FROM ${table} ORDER BY id`)
    return rows.map((r) => `${r.id} ${r.v}`)
  })

/**
 * Real PostgreSQL only: the embedded database (PGlite) does not store jsonb nested 6,000 deep
 * (the query returns no row), and shallower values do not reach JSON.stringify's recursion limit.
 */
const deepSuite = (it: Vitest.MethodsNonLive<SqlClient.SqlClient>) => {
  it.effect("an extra field nested deeper than JSON.stringify recurses is carried through exactly", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = uniqueName("exact_deep")
      const depth = 6_000
      const nested = `${"[".repeat(depth)}${BIG}${"]".repeat(depth)}`
      yield* sql.unsafe(`CREATE TABLE ${table} (id bigint PRIMARY KEY, mix jsonb)`).unprepared
      yield* sql.unsafe(`INSERT INTO ${table} VALUES (1, $1::jsonb)`, [`[{"stage": "Series A", "weight": 1, "deep": ${nested}}]`])
      const run = yield* migrate({ table, column: "mix", ...fast })
      assert.deepStrictEqual([run.status, run.totals.updated], ["succeeded", 1])
      const rows = yield* sql.unsafe<{ same: boolean }>(
        `SELECT mix = $1::jsonb AS same FROM ${table} WHERE id = 1`,
        [`[{"stage": "series-a", "weight": 1, "deep": ${nested}}]`]
      )
      assert.isTrue(rows[0]!.same)
    }))
}

const suite = (it: Vitest.MethodsNonLive<SqlClient.SqlClient>) => {
  it.effect("migrate keeps every number's exact text (merged weights summed as numeric); rollback restores every byte", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createTable
      const before = yield* texts(table)
      const checksum = yield* tableChecksum(table)
      const run = yield* migrate({ table, column: "mix", ...fast, forceUnknown: {} })
      assert.strictEqual(run.status, "succeeded")
      assert.strictEqual(run.totals.updated, 5)
      for (const [id, , expected] of ROWS) {
        const rows = yield* sql.unsafe<{ got: string; want: string; same: boolean }>(
          `SELECT mix::text AS got, (${expected})::text AS want, mix = (${expected}) AS same FROM ${table} WHERE id = $1`,
          [id]
        )
        assert.strictEqual(rows[0]!.got, rows[0]!.want, `row ${id}`)
        assert.isTrue(rows[0]!.same, `row ${id}`)
      }
      const ref = yield* sql.unsafe<{ ref: string; company: string; w: string; tiny: boolean }>(
        `SELECT mix -> 0 ->> 'ref' AS ref, mix -> 0 ->> 'companyId' AS company, mix -> 0 ->> 'weight' AS w,
                (mix -> 0 -> 'tiny') = ('${TINY}'::numeric)::text::jsonb AS tiny FROM ${table} WHERE id = 1`
      )
      assert.deepStrictEqual({ ...ref[0]! }, { ref: BIG, company: ID, w: THIRD, tiny: true })
      const report = yield* verify({ target: { table, column: "mix" } })
      const content = report.checks.find((c) => c.name === "non-stage-content")
      assert.strictEqual(content?.status, "pass", JSON.stringify(report.checks, null, 1))
      assert.strictEqual(report.checks.find((c) => c.name === "sample")?.status, "pass", JSON.stringify(report.checks, null, 1))

      const undone = yield* rollback({ runId: run.runId, apply: true, batchSize: 2, sleepMs: 0 })
      assert.deepStrictEqual([undone.status, undone.restored, undone.conflicts], ["succeeded", 5, 0])
      assert.deepStrictEqual(yield* texts(table), before)
      assert.strictEqual(yield* tableChecksum(table), checksum)
      const equal = yield* sql.unsafe<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${table} t JOIN stage_normalization_log l ON l.pk = t.id::text
         WHERE l.run_id = $1::bigint AND t.mix = l.old_json AND t.mix::text = l.old_json::text`,
        [run.runId]
      )
      assert.strictEqual(equal[0]!.n, "5")
    }))

  it.effect("verify fails check non-stage-content on a row whose non-stage content was changed by hand", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const table = yield* createTable
      yield* migrate({ table, column: "mix", ...fast, forceUnknown: {} })
      const clean = yield* verify({ target: { table, column: "mix" } })
      assert.isTrue(clean.summary.ok, JSON.stringify(clean.checks, null, 1))
      // a stage-only change by hand is not this check's business
      yield* sql.unsafe(`UPDATE ${table} SET mix = jsonb_set(mix, '{1,stage}', '"pre-seed"') WHERE id = 1`).unprepared
      const stageOnly = yield* verify({ target: { table, column: "mix" }, sampleSize: 0 })
      assert.strictEqual(stageOnly.checks.find((c) => c.name === "non-stage-content")?.status, "pass")
      // what JSON.parse/JSON.stringify would have written
      yield* sql.unsafe(`UPDATE ${table} SET mix = jsonb_set(mix, '{0,ref}', '12345678901234567000') WHERE id = 1`).unprepared
      yield* sql.unsafe(`UPDATE ${table} SET mix = jsonb_set(mix, '{seed}', '0.3333333333333333') WHERE id = 2`).unprepared
      const report = yield* verify({ target: { table, column: "mix" }, sampleSize: 0 })
      assert.isFalse(report.summary.ok)
      const content = report.checks.find((c) => c.name === "non-stage-content")!
      assert.strictEqual(content.status, "fail", JSON.stringify(report.checks, null, 1))
      assert.strictEqual(content.counts["changed"], 2)
      assert.deepStrictEqual(content.examples.map((e) => e.pk), ["1", "2"])
      assert.include(content.examples[0]!.value ?? "", "12345678901234567000")
      assert.include(content.examples[0]!.expected ?? "", BIG)
    }))

  it.effect("a merged weight's sum equals PostgreSQL's numeric sum", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pairs: ReadonlyArray<readonly [string, string]> = [
        ["0.1", "0.2"],
        [THIRD, "0.666666666666666666667"],
        [TINY, "0.5"],
        ["1e5", "0.25"],
        ["1.50e1", "2"],
        ["0", "0.000"],
        [BIG, ID],
        ["1E+3", "1e-3"]
      ]
      const table = uniqueName("exact_sum")
      yield* sql.unsafe(`CREATE TABLE ${table} (id bigint PRIMARY KEY, mix jsonb)`).unprepared
      for (const [i, [a, b]] of pairs.entries()) {
        yield* sql.unsafe(`INSERT INTO ${table} VALUES ($1, $2::jsonb)`, [i + 1, `{"Seed": ${a}, "Seed Round": ${b}}`])
      }
      yield* migrate({ table, column: "mix", ...fast })
      for (const [i, [a, b]] of pairs.entries()) {
        const rows = yield* sql.unsafe<{ got: string; want: string }>(
          `SELECT mix::text AS got, jsonb_build_object('seed', $2::numeric + $3::numeric)::text AS want FROM ${table} WHERE id = $1`,
          [i + 1, a, b]
        )
        assert.strictEqual(rows[0]!.got, rows[0]!.want, `${a} + ${b}`)
      }
    }))
}

describe("exact JSON text (pure)", () => {
  it("sums like numeric; keeps a single term; refuses what is not a number", () => {
    assert.strictEqual(sumExact(["0.1", "0.2"]), "0.3")
    assert.strictEqual(sumExact(["0.10", "0.2"]), "0.30")
    assert.strictEqual(sumExact([TINY, "0.5"]), `0.5${"0".repeat(398)}1`)
    assert.strictEqual(sumExact([BIG, ID]), "12354686100489308883")
    assert.strictEqual(sumExact(["1E+3", "1e-3"]), "1000.001")
    assert.strictEqual(sumExact(["-0.0", "0"]), "0.0")
    assert.strictEqual(sumExact([TINY]), TINY)
    assert.isUndefined(sumExact(["1e999999999", "1"]))
    assert.isUndefined(sumExact(["\"1\"", "1"]))
  })

  it("reads only as deep as it must, whatever the spacing; duplicate fields read as JSON.parse does", () => {
    const nested = String.raw`{"a": [1, "]}\\\"", {}]}`
    const doc = readDistributionJson(` [ {"stage" : "Seed" ,"weight":${THIRD}, "x": ${nested}} , "s", 2 ] `)
    assert.strictEqual(doc._tag, "Array")
    if (doc._tag !== "Array") return
    assert.deepStrictEqual(doc.items[0], {
      _tag: "Fields",
      fields: [["stage", { _tag: "Raw", text: "\"Seed\"" }], ["weight", { _tag: "Raw", text: THIRD }], ["x", { _tag: "Raw", text: nested }]]
    })
    assert.deepStrictEqual(doc.items.slice(1), [{ _tag: "Raw", text: "\"s\"" }, { _tag: "Raw", text: "2" }])
    const dup = planDistributionJson(`{"Seed": 1, "Seed": ${BIG}}`)
    assert.strictEqual(dup._tag === "Changed" ? dup.json : "", `{"seed":${BIG}}`)
    const proto = planDistributionJson(`[{"stage": "Seed", "weight": 1, "__proto__": ${BIG}}]`)
    assert.strictEqual(proto._tag === "Changed" ? proto.json : "", `[{"stage":"seed","weight":1,"__proto__":${BIG}}]`)
    assert.deepStrictEqual(planDistributionJson("{not json"), { _tag: "Skipped", issues: [{ kind: "not-a-distribution", value: "invalid JSON" }] })
  })
})

describe("exact numbers in JSONB", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)
  layer(layerScratchPostgres("exact"), { timeout: "60 seconds", excludeTestServices: true })("real PostgreSQL", (it) => {
    suite(it)
    deepSuite(it)
  })
  layer(layerScratchEmbedded, { timeout: "120 seconds", excludeTestServices: true })("embedded database", suite)
})
