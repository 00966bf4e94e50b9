/**
 * Checks 1–5 of a verification: batches, canonical values, NULLs, row count, audit consistency.
 * Each is an Effect producing a `CheckResult`; none writes. Checks 6–8 (sample, funds,
 * distributions) are in `VerifySample`, `VerifyFunds` and `VerifyDistributions`.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { normalizeStage } from "../../normalizer/NormalizeStage.ts"
import { nonCanonicalPredicate } from "./BackfillStatusPostgres.ts"
import { planForcedDistributionJson } from "../run/DistributionPlan.ts"
import { forcedStage } from "../run/ForceUnknown.ts"
import {
  check,
  example,
  fundFilter,
  MAX_EXAMPLES,
  n,
  num,
  params,
  type VerifyContext,
  worst
} from "./VerifyContext.ts"
import type { CheckExample, CheckStatus } from "./VerifyReport.ts"

/**
 * Check 1: the run succeeded and each batch succeeded — or failed and was redone (an interrupted
 * batch rolled back and its range re-run from the checkpoint).
 *
 * @since 0.1.0
 * @category checks
 */
export const checkBatches = (ctx: VerifyContext) =>
  Effect.gen(function*() {
    const rows = yield* ctx.query(
      `SELECT status, resolution, count(*)::int AS n FROM stage_migration_batches WHERE run_id = $1::bigint GROUP BY 1, 2`,
      [ctx.run.runId]
    )
    const count = (status: string, redone?: boolean) =>
      rows.filter((r) =>
        r["status"] === status && (redone === undefined || (r["resolution"] !== null) === redone)
      ).reduce((s, r) => s + num(r["n"]), 0)
    const succeeded = count("succeeded")
    const redone = count("failed", true)
    const failed = count("failed", false)
    const open = count("running") + count("pending")
    const bad = yield* ctx.query(
      `SELECT batch_id::text AS id, status, coalesce(error_message, '') AS error FROM stage_migration_batches
       WHERE run_id = $1::bigint AND (status IN ('running', 'pending') OR (status = 'failed' AND resolution IS NULL))
       ORDER BY batch_id LIMIT ${MAX_EXAMPLES}`,
      [ctx.run.runId]
    )
    const counts = { batches: succeeded + redone + failed + open, succeeded, redone, failed, unfinished: open }
    const examples = bad.map((b) => example(String(b["id"]), String(b["status"]), "succeeded", String(b["error"])))
    const notes: Array<string> = []
    let status: CheckStatus = "pass"
    if (ctx.run.status !== "succeeded") {
      status = "fail"
      notes.push(`the run is ${ctx.run.status}, not succeeded`)
    }
    if (failed + open > 0) {
      status = "fail"
      notes.push(`${n(failed, "batch", "batches")} failed and ${n(open, "batch", "batches")} unfinished`)
    }
    if (ctx.run.rolledBackBy !== null) {
      status = worst([status, "warn"])
      notes.push(`the run was rolled back by run ${ctx.run.rolledBackBy}`)
    }
    const summary = `${n(succeeded, "batch", "batches")} succeeded` +
      (redone > 0 ? `, ${n(redone, "interrupted batch", "interrupted batches")} redone` : "") +
      (notes.length > 0 ? `; ${notes.join("; ")}` : "")
    return check("batches", status, summary, counts, examples)
  })

