/**
 * The Standard Schema V1 exports, tested through a real consumer: Hono's
 * `@hono/standard-validator` validates requests with them (no Effect in the route), and the
 * `@standard-schema/spec` types accept them.
 */
import { assert, describe, it } from "@effect/vitest"
import { sValidator } from "@hono/standard-validator"
import type { StandardSchemaV1 } from "@standard-schema/spec"
import { Schema } from "effect"
import { Hono } from "hono"
import { expectTypeOf } from "vitest"
import {
  type CanonicalStage,
  Stage,
  type StageDistribution,
  StageDistributionStandardSchema,
  StageStandardSchema
} from "../../src/index.ts"
import * as Normalizer from "../../src/normalizer/index.ts"

const app = new Hono()
  .post("/stage", sValidator("json", StageStandardSchema), (c) => {
    const stage = c.req.valid("json")
    expectTypeOf(stage).toEqualTypeOf<CanonicalStage>()
    return c.json({ stage })
  })
  .post("/distribution", sValidator("json", StageDistributionStandardSchema), (c) => {
    const distribution = c.req.valid("json")
    expectTypeOf(distribution).toEqualTypeOf<StageDistribution>()
    return c.json({ distribution })
  })
  .get("/stages", sValidator("query", Schema.toStandardSchemaV1(Schema.Struct({ stage: Stage }))), (c) => {
    const { stage } = c.req.valid("query")
    expectTypeOf(stage).toEqualTypeOf<CanonicalStage>()
    return c.json({ stage })
  })

const post = async (path: string, body: unknown) => {
  const response = await app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body)
  })
  return { status: response.status, body: await response.json() as Record<string, unknown> }
}

describe("Standard Schema V1 exports", () => {
  it("satisfy the spec's types, from the root and from /normalizer", () => {
    const stage: StandardSchemaV1<string, CanonicalStage> = StageStandardSchema
    const distribution: StandardSchemaV1<unknown, StageDistribution> = StageDistributionStandardSchema
    assert.strictEqual(stage["~standard"].version, 1)
    assert.strictEqual(distribution["~standard"].version, 1)
    assert.strictEqual(Normalizer.StageStandardSchema, StageStandardSchema)
    assert.strictEqual(Normalizer.StageDistributionStandardSchema, StageDistributionStandardSchema)
  })

  it("validate synchronously and stay Effect schemas", () => {
    const result = StageStandardSchema["~standard"].validate("Series A")
    assert.notInstanceOf(result, Promise)
    assert.deepStrictEqual(result, { value: "series-a" })
    assert.strictEqual(Schema.decodeUnknownSync(StageStandardSchema)("Seed"), "seed")
    assert.strictEqual(StageStandardSchema.ast, Stage.ast)
  })

  it("Hono: a valid stage reaches the handler canonical", async () => {
    assert.deepStrictEqual(await post("/stage", "Series A"), { status: 200, body: { stage: "series-a" } })
  })

  it("Hono: an unknown stage is the validator's 400 with our issue and its suggestions", async () => {
    assert.deepStrictEqual(await post("/stage", "series-x"), {
      status: 400,
      body: {
        success: false,
        data: "series-x",
        error: [{ path: [], message: `unknown stage "series-x"; did you mean "series-a", "series-b", "series-c"?` }]
      }
    })
    const notAString = await post("/stage", 42)
    assert.strictEqual(notAString.status, 400)
    assert.deepStrictEqual(notAString.body["error"], [{ path: [], message: "Expected string" }])
  })

  it("Hono: either distribution form reaches the handler normalised", async () => {
    const expected = { status: 200, body: { distribution: [{ stage: "seed", weight: 0.5 }, { stage: "series-a", weight: 0.5 }] } }
    assert.deepStrictEqual(await post("/distribution", { "Series A": 0.25, series_a: 0.25, seed: 0.5 }), expected)
    assert.deepStrictEqual(
      await post("/distribution", [{ stage: "seed", weight: 0.5 }, { stage: "Series A", weight: 0.5 }]),
      expected
    )
  })

  it("Hono: an invalid distribution is a 400 with one issue per offending entry, each with its path", async () => {
    const arrayForm = await post("/distribution", [
      { stage: "seed", weight: 0.5 },
      { stage: "bogus", weight: 0.25 },
      { stage: "series-b", weight: -0.25 }
    ])
    assert.strictEqual(arrayForm.status, 400)
    assert.strictEqual(arrayForm.body["success"], false)
    assert.deepStrictEqual(
      (arrayForm.body["error"] as Array<{ path: Array<unknown> }>).map((issue) => issue.path),
      [[1, "stage"], [2, "weight"]]
    )

    const objectForm = await post("/distribution", { "series-x": 0.5, seed: 0.5 })
    assert.strictEqual(objectForm.status, 400)
    const [issue, ...rest] = objectForm.body["error"] as Array<{ path: Array<unknown>; message: string }>
    assert.deepStrictEqual(rest, [])
    assert.deepStrictEqual(issue?.path, ["series-x"])
    assert.match(issue!.message, /^unknown stage "series-x"; did you mean .*series-a/)

    const badSum = await post("/distribution", { seed: 0.4 })
    assert.deepStrictEqual(badSum.body["error"], [{ path: [], message: "weights sum to 0.4, expected 1 (±0.000001)" }])
  })

  it("Hono: composed into a larger schema, a field's issue carries the field's path (README's recipe)", async () => {
    const ok = await app.request("/stages?stage=Series%20A")
    assert.deepStrictEqual([ok.status, await ok.json()], [200, { stage: "series-a" }])
    const bad = await app.request("/stages?stage=series-x")
    assert.strictEqual(bad.status, 400)
    const body = await bad.json() as { error: Array<{ path: Array<unknown>; message: string }> }
    assert.deepStrictEqual(body.error.map((issue) => issue.path), [["stage"]])
    assert.match(body.error[0]!.message, /did you mean "series-a"/)
  })
})
