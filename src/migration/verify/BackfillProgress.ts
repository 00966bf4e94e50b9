/**
 * The backfill at a glance, for `stage-normalization status`: the latest applied run of a target
 * from the `stage_migration_progress` view (status, percent complete, rows, batches, rate, ETA),
 * the outcome of the last `verify` of that run (the run's `verification` summary and
 * `verified_at`), and the finalisation guard's answer (`backfillStatusFromPostgres`: migrated,
 * verified, non-canonical values left). Read-only; a database without the tracking tables is a
 * backfill that never ran.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { queryFailed } from "../MigrationError.ts"
import { resolveTarget, type TargetSpec } from "../schema/Target.ts"
import { type BackfillReport, backfillStatusFromPostgres } from "./BackfillStatusPostgres.ts"

/**
 * The latest applied run of a target, as the progress view shows it.
 *
 * @since 0.2.0
 * @category models
 */
export interface BackfillRun {
  readonly runId: string
  readonly operation: string
  readonly status: string
  readonly percentComplete: number | null
  readonly rowsTotal: number | null
  readonly rowsScanned: number
  readonly rowsUpdated: number
  readonly rowsFailed: number
  readonly batchesTotal: number
  readonly batchesSucceeded: number
  readonly batchesFailed: number
  readonly rowsPerSecond: number | null
  readonly eta: string | null
  readonly startedAt: string | null
  readonly finishedAt: string | null
  readonly heartbeatAt: string | null
}

/**
 * The last `verify` of the run: when, whether it passed, the check counts.
 *
 * @since 0.2.0
 * @category models
 */
export interface BackfillVerification {
  readonly at: string | null
  readonly ok: boolean
  readonly strict: boolean | null
  readonly passed: number | null
  readonly warnings: number | null
  readonly failed: number | null
  readonly verifiedAt: string | null
}

/**
 * The whole answer for a target.
 *
 * @since 0.2.0
 * @category models
 */
export interface BackfillProgress {
  /** `schema.table.column` */
  readonly target: string
  readonly latestRun: BackfillRun | null
  readonly verification: BackfillVerification | null
  readonly guard: BackfillReport
}

const num = (v: unknown): number | null => (typeof v === "number" ? v : typeof v === "string" && v !== "" && Number.isFinite(Number(v)) ? Number(v) : null)
const str = (v: unknown): string | null => (typeof v === "string" ? v : v === null || v === undefined ? null : String(v))
const record = (v: unknown): Readonly<Record<string, unknown>> =>
  typeof v === "string" ? record(JSON.parse(v)) : typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {}

const runOf = (row: Readonly<Record<string, unknown>>): BackfillRun => ({
  runId: String(row["run_id"]),
  operation: str(row["operation"]) ?? "normalize",
  status: str(row["status"]) ?? "unknown",
  percentComplete: num(row["percent_complete"]),
  rowsTotal: num(row["rows_total"]),
  rowsScanned: num(row["rows_scanned"]) ?? 0,
  rowsUpdated: num(row["rows_updated"]) ?? 0,
  rowsFailed: num(row["rows_failed"]) ?? 0,
  batchesTotal: num(row["batches_total"]) ?? 0,
  batchesSucceeded: num(row["batches_succeeded"]) ?? 0,
  batchesFailed: num(row["batches_failed"]) ?? 0,
  rowsPerSecond: num(row["rows_per_second"]),
  eta: str(row["eta"]),
  startedAt: str(row["started_at"]),
  finishedAt: str(row["finished_at"]),
  heartbeatAt: str(row["heartbeat_at"])
})

const verificationOf = (summary: unknown, verifiedAt: unknown): BackfillVerification | null => {
  if (summary === null || summary === undefined) return null
  const v = record(summary)
  return {
    at: str(v["at"]),
    ok: v["ok"] === true,
    strict: typeof v["strict"] === "boolean" ? v["strict"] : null,
    passed: num(v["passed"]),
    warnings: num(v["warnings"]),
    failed: num(v["failed"]),
    verifiedAt: str(verifiedAt)
  }
}

const failed = queryFailed("backfill progress")

/**
 * Reads the backfill's state of a target (see the module header). Fails with a `MigrationError`
 * when the target does not exist or a query fails.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { layerFromUrl } from "stage-normalization/migration"
 * import { backfillProgress } from "./BackfillProgress.ts" // internal: not part of the package's API
 * const program = backfillProgress({ table: "portfolio_companies", column: "stage" }).pipe(
 *   Effect.map((p) => p.latestRun?.percentComplete ?? 0),
 *   Effect.provide(layerFromUrl(process.env.DATABASE_URL))
 * )
 * ```
 * @since 0.2.0
 * @category backfill
 */
export const backfillProgress = Effect.fn("Migration.backfillProgress")(function*(spec: TargetSpec) {
  const sql = yield* SqlClient.SqlClient
  const target = yield* resolveTarget(spec)
  const guard = yield* backfillStatusFromPostgres(spec)
  const tracked = yield* sql<{ ok: boolean }>`SELECT to_regclass('stage_migration_progress') IS NOT NULL AS ok`.pipe(Effect.mapError(failed))
  const rows = tracked[0]?.ok === true
    ? yield* sql<{ progress: unknown; verification: unknown; verified_at: unknown }>`
        SELECT to_jsonb(p) AS progress, to_jsonb(r) -> 'verification' AS verification, r.verified_at::text AS verified_at
        FROM stage_migration_progress p JOIN stage_migration_runs r ON r.run_id = p.run_id
        WHERE p.target_table = ${target.label} AND p.target_column = ${target.column.name} AND NOT p.dry_run
        ORDER BY p.run_id DESC LIMIT 1`.pipe(Effect.mapError(failed))
    : []
  const row = rows[0]
  return {
    target: `${target.label}.${target.column.name}`,
    latestRun: row === undefined ? null : runOf(record(row.progress)),
    verification: row === undefined ? null : verificationOf(row.verification, row.verified_at),
    guard
  } satisfies BackfillProgress as BackfillProgress
})