/** Check 2's verdict from its tallies (rows not normalised, unreported and reported unknowns, written since the run started). */
const canonicalResult = (
  t: { readonly notNormalised: number; readonly unreported: number; readonly reportedRows: number; readonly since: number },
  examples: ReadonlyArray<CheckExample>
) => {
  const counts = {
    notNormalised: t.notNormalised,
    unreportedUnknown: t.unreported,
    reportedUnknown: t.reportedRows,
    writtenSinceRunStart: t.since,
    notNormalisedByRun: t.notNormalised + t.unreported - t.since
  }
  const status: CheckStatus = t.notNormalised + t.unreported > 0 ? "fail" : t.reportedRows > 0 ? "warn" : "pass"
  const summary = status === "pass"
    ? "every value is canonical"
    : [
      t.notNormalised > 0 ? `${n(t.notNormalised, "row")} not normalised` : "",
      t.unreported > 0 ? `${n(t.unreported, "row")} with unknown values the run did not report` : "",
      t.reportedRows > 0 ? `${n(t.reportedRows, "row")} keep unknown values the run reported (fix them or --force-unknown)` : "",
      t.since > 0 ? `of the failing rows, ${n(t.since, "was", "were")} written after the run started (the application's: run migrate again)` : ""
    ].filter((s) => s !== "").join("; ")
  return check("canonical", status, summary, counts, [...examples])
}

/**
 * Check 2: every non-NULL value in scope is canonical, or a value the run reported as unknown
 * (a `warn`: they remain to be fixed). A value that normalises but was not normalised, or an
 * unknown the run did not report, fails — and the failing rows are counted apart by when they
 * were written: `writtenSinceRunStart` (a row version newer than the run's first transaction: the
 * application wrote it while or after the run went by) and `notNormalisedByRun` (rows as they were
 * when the run started, which the run should have normalised).
 *
 * @since 0.1.0
 * @category checks
 */
export const checkCanonical = (ctx: VerifyContext) =>
  Effect.gen(function*() {
    const reported = yield* ctx.query(
      `SELECT kind, raw_value FROM stage_migration_unknowns WHERE run_id = $1::bigint`,
      [ctx.run.runId]
    )
    const known = new Set(reported.map((r) => `${String(r["kind"])}\u0000${String(r["raw_value"])}`))
    const p = params()
    const col = `t.${ctx.target.column.sql}`
    const where = `${fundFilter(ctx, p.bind)} AND ${col} IS NOT NULL AND ${
      nonCanonicalPredicate(ctx.target.kind, col, p.bind(ctx.vocabulary.canonical, "text[]"))
    }`
    const examples: Array<CheckExample> = []
    let notNormalised = 0
    let unreported = 0
    let reportedRows = 0
    let since = 0
    // a row version newer than the run's first transaction was written after the run started
    const writtenSince = ctx.run.startXid === undefined || ctx.run.startXid === null
      ? "false"
      : `age(t.xmin) < (pg_current_xact_id()::text::bigint - ${p.bind(ctx.run.startXid, "text")}::bigint)`
    if (ctx.target.kind === "scalar") {
      const groups = yield* ctx.query(
        `SELECT ${col}::text AS v, count(*)::text AS n, min(t.${ctx.target.id.sql}::text) AS pk,
                count(*) FILTER (WHERE ${writtenSince})::text AS since
         FROM ${ctx.target.sql} AS t WHERE ${where} GROUP BY 1 ORDER BY count(*) DESC`,
        p.values
      )
      for (const g of groups) {
        const value = String(g["v"])
        const rows = num(g["n"])
        const newer = num(g["since"])
        const r = normalizeStage(value, ctx.vocabulary)
        const forced = r._tag === "Unknown" && ctx.run.force !== undefined
          ? forcedStage(value, ctx.run.force, ctx.vocabulary)
          : undefined
        if (r._tag === "Canonical" || forced !== undefined) {
          notNormalised += rows
          since += newer
          examples.push(example(String(g["pk"]), value, r._tag === "Canonical" ? r.stage : forced!.stage, `${n(rows, "row")} not normalised (written since the run?)`))
        } else if (known.has(`unknown-stage\u0000${value}`)) {
          reportedRows += rows
        } else {
          unreported += rows
          since += newer
          examples.push(example(String(g["pk"]), value, null, `${n(rows, "row")}: unknown value the run did not report (written since the run?)`))
        }
      }
    } else {
      const rows = yield* ctx.query(
        `SELECT t.${ctx.target.id.sql}::text AS pk, ${col}::text AS v, (${writtenSince}) AS since FROM ${ctx.target.sql} AS t WHERE ${where}
         ORDER BY t.${ctx.target.id.sql}`,
        p.values
      )
      for (const row of rows) {
        const value = String(row["v"])
        const newer = row["since"] === true ? 1 : 0
        const plan = planForcedDistributionJson(value, ctx.run.force, ctx.vocabulary)
        if (plan._tag === "Changed") {
          notNormalised++
          since += newer
          examples.push(example(String(row["pk"]), value, plan.json, "not normalised (written since the run?)"))
        } else if (plan._tag === "Skipped") {
          const missing = plan.issues.filter((i) => !known.has(`${i.kind}\u0000${i.value}`))
          if (missing.length === 0) reportedRows++
          else {
            unreported++
            since += newer
            examples.push(example(String(row["pk"]), value, null, `not reported by the run: ${missing.map((i) => `${i.kind} ${JSON.stringify(i.value)}`).join(", ")}`))
          }
        }
      }
    }
    return canonicalResult({ notNormalised, unreported, reportedRows, since }, examples)
  })

