/**
 * `verify`: the nine checks of a migration run (the seeds' verification script, done properly),
 * for a run (`runId`) or a target's latest normalisation run:
 *
 * 1. every batch succeeded (interrupted batches redone);
 * 2. every value canonical, or among the unknowns the run reported;
 * 3. no new NULLs against the counts recorded at run start;
 * 4. row count before = after;
 * 5. audit consistency: audit rows = rows updated (per run, per batch), each row once, and each
 *    audited row still holding the value the run wrote unless it changed since (a warning);
 * 6. a random sample re-normalised in TypeScript equals what is stored;
 * 7. a per-fund breakdown against the per-fund baselines;
 * 8. for distributions, weight sums preserved per row and `|1 − sum| ≤ 1e-6`;
 * 9. for distributions, every audited row unchanged outside its stages (exact jsonb text, merged
 *    weights by exact `numeric` sum), against the audit's old value.
 *
 * The report says `ok` when no check fails (with `strict`, when none warns either). Verifying the
 * whole run records the outcome on it: a passing verification sets `verified_at` (which feeds
 * `BackfillStatus`), a failing one clears it — fail-closed — and `verification` keeps the summary.
 * A verification scoped to one fund (`fundId`) records nothing. Only tracking columns are written,
 * never the target.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { stageVocabulary } from "../../normalizer/StageVocabulary.ts"
import type { Vocabulary } from "../../normalizer/Vocabulary.ts"
import { TOOL_NAME, TOOL_VERSION } from "../backup/BackupManifest.ts"
import { queryWith } from "../backup/BackupStats.ts"
import type { ForceUnknownOptions } from "../run/ForceUnknown.ts"
import { MigrationError, queryFailed } from "../MigrationError.ts"
import { InvalidOptions, QueryFailed, RunNotFound } from "../MigrationErrorReason.ts"
import { checkFundId, resolveTarget, type TargetSpec } from "../schema/Target.ts"
import { ensureTrackingSchema } from "../schema/TrackingSchema.ts"
import { checkAudit, checkBatches, checkCanonical, checkNulls, checkRowCount } from "./VerifyChecks.ts"
import { guarded, num, type RunDetail, type VerifyContext } from "./VerifyContext.ts"
import { checkDistributions } from "./VerifyDistributions.ts"
import { checkFunds } from "./VerifyFunds.ts"
import { checkNonStageContent } from "./VerifyNonStage.ts"
import type { CheckResult, FundBreakdown, VerifyReport } from "./VerifyReport.ts"
import { checkSample } from "./VerifySample.ts"
import { nowIso } from "../../shared/WallClock.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface VerifyOptions {
  /** The run to verify; else the latest normalisation run of `target`. */
  readonly runId?: string | undefined
  readonly target?: TargetSpec | undefined
  /** Verify one fund only (nothing is recorded on the run). */
  readonly fundId?: string | undefined
  /** Rows re-normalised in TypeScript (default 100; 0 skips check 6). */
  readonly sampleSize?: number | undefined
  /** Warnings fail too. */
  readonly strict?: boolean | undefined
  readonly vocabulary?: Vocabulary<string> | undefined
  /** Record the outcome on the run (default true). */
  readonly record?: boolean | undefined
}

const invalid = (detail: string) => new MigrationError({ reason: new InvalidOptions({ detail }) })

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v))

const selectRun = (options: VerifyOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const query = queryWith(sql, "looking for the run", QueryFailed)
    const tracked = yield* query(`SELECT to_regclass('stage_migration_runs') IS NOT NULL AS ok`)
    if (options.runId !== undefined) {
      if (!/^\d+$/.test(options.runId)) return yield* invalid(`--run must be a run id (a number), got ${JSON.stringify(options.runId)}`)
      if (tracked[0]?.["ok"] !== true) {
        return yield* new MigrationError({ reason: new RunNotFound({ detail: `run ${options.runId} does not exist (this database has no migration runs)` }) })
      }
      return options.runId
    }
    const target = yield* resolveTarget(options.target ?? {})
    const where = `${target.label}.${target.column.name}`
    const rows = tracked[0]?.["ok"] !== true ? [] : yield* query(
      `SELECT r.run_id::text AS id FROM stage_migration_runs r
       WHERE r.target_table = $1 AND r.target_column = $2 AND NOT r.dry_run
         AND coalesce(to_jsonb(r) ->> 'operation', 'normalize') = 'normalize'
       ORDER BY r.run_id DESC LIMIT 1`,
      [target.label, target.column.name]
    )
    const id = rows[0]?.["id"]
    if (typeof id !== "string") {
      return yield* new MigrationError({ reason: new RunNotFound({ detail: `${where} has no migration run to verify (run migrate --apply first)` }) })
    }
    return id
  })

