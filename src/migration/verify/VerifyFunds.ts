/**
 * Check 7: the per-fund breakdown — for each fund in scope (and the rows without a fund), the
 * baseline recorded at run start (rows, NULLs, non-canonical values), the same counts now, and the
 * audited updates of rows now in the fund. A fund that lost rows or gained NULLs fails; one with
 * non-canonical values left, or more rows than at run start, warns. Skipped when the target has
 * no fund column.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { nonCanonicalPredicate } from "./BackfillStatusPostgres.ts"
import { check, fundFilter, n, num, params, type VerifyContext, worst } from "./VerifyContext.ts"
import type { CheckResult, CheckStatus, FundBreakdown } from "./VerifyReport.ts"

const key = (v: unknown) => (v === null || v === undefined ? "\u0000" : String(v))
const byKey = (rows: ReadonlyArray<Record<string, unknown>>) => new Map(rows.map((r) => [key(r["fund_id"]), r]))

/**
 * @since 0.1.0
 * @category checks
 */
export const checkFunds = (
  ctx: VerifyContext
): Effect.Effect<{ readonly check: CheckResult; readonly funds: ReadonlyArray<FundBreakdown> }, unknown> =>
  Effect.gen(function*() {
    const fund = ctx.target.fund
    if (fund === undefined) {
      return { check: check("funds", "skipped", `${ctx.target.label} has no fund column`), funds: [] }
    }
    const baselines = yield* ctx.query(
      `SELECT fund_id, rows_total::text AS rows, rows_null::text AS nulls, rows_noncanonical::text AS noncanonical
       FROM stage_migration_run_funds WHERE run_id = $1::bigint ORDER BY position`,
      [ctx.run.runId]
    )
    const p = params()
    const col = `t.${ctx.target.column.sql}`
    const canonical = p.bind(ctx.vocabulary.canonical, "text[]")
    const current = yield* ctx.query(
      `SELECT t.${fund.sql}::text AS fund_id, count(*)::text AS rows,
              count(*) FILTER (WHERE ${col} IS NULL)::text AS nulls,
              count(*) FILTER (WHERE ${col} IS NOT NULL AND ${nonCanonicalPredicate(ctx.target.kind, col, canonical)})::text AS noncanonical
       FROM ${ctx.target.sql} AS t WHERE ${fundFilter(ctx, p.bind)} GROUP BY 1`,
      p.values
    )
    const q = params()
    const run = q.bind(ctx.run.runId, "bigint")
    const updated = yield* ctx.query(
      `SELECT t.${fund.sql}::text AS fund_id, count(*)::text AS n
       FROM stage_normalization_log l JOIN ${ctx.target.sql} AS t ON t.${ctx.target.id.sql} = l.pk::${ctx.target.id.type}
       WHERE l.run_id = ${run} AND ${fundFilter(ctx, q.bind)} GROUP BY 1`,
      q.values
    )
    const funds = new Map<string, { fundId: string | null }>()
    const inScope = (v: unknown) => ctx.fundId === null || key(v) === ctx.fundId
    for (const r of [...baselines, ...current]) if (inScope(r["fund_id"])) funds.set(key(r["fund_id"]), { fundId: (r["fund_id"] as string | null) ?? null })
    const base = byKey(baselines)
    const now = byKey(current)
    const upd = byKey(updated)
    const out: Array<FundBreakdown> = []
    for (const [k, { fundId }] of funds) {
      const b = base.get(k)
      const c = now.get(k)
      const baseline = b === undefined
        ? null
        : { rows: num(b["rows"]), nulls: num(b["nulls"]), nonCanonical: b["noncanonical"] === null ? null : num(b["noncanonical"]) }
      const cur = { rows: num(c?.["rows"]), nulls: num(c?.["nulls"]), nonCanonical: num(c?.["noncanonical"]) }
      const notes: Array<string> = []
      let status: CheckStatus = "pass"
      if (baseline !== null && cur.rows < baseline.rows) {
        status = "fail"
        notes.push(`${baseline.rows - cur.rows} row(s) fewer`)
      }
      if (baseline !== null && cur.nulls > baseline.nulls) {
        status = "fail"
        notes.push(`${cur.nulls - baseline.nulls} more NULL(s)`)
      }
      if (baseline === null) {
        status = worst([status, "warn"])
        notes.push("not there at run start")
      } else if (cur.rows > baseline.rows) {
        status = worst([status, "warn"])
        notes.push(`${cur.rows - baseline.rows} row(s) more`)
      }
      if (cur.nonCanonical > 0) {
        status = worst([status, "warn"])
        notes.push(`${cur.nonCanonical} non-canonical value(s) left`)
      }
      out.push({ fundId, baseline, current: cur, updated: num(upd.get(k)?.["n"]), status, note: notes.join("; ") })
    }
    out.sort((a, b) => (a.fundId === null ? 1 : b.fundId === null ? -1 : a.fundId.localeCompare(b.fundId, "en", { numeric: true })))
    const status = out.length === 0 ? "pass" : worst(out.map((f) => f.status))
    const failing = out.filter((f) => f.status === "fail").length
    const warning = out.filter((f) => f.status === "warn").length
    const summary = `${n(out.length, "fund")}` +
      (failing > 0 ? `, ${failing} failing` : "") +
      (warning > 0 ? `, ${warning} with warnings` : "") +
      (failing + warning === 0 ? ", all as expected" : "")
    return {
      check: check("funds", status, summary, { funds: out.length, failing, warnings: warning }),
      funds: out
    }
  })