/** Baselines in scope: the run's, or the fund's when verifying one fund of a wider run. */
const baseline = (ctx: VerifyContext) =>
  Effect.gen(function*() {
    if (!ctx.fundScoped) return { rows: ctx.run.rowsTotal, nulls: ctx.run.rowsNull, found: true }
    const rows = yield* ctx.query(
      `SELECT rows_total::text AS rows, rows_null::text AS nulls FROM stage_migration_run_funds
       WHERE run_id = $1::bigint AND fund_id = $2::text`,
      [ctx.run.runId, ctx.fundId]
    )
    const row = rows[0]
    return row === undefined ? { rows: 0, nulls: 0, found: false } : { rows: num(row["rows"]), nulls: num(row["nulls"]), found: true }
  })

const currentCounts = (ctx: VerifyContext) =>
  Effect.gen(function*() {
    const p = params()
    const rows = yield* ctx.query(
      `SELECT count(*)::text AS rows, count(*) FILTER (WHERE t.${ctx.target.column.sql} IS NULL)::text AS nulls
       FROM ${ctx.target.sql} AS t WHERE ${fundFilter(ctx, p.bind)}`,
      p.values
    )
    return { rows: num(rows[0]?.["rows"]), nulls: num(rows[0]?.["nulls"]) }
  })

/**
 * Check 3: no more NULLs than at run start, and no audit row that wrote a NULL.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkNulls = (ctx: VerifyContext) =>
  Effect.gen(function*() {
    const before = yield* baseline(ctx)
    const now = yield* currentCounts(ctx)
    const written = yield* ctx.query(
      `SELECT pk FROM stage_normalization_log
       WHERE run_id = $1::bigint AND new_value IS NULL AND new_json IS NULL ORDER BY log_id LIMIT ${MAX_EXAMPLES + 1}`,
      [ctx.run.runId]
    )
    const counts = { atStart: before.nulls, now: now.nulls, auditedNullWrites: written.length }
    const examples = written.map((w) => example(String(w["pk"]), null, null, "the run wrote NULL"))
    if (written.length > 0) return check("nulls", "fail", `the run wrote NULL into ${n(written.length, "row")}`, counts, examples)
    if (now.nulls > before.nulls) {
      return check("nulls", "fail", `${n(now.nulls - before.nulls, "more NULL")} than at run start (${before.nulls} → ${now.nulls})`, counts)
    }
    return check(
      "nulls",
      "pass",
      `${n(now.nulls, "NULL")} now, ${before.nulls} at run start${before.found ? "" : " (the fund had no baseline)"}`,
      counts
    )
  })

/**
 * Check 4: as many rows as at run start (fewer: fail; more: warn — rows written since are checked
 * by check 2; the migration itself never inserts or deletes).
 *
 * @since 0.1.0
 * @category checks
 */