const readRunDetail = (runId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const query = queryWith(sql, `reading run ${runId}`, QueryFailed)
    const rows = yield* query(
      `SELECT status, kind, fund_id, started_at, finished_at, coalesce(rows_total, 0)::text AS rows_total,
              coalesce(rows_null, 0)::text AS rows_null, rows_updated::text AS rows_updated, rows_skipped::text AS rows_skipped,
              rows_failed::text AS rows_failed, vocabulary_version, parameters::text AS parameters, operation, rollback_of::text AS rollback_of,
              target_table, target_column, id_column, fund_column, start_xid,
              (SELECT max(b.run_id)::text FROM stage_migration_runs b WHERE b.rollback_of = r.run_id AND b.status = 'succeeded') AS rolled_back_by
       FROM stage_migration_runs r WHERE run_id = $1::bigint`,
      [runId]
    )
    const r = rows[0]
    if (r === undefined) return yield* new MigrationError({ reason: new RunNotFound({ detail: `run ${runId} does not exist` }) })
    if (r["operation"] === "rollback") {
      return yield* invalid(`run ${runId} is a rollback (of run ${String(r["rollback_of"])}); verify checks normalisation runs`)
    }
    const parameters = JSON.parse(String(r["parameters"] ?? "{}")) as Record<string, unknown>
    const detail: RunDetail = {
      runId,
      status: String(r["status"]),
      kind: r["kind"] === "distribution" ? "distribution" : "scalar",
      fundId: (r["fund_id"] as string | null) ?? null,
      startedAt: iso(r["started_at"]),
      finishedAt: r["finished_at"] === null ? null : iso(r["finished_at"]),
      rowsTotal: num(r["rows_total"]),
      rowsNull: num(r["rows_null"]),
      rowsUpdated: num(r["rows_updated"]),
      rowsSkipped: num(r["rows_skipped"]),
      rowsFailed: num(r["rows_failed"]),
      vocabularyVersion: String(r["vocabulary_version"]),
      force: (parameters["forceUnknown"] ?? undefined) as ForceUnknownOptions | undefined,
      rolledBackBy: (r["rolled_back_by"] as string | null) ?? null,
      startXid: (r["start_xid"] as string | null) ?? null
    }
    const spec: TargetSpec = {
      table: String(r["target_table"]),
      column: String(r["target_column"]),
      idColumn: String(r["id_column"]),
      fundColumn: (r["fund_column"] as string | null) ?? null
    }
    return { detail, spec }
  })

const summarise = (checks: ReadonlyArray<CheckResult>, strict: boolean) => {
  const count = (s: CheckResult["status"]) => checks.filter((c) => c.status === s).length
  const failed = count("fail")
  const warnings = count("warn")
  return { passed: count("pass"), warnings, failed, skipped: count("skipped"), ok: failed === 0 && (!strict || warnings === 0) }
}

/** The nine checks, each guarded (a check that cannot run is a failed check, not a failed verify). */
const runChecks = (ctx: VerifyContext) =>
  Effect.gen(function*() {
    const checks: Array<CheckResult> = []
    checks.push(yield* guarded("batches", checkBatches(ctx)))
    checks.push(yield* guarded("canonical", checkCanonical(ctx)))
    checks.push(yield* guarded("nulls", checkNulls(ctx)))
    checks.push(yield* guarded("row-count", checkRowCount(ctx)))
    checks.push(yield* guarded("audit", checkAudit(ctx)))
    checks.push(yield* guarded("sample", checkSample(ctx)))
    let funds: ReadonlyArray<FundBreakdown> = []
    checks.push(yield* guarded(
      "funds",
      checkFunds(ctx).pipe(Effect.map((r) => {
        funds = r.funds
        return r.check
      }))
    ))
    checks.push(yield* guarded("distributions", checkDistributions(ctx)))
    checks.push(yield* guarded("non-stage-content", checkNonStageContent(ctx)))
    return { checks, funds }
  })

