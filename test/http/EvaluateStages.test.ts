/**
 * The boundary's pure core: classification, the contract's 400 body, rewritten payloads, and
 * the headers per decision.
 */
import { assert, describe, it } from "@effect/vitest"
import { type BoundaryDecision, evaluateStages, extractFromBody, extractFromQuery } from "../../src/http/EvaluateStages.ts"
import * as StageLocation from "../../src/http/StageLocation.ts"

const enforce: BoundaryDecision = { mode: "enforce", shouldEmitHeaders: true, shouldReject: true, shouldEmitWouldReject: false }
const shadow: BoundaryDecision = { mode: "enforce", shouldEmitHeaders: true, shouldReject: false, shouldEmitWouldReject: true }
const warn: BoundaryDecision = { mode: "warn", shouldEmitHeaders: true, shouldReject: false, shouldEmitWouldReject: false }
const off: BoundaryDecision = { mode: "off", shouldEmitHeaders: false, shouldReject: false, shouldEmitWouldReject: false }
const VALID = ["pre-seed", "seed", "series-a", "series-b", "series-c", "series-c+"]
const distribution = StageLocation.bodyDistribution("stageDistribution")

describe("evaluateStages", () => {
  it("rejects an unknown stage in enforce with exactly the contract body", () => {
    const e = evaluateStages(distribution, [{ stage: "invalid", weight: 1 }], enforce, {})
    assert.strictEqual(e.result, "rejected")
    assert.deepStrictEqual(JSON.parse(JSON.stringify(e.errorBody)), {
      error: "INVALID_STAGE_DISTRIBUTION",
      details: { invalid: ["invalid"], suggestions: { invalid: [] }, validStages: VALID }
    })
  })

  it("the 400 body keeps __proto__ an ordinary key and owns its lists", () => {
    const stages = JSON.parse('{"__proto__": 0.5, "serie a": 0.5}')
    const e = evaluateStages(distribution, stages, enforce, {})
    const details = e.errorBody!.details
    assert.deepStrictEqual(Object.keys(details.suggestions), ["__proto__", "serie a"])
    assert.strictEqual(Object.getPrototypeOf(details.suggestions), Object.prototype)
    const wire = JSON.parse(JSON.stringify(e.errorBody)).details.suggestions
    assert.deepStrictEqual(Object.keys(wire), ["__proto__", "serie a"])
    assert.include(wire["serie a"], "series-a")
    // a caller editing one body changes no other body (the lists are not the normaliser's shared ones)
    const suggested = [...details.suggestions["serie a"]!]
    ;(details.validStages as Array<string>).pop()
    ;(details.suggestions["serie a"] as Array<string>).pop()
    const again = evaluateStages(distribution, stages, enforce, {}).errorBody!.details
    assert.deepStrictEqual([...again.validStages], VALID)
    assert.deepStrictEqual(again.suggestions["serie a"], suggested)
  })

  it("suggests close stages", () => {
    const e = evaluateStages(StageLocation.bodyStage(), "serie a", enforce, {})
    assert.strictEqual(e.errorBody?.error, "INVALID_STAGE")
    assert.deepStrictEqual(e.errorBody?.details.invalid, ["serie a"])
    assert.include([...(e.errorBody?.details.suggestions["serie a"] ?? [])], "series-a")
  })

  it("classifies per decision", () => {
    const bad = [{ stage: "invalid", weight: 1 }]
    assert.strictEqual(evaluateStages(distribution, bad, shadow, {}).result, "would_reject")
    assert.strictEqual(evaluateStages(distribution, bad, warn, {}).result, "invalid")
    assert.strictEqual(evaluateStages(distribution, bad, off, {}).result, "invalid")
    assert.strictEqual(evaluateStages(distribution, [{ stage: "Series A", weight: 1 }], enforce, {}).result, "normalized")
    assert.strictEqual(evaluateStages(distribution, [{ stage: "series-a", weight: 1 }], enforce, {}).result, "ok")
  })

  it("off emits no headers, shadow flags would-reject", () => {
    const bad = [{ stage: "growth", weight: 0.5 }, { stage: "nope", weight: 0.5 }]
    assert.deepStrictEqual(evaluateStages(distribution, bad, off, {}).headers, [])
    const names = evaluateStages(distribution, bad, shadow, {}).headers.map(([n]) => n)
    assert.includeMembers(names, ["X-Stage-Would-Reject", "X-Stage-Deprecated-Variants", "Deprecation", "Link"])
    assert.isUndefined(evaluateStages(distribution, bad, shadow, {}).errorBody)
  })

  it("a sum off 1 is invalid and explained in details.issues", () => {
    const e = evaluateStages(distribution, { seed: 0.5 }, enforce, {})
    assert.strictEqual(e.result, "rejected")
    assert.deepStrictEqual(e.errorBody?.details.invalid, [])
    assert.strictEqual(e.errorBody?.details.issues?.[0]?.message, "weights sum to 0.5, expected 1 (±1e-6)")
  })

  it("hands the handler canonical entries and keeps unknown ones apart", () => {
    const e = evaluateStages(distribution, [
      { stage: "Series A", weight: 0.25 },
      { stage: "series_a", weight: 0.25 },
      { stage: "mystery", weight: 0.5 }
    ], warn, {})
    assert.strictEqual(e.data._tag, "Distribution")
    if (e.data._tag !== "Distribution") return
    assert.deepStrictEqual(e.data.entries, [{ stage: "series-a", weight: 0.5 }])
    assert.deepStrictEqual(e.data.unrecognized, [{ input: "mystery", weight: 0.5 }])
    assert.deepStrictEqual(e.rewrite({ fundId: 1, stageDistribution: "x" }), {
      fundId: 1,
      stageDistribution: [{ stage: "series-a", weight: 0.5 }]
    })
  })

  it("query parameters: repeated, deduplicated, canonical order", () => {
    const e = evaluateStages(StageLocation.queryStage(), ["Series B", "seed", "series_b"], enforce, {})
    assert.deepStrictEqual(e.data, { _tag: "Stages", stages: ["seed", "series-b"], unrecognized: [] })
    assert.strictEqual(e.result, "normalized")
  })

  it("a non-string single stage is invalid with an issue", () => {
    const e = evaluateStages(StageLocation.bodyStage(), 42, enforce, {})
    assert.strictEqual(e.errorBody?.error, "INVALID_STAGE")
    assert.strictEqual(e.errorBody?.details.issues?.[0]?.message, "stage must be a string, got number")
  })

  it("bounds the 400 body", () => {
    const long = Array.from({ length: 64 }, (_, i) => ({ stage: `zz-${i}-${"q".repeat(300)}`, weight: 1 / 64 }))
    const body = evaluateStages(distribution, long, enforce, {}).errorBody!
    assert.strictEqual(body.details.invalid.length, 64)
    assert.isTrue(body.details.truncated)
    assert.isAtMost(body.details.invalid[0]!.length, 257)
    assert.strictEqual(body.details.reasons?.[body.details.invalid[0]!], `longer than 64 characters (${long[0]!.stage.length})`)
    const repeated = Array.from({ length: 500 }, (_, i) => `zz-${i}`)
    const query = evaluateStages(StageLocation.queryStage("stage"), repeated, enforce, {}).errorBody!
    assert.strictEqual(query.details.invalid.length, 100)
    assert.isTrue(query.details.truncated)
    assert.isUndefined(query.details.reasons)
  })

  it("refuses a distribution over 64 entries with one issue, listing none of its stages (issue 25)", () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ stage: `zz-${i}-${"q".repeat(300)}`, weight: 0.002 }))
    const e = evaluateStages(distribution, many, enforce, {})
    assert.strictEqual(e.result, "rejected")
    assert.deepStrictEqual(e.errorBody!.details.invalid, [])
    assert.deepStrictEqual(e.errorBody!.details.issues, [
      { path: ["stageDistribution"], message: "a distribution has at most 64 entries, got 500" }
    ])
  })

  it("a 4 MiB stage: 400 with the reason, a body of a few hundred bytes (issue 25)", () => {
    const huge = "seed".padEnd(4 * 1024 * 1024, "x")
    const e = evaluateStages(StageLocation.bodyStage(), huge, enforce, {})
    const body = e.errorBody!
    assert.strictEqual(body.error, "INVALID_STAGE")
    assert.strictEqual(body.details.invalid[0], huge.slice(0, 256) + "…")
    assert.deepStrictEqual(body.details.reasons, { [huge.slice(0, 256) + "…"]: `longer than 64 characters (${huge.length})` })
    assert.isTrue(body.details.truncated)
    assert.isBelow(JSON.stringify(body).length, 1_000)
  })

  it("extracts own properties only", () => {
    const body = JSON.parse('{"__proto__": {"stage": "seed"}, "stage": "Series A"}')
    assert.deepStrictEqual(extractFromBody(StageLocation.bodyStage(), body), { present: true, value: "Series A" })
    assert.deepStrictEqual(extractFromBody(StageLocation.bodyStage("other"), body), { present: false })
    assert.deepStrictEqual(extractFromBody(StageLocation.bodyStage(), "text"), { present: false })
    assert.deepStrictEqual(extractFromQuery("stage", {}), { present: false })
    const rewritten = evaluateStages(StageLocation.bodyStage(), "Series A", warn, {}).rewrite(body) as Record<string, unknown>
    assert.strictEqual(rewritten["stage"], "series-a")
    assert.strictEqual(Object.getPrototypeOf(rewritten), Object.prototype)
  })
})