export const checkRowCount = (ctx: VerifyContext) =>
  Effect.gen(function*() {
    const before = yield* baseline(ctx)
    const now = yield* currentCounts(ctx)
    const counts = { atStart: before.rows, now: now.rows }
    if (now.rows < before.rows) {
      return check("row-count", "fail", `${n(before.rows - now.rows, "row")} fewer than at run start (${before.rows} → ${now.rows})`, counts)
    }
    if (now.rows > before.rows) {
      return check(
        "row-count",
        "warn",
        `${n(now.rows - before.rows, "row")} more than at run start (${before.rows} → ${now.rows}): written since the run`,
        counts
      )
    }
    return check("row-count", "pass", `${n(now.rows, "row")}, as at run start`, counts)
  })

/** The audit against the run's own records: counts per run and batch, duplicates, no-ops, forced rows. */
const auditConsistency = (ctx: VerifyContext) =>
  Effect.gen(function*() {
    const run = ctx.run.runId
    const total = num((yield* ctx.query(`SELECT count(*)::text AS n FROM stage_normalization_log WHERE run_id = $1::bigint`, [run]))[0]?.["n"])
    const perBatch = yield* ctx.query(
      `SELECT b.batch_id::text AS id, b.status, b.rows_updated, count(l.log_id)::int AS audited
       FROM stage_migration_batches b
       LEFT JOIN stage_normalization_log l ON l.run_id = b.run_id AND l.batch_id = b.batch_id
       WHERE b.run_id = $1::bigint
       GROUP BY b.batch_id, b.status, b.rows_updated
       HAVING count(l.log_id) <> CASE WHEN b.status = 'succeeded' THEN b.rows_updated ELSE 0 END
       ORDER BY b.batch_id LIMIT ${MAX_EXAMPLES}`,
      [run]
    )
    const orphans = num((yield* ctx.query(
      `SELECT count(*)::text AS n FROM stage_normalization_log l
       WHERE l.run_id = $1::bigint AND NOT EXISTS (SELECT 1 FROM stage_migration_batches b WHERE b.batch_id = l.batch_id AND b.run_id = l.run_id)`,
      [run]
    ))[0]?.["n"])
    const twice = yield* ctx.query(
      `SELECT pk, count(*)::int AS n FROM stage_normalization_log WHERE run_id = $1::bigint
       GROUP BY pk HAVING count(*) > 1 ORDER BY pk LIMIT ${MAX_EXAMPLES}`,
      [run]
    )
    const noops = yield* ctx.query(
      `SELECT pk FROM stage_normalization_log WHERE run_id = $1::bigint
         AND coalesce(old_value, old_json::text) IS NOT DISTINCT FROM coalesce(new_value, new_json::text)
       ORDER BY log_id LIMIT ${MAX_EXAMPLES}`,
      [run]
    )
    const forcedRows = ctx.run.force !== undefined ? 0 : num((yield* ctx.query(
      `SELECT count(*)::text AS n FROM stage_normalization_log WHERE run_id = $1::bigint AND reason LIKE 'forced:%'`,
      [run]
    ))[0]?.["n"])
    const problems: Array<string> = []
    const examples: Array<CheckExample> = []
    if (total !== ctx.run.rowsUpdated) problems.push(`${n(total, "audit row")} but the run counts ${n(ctx.run.rowsUpdated, "updated row")}`)
    if (perBatch.length > 0) {
      problems.push(`${n(perBatch.length, "batch", "batches")} whose audit rows differ from their updated rows`)
      for (const b of perBatch) {
        examples.push(example(String(b["id"]), `${num(b["audited"])} audit rows`, `${b["status"] === "succeeded" ? num(b["rows_updated"]) : 0}`, `batch ${String(b["status"])}`))
      }
    }
    if (orphans > 0) problems.push(`${n(orphans, "audit row")} of no batch of the run`)
    if (twice.length > 0) {
      problems.push(`${n(twice.length, "row")} audited more than once (applied twice)`)
      for (const t of twice) examples.push(example(String(t["pk"]), `${num(t["n"])} audit rows`, "1", "applied twice"))
    }
    if (noops.length > 0) {
      problems.push(`${n(noops.length, "audit row")} whose old and new values are equal`)
      for (const x of noops) examples.push(example(String(x["pk"]), null, null, "old value = new value"))
    }
    if (forcedRows > 0) problems.push(`${n(forcedRows, "forced audit row")} but the run did not force unknown values`)
    return { total, batchMismatches: perBatch.length, appliedTwice: twice.length, problems, examples }
  })

