/**
 * Check 8, distributions only: (a) every audited row's new weight sum equals its pre-migration
 * sum (from the audit's old value; relative 1e-9 — the run refuses anything else before writing),
 * which fails when violated; (b) every distribution in scope sums to 1 within 1e-6
 * (`|1 − sum| ≤ 1e-6`), a warning when not — the weights themselves are the application's, and a
 * canonical distribution that does not sum to 1 was left alone by the migration. Skipped for
 * scalar targets.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { SUM_TOLERANCE } from "../../normalizer/StageDistribution.ts"
import { ROUNDING_SLACK } from "../run/DistributionPlan.ts"
import { check, example, fundFilter, MAX_EXAMPLES, n, params, type VerifyContext } from "./VerifyContext.ts"
import type { CheckExample, CheckStatus } from "./VerifyReport.ts"

/**
 * The weight sum of a stored distribution (finite numeric weights only), or undefined.
 *
 * @example
 * ```ts
 * import { weightSum } from "./VerifyDistributions.ts" // internal: not part of the package's API
 * weightSum([{ stage: "seed", weight: 0.25 }, { stage: "series-a", weight: 0.75 }]) // => 1
 * weightSum({ seed: 0.5, "series-a": 0.25 })                                       // => 0.75
 * weightSum("x")                                                                   // => undefined
 * ```
 *
 * @since 0.1.0
 * @category distributions
 */
export const weightSum = (value: unknown): number | undefined => {
  const weights = Array.isArray(value)
    ? value.map((e) => (typeof e === "object" && e !== null ? (e as Record<string, unknown>)["weight"] : undefined))
    : typeof value === "object" && value !== null
    ? Object.values(value)
    : undefined
  if (weights === undefined) return undefined
  let sum = 0
  for (const w of weights) {
    if (typeof w !== "number" || !Number.isFinite(w)) return undefined
    sum += w
  }
  return sum
}

const PAGE = 5_000

/**
 * @since 0.1.0
 * @category checks
 */
export const checkDistributions = (ctx: VerifyContext) =>
  Effect.gen(function*() {
    if (ctx.target.kind !== "distribution") return check("distributions", "skipped", "scalar column: no weights")
    // (a) sums preserved, over every audit row of the run, page by page
    let audited = 0
    let drifted = 0
    const examples: Array<CheckExample> = []
    let after = "0"
    while (true) {
      const page = yield* ctx.query(
        `SELECT log_id::text AS id, pk, old_json::text AS old, new_json::text AS new FROM stage_normalization_log
         WHERE run_id = $1::bigint AND log_id > $2::bigint ORDER BY log_id LIMIT ${PAGE}`,
        [ctx.run.runId, after]
      )
      for (const row of page) {
        audited++
        const before = weightSum(JSON.parse(String(row["old"])) as unknown)
        const now = weightSum(JSON.parse(String(row["new"])) as unknown)
        if (before === undefined || now === undefined || Math.abs(now - before) > ROUNDING_SLACK * Math.max(1, Math.abs(before))) {
          drifted++
          if (examples.length < MAX_EXAMPLES) {
            examples.push(example(String(row["pk"]), String(row["new"]), String(row["old"]), `weight sum ${before} → ${now}`))
          }
        }
      }
      if (page.length < PAGE) break
      after = String(page[page.length - 1]!["id"])
    }
    // (b) sums to 1, in scope (the database pre-selects candidates, summing as numeric: a weight
    // beyond float8's range, such as 1e-400, is a number jsonb holds; TypeScript decides)
    const p = params()
    const col = `t.${ctx.target.column.sql}`
    const rows = yield* ctx.query(
      `SELECT t.${ctx.target.id.sql}::text AS pk, ${col}::text AS v FROM ${ctx.target.sql} AS t
       WHERE ${fundFilter(ctx, p.bind)} AND ${col} IS NOT NULL AND jsonb_typeof(${col}) IN ('array', 'object') AND abs(1 - coalesce(
         CASE jsonb_typeof(${col})
           WHEN 'array' THEN (SELECT sum((e ->> 'weight')::numeric) FROM jsonb_array_elements(${col}) e
                              WHERE jsonb_typeof(e) = 'object' AND jsonb_typeof(e -> 'weight') = 'number')
           ELSE (SELECT sum(v::text::numeric) FROM jsonb_each(${col}) AS kv(k, v) WHERE jsonb_typeof(v) = 'number')
         END, 0)) > ${p.bind(String(SUM_TOLERANCE / 2), "numeric")}
       ORDER BY t.${ctx.target.id.sql}`,
      p.values
    )
    let offOne = 0
    let invalid = 0
    const sumExamples: Array<CheckExample> = []
    for (const row of rows) {
      const sum = weightSum(JSON.parse(String(row["v"])) as unknown)
      if (sum === undefined) invalid++
      else if (Math.abs(1 - sum) > SUM_TOLERANCE) offOne++
      else continue
      if (sumExamples.length < MAX_EXAMPLES) {
        sumExamples.push(example(String(row["pk"]), String(row["v"]), null, sum === undefined ? "weights are not all finite numbers" : `weights sum to ${sum}`))
      }
    }
    const counts = { audited, sumChanged: drifted, notSummingToOne: offOne, invalidWeights: invalid }
    const status: CheckStatus = drifted > 0 ? "fail" : offOne + invalid > 0 ? "warn" : "pass"
    const summary = [
      drifted > 0
        ? `${n(drifted, "audited row")} changed its weight sum`
        : `every audited row kept its weight sum (${n(audited, "row")})`,
      offOne > 0 ? `${n(offOne, "distribution")} not summing to 1 within 1e-6` : "",
      invalid > 0 ? `${n(invalid, "distribution")} with invalid weights` : "",
      drifted + offOne + invalid === 0 ? "every distribution sums to 1 within 1e-6" : ""
    ].filter((s) => s !== "").join("; ")
    return check("distributions", status, summary, counts, [...examples, ...sumExamples])
  })
