/**
 * Check 6: a random sample of the rows in scope (`--sample-size`, default 100) re-normalised in
 * TypeScript — independently of the SQL twin the run used — and compared with what is stored:
 *
 * - an audited row: `normalizeStage` (or `planDistribution`, or the run's forced mapping) of its
 *   audited old value must equal the audited new value (the twin and TypeScript agree on real
 *   data), and the row must still hold that value — unless it changed since (a warning) or a
 *   rollback restored it;
 * - a row the run did not change: re-normalising its value must leave it as it is.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { normalizeStage } from "../../normalizer/NormalizeStage.ts"
import { planForcedDistributionJson } from "../run/DistributionPlan.ts"
import { forcedStage } from "../run/ForceUnknown.ts"
import { check, example, fundFilter, jsonEqual, n, params, type VerifyContext } from "./VerifyContext.ts"
import type { CheckExample, CheckStatus } from "./VerifyReport.ts"

/** What TypeScript makes of a stored value under the run's options (`undefined`: left as it is). */
const expectedOf = (ctx: VerifyContext, value: string): unknown => {
  if (ctx.target.kind === "scalar") {
    const r = normalizeStage(value, ctx.vocabulary)
    if (r._tag === "Canonical") return r.stage
    return ctx.run.force === undefined ? undefined : forcedStage(value, ctx.run.force, ctx.vocabulary)?.stage
  }
  const plan = planForcedDistributionJson(value, ctx.run.force, ctx.vocabulary)
  return plan._tag === "Changed" ? plan.value : undefined
}

const same = (ctx: VerifyContext, a: unknown, b: string | null): boolean =>
  b === null ? a === null : ctx.target.kind === "scalar" ? a === b : jsonEqual(a, JSON.parse(b))

const show = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === "string" ? v : JSON.stringify(v))

/**
 * @since 0.1.0
 * @category checks
 */
export const checkSample = (ctx: VerifyContext) =>
  Effect.gen(function*() {
    if (ctx.sampleSize === 0) return check("sample", "skipped", "--sample-size 0")
    const p = params()
    const run = p.bind(ctx.run.runId, "bigint")
    const id = `t.${ctx.target.id.sql}`
    const rows = yield* ctx.query(
      `SELECT ${id}::text AS pk, t.${ctx.target.column.sql}::text AS current, a.old, a.new, a.reverted
       FROM ${ctx.target.sql} AS t
       LEFT JOIN LATERAL (
         SELECT coalesce(l.old_value, l.old_json::text) AS old, coalesce(l.new_value, l.new_json::text) AS new,
                EXISTS (SELECT 1 FROM stage_normalization_log r WHERE r.reverts_log_id = l.log_id) AS reverted
         FROM stage_normalization_log l WHERE l.run_id = ${run} AND l.pk = ${id}::text ORDER BY l.log_id LIMIT 1
       ) a ON true
       WHERE ${fundFilter(ctx, p.bind)}
       ORDER BY random() LIMIT ${p.bind(ctx.sampleSize, "int")}`,
      p.values
    )
    let agree = 0
    let changedSince = 0
    let disagree = 0
    let audited = 0
    const examples: Array<CheckExample> = []
    for (const row of rows) {
      const pk = String(row["pk"])
      const current = (row["current"] as string | null) ?? null
      const old = (row["old"] as string | null) ?? null
      if (old !== null) {
        audited++
        const written = row["new"] as string
        const expected = expectedOf(ctx, old)
        if (expected === undefined || !same(ctx, expected, written)) {
          disagree++
          examples.push(example(pk, written, show(expected) ?? old, `the run wrote this for ${JSON.stringify(old)}; TypeScript says otherwise`))
        } else if (current === written || (ctx.target.kind === "distribution" && current !== null && jsonEqual(JSON.parse(current), JSON.parse(written)))) {
          agree++
        } else if (row["reverted"] === true && current === old) {
          agree++
        } else {
          changedSince++
          examples.push(example(pk, current, written, "changed since the run"))
        }
        continue
      }
      if (current === null) {
        agree++
        continue
      }
      const expected = expectedOf(ctx, current)
      if (expected === undefined || same(ctx, expected, current)) agree++
      else {
        disagree++
        examples.push(example(pk, current, show(expected), "not normalised by the run"))
      }
    }
    const versionNote = ctx.run.vocabularyVersion === ctx.vocabulary.version
      ? ""
      : `; the run used vocabulary ${ctx.run.vocabularyVersion}, this check ${ctx.vocabulary.version}`
    const status: CheckStatus = disagree > 0 ? "fail" : changedSince > 0 || versionNote !== "" ? "warn" : "pass"
    const summary = `${n(rows.length, "sampled row")} (${audited} changed by the run): ${agree} agree` +
      (disagree > 0 ? `, ${disagree} disagree` : "") +
      (changedSince > 0 ? `, ${changedSince} changed since the run` : "") + versionNote
    return check("sample", status, summary, { sampled: rows.length, audited, agree, disagree, changedSince }, examples)
  })