/** Mark the run verified (or not) with the outcome; the time PostgreSQL recorded, or null. */
const recordVerification = (runId: string, strict: boolean, summary: ReturnType<typeof summarise>, checks: ReadonlyArray<CheckResult>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const outcome = { at: yield* nowIso, strict, ...summary, checks: checks.map((c) => [c.name, c.status]) }
    const rows = yield* sql.unsafe<{ verified_at: Date | string | null }>(
      `UPDATE stage_migration_runs
       SET verified_at = CASE WHEN $2::boolean THEN now() END, verification = $3::jsonb
       WHERE run_id = $1::bigint RETURNING verified_at`,
      [runId, summary.ok, JSON.stringify(outcome)]
    ).pipe(Effect.mapError(queryFailed(`recording the verification of run ${runId}`)))
    const at = rows[0]?.verified_at
    return at === null || at === undefined ? null : iso(at)
  })

/**
 * Verify a run (see the module header). A failed verification is a report with `ok: false`, not
 * an error; errors are bad input (no such run, table or fund) or an unreachable database.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { layerFromUrl, verify } from "stage-normalization/migration"
 * const program = verify({ target: { table: "portfolio_companies", column: "stage" }, strict: true }).pipe(
 *   Effect.map((r) => (r.summary.ok ? "verified" : `${r.summary.failed} check(s) failed`)),
 *   Effect.provide(layerFromUrl(process.env.DATABASE_URL))
 * )
 * ```
 *
 * @since 0.1.0
 * @category verifying
 */
export const verify = Effect.fn("Migration.verify")(function*(options: VerifyOptions) {
  const sampleSize = options.sampleSize ?? 100
  if (!Number.isInteger(sampleSize) || sampleSize < 0 || sampleSize > 1_000_000) {
    return yield* invalid(`--sample-size must be an integer from 0 to 1,000,000, got ${sampleSize}`)
  }
  const strict = options.strict ?? false
  const vocabulary = options.vocabulary ?? stageVocabulary
  const runId = yield* selectRun(options)
  yield* ensureTrackingSchema
  const { detail, spec } = yield* readRunDetail(runId)
  const target = yield* resolveTarget(spec)
  if (options.fundId !== undefined) {
    yield* checkFundId(target, options.fundId)
    if (detail.fundId !== null && detail.fundId !== options.fundId) {
      return yield* invalid(`run ${runId} migrated fund ${detail.fundId} only; --fund-id ${options.fundId} is outside it`)
    }
  }
  const sql = yield* SqlClient.SqlClient
  const ctx: VerifyContext = {
    run: detail,
    target,
    fundId: options.fundId ?? detail.fundId,
    fundScoped: options.fundId !== undefined && detail.fundId === null,
    sampleSize,
    vocabulary,
    query: queryWith(sql, `verifying run ${runId}`, QueryFailed)
  }
  const { checks, funds } = yield* runChecks(ctx)
  const summary = summarise(checks, strict)
  const record = (options.record ?? true) && !ctx.fundScoped
  const verifiedAt = record ? yield* recordVerification(runId, strict, summary, checks) : null
  return {
    reportVersion: 1,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    generatedAt: yield* nowIso,
    run: {
      runId,
      target: target.label,
      column: target.column.name,
      kind: detail.kind,
      status: detail.status,
      fundId: detail.fundId,
      startedAt: detail.startedAt,
      finishedAt: detail.finishedAt,
      rowsTotal: detail.rowsTotal,
      rowsUpdated: detail.rowsUpdated,
      rowsSkipped: detail.rowsSkipped,
      rowsFailed: detail.rowsFailed,
      vocabularyVersion: detail.vocabularyVersion,
      forcedUnknowns: detail.force !== undefined,
      rolledBackBy: detail.rolledBackBy
    },
    scope: { fundId: options.fundId ?? null, sampleSize, strict },
    checks,
    funds,
    summary: { ...summary, markedVerified: record && summary.ok, verifiedAt }
  } satisfies VerifyReport as VerifyReport
})