/** The audited rows that no longer hold what the run wrote: changed, deleted or rolled back since. */
const auditDrift = (ctx: VerifyContext) =>
  Effect.gen(function*() {
    const p = params()
    const runParam = p.bind(ctx.run.runId, "bigint")
    const col = `t.${ctx.target.column.sql}`
    const written = ctx.target.kind === "scalar" ? "l.new_value" : "l.new_json"
    const found = ctx.target.kind === "scalar" ? `${col}::text` : `${col}`
    const fund = fundFilter(ctx, p.bind)
    const drift = yield* ctx.query(
      `SELECT l.pk, coalesce(l.new_value, l.new_json::text) AS expected, ${col}::text AS found,
              (t.${ctx.target.id.sql} IS NULL) AS missing, (r.log_id IS NOT NULL) AS reverted
       FROM stage_normalization_log l
       LEFT JOIN ${ctx.target.sql} AS t ON t.${ctx.target.id.sql} = l.pk::${ctx.target.id.type}
       LEFT JOIN stage_normalization_log r ON r.reverts_log_id = l.log_id
       WHERE l.run_id = ${runParam}
         AND (${ctx.fundId === null ? `t.${ctx.target.id.sql} IS NULL OR ` : ""}${fund})
         AND (t.${ctx.target.id.sql} IS NULL OR ${found} IS DISTINCT FROM ${written})
       ORDER BY l.log_id`,
      p.values
    )
    const counts = { changed: 0, deleted: 0, reverted: 0 }
    const examples: Array<CheckExample> = []
    for (const d of drift) {
      const note = d["missing"] === true ? "deleted since the run" : d["reverted"] === true ? "restored by a rollback" : "changed since the run"
      if (d["missing"] === true) counts.deleted++
      else if (d["reverted"] === true) counts.reverted++
      else counts.changed++
      if (examples.length < MAX_EXAMPLES) examples.push(example(String(d["pk"]), (d["found"] as string | null) ?? null, String(d["expected"]), note))
    }
    return { ...counts, examples }
  })

/**
 * Check 5: the audit matches the run and the table — audit rows = rows updated (per run and per
 * batch, and only for batches that succeeded), no row audited twice, no audit row whose old and
 * new values are equal, forced reasons only when the run forced — and each audited row still holds
 * the value the run wrote, unless it changed since (reported as a warning, as are rows deleted
 * since and rows a rollback restored).
 *
 * @since 0.1.0
 * @category checks
 */
export const checkAudit = (ctx: VerifyContext) =>
  Effect.gen(function*() {
    const own = yield* auditConsistency(ctx)
    const drift = yield* auditDrift(ctx)
    const { changed, deleted, reverted } = drift
    const counts = {
      auditRows: own.total,
      rowsUpdated: ctx.run.rowsUpdated,
      batchMismatches: own.batchMismatches,
      appliedTwice: own.appliedTwice,
      changedSince: changed,
      deletedSince: deleted,
      rolledBack: reverted
    }
    const status: CheckStatus = own.problems.length > 0 ? "fail" : changed + deleted + reverted > 0 ? "warn" : "pass"
    const soft = [
      changed > 0 ? `${n(changed, "audited row")} changed since the run` : "",
      deleted > 0 ? `${n(deleted, "audited row")} deleted since` : "",
      reverted > 0 ? `${n(reverted, "audited row")} restored by a rollback` : ""
    ].filter((s) => s !== "")
    const summary = [
      own.problems.length === 0 ? `${n(own.total, "audit row")} = rows updated, one per row` : own.problems.join("; "),
      ...soft
    ].join("; ")
    return check("audit", status, summary, counts, [...own.examples, ...drift.examples])
  })
