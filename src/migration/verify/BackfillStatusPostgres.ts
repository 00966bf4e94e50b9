/**
 * The backfill's state from the migration record in PostgreSQL, for the rollout engine's
 * finalisation guard (`BackfillStatus.layerCheck(backfillStatusFromPostgres(…))`). A target's
 * backfill is **migrated** when its latest applied run succeeded and no non-canonical value
 * remains (unknown values left by the run count as remaining: they still break canonical reads),
 * and **verified** when, in addition, that run passed verification (`verified_at`, set by
 * `verify`). Any failure to read is a `MigrationError`, which `BackfillStatus.layerCheck`
 * turns into a `BackfillStatusError`, which the guard treats as "no" (fail-closed).
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { stageVocabulary } from "../../normalizer/StageVocabulary.ts"
import type { Vocabulary } from "../../normalizer/Vocabulary.ts"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { QueryFailed } from "../MigrationErrorReason.ts"
import { resolveTarget, type ResolvedTarget, type TargetSpec } from "../schema/Target.ts"

/**
 * The full answer for a target.
 *
 * @since 0.1.0
 * @category models
 */
export interface BackfillReport {
  readonly migrated: boolean
  readonly verified: boolean
  readonly remainingNonCanonical: number
  readonly runId: string | null
  readonly detail: string
}

/**
 * The SQL condition "this row's value is not canonical" for a target (NULLs excluded by the
 * caller), given the expression of the value and a placeholder bound to the canonical stages as
 * `text[]`. Distributions are non-canonical when an entry is not an object, a stage is not
 * canonical, or a stage appears twice.
 *
 * @example
 * ```ts
 * import { nonCanonicalPredicate } from "./BackfillStatusPostgres.ts" // internal: not part of the package's API
 * nonCanonicalPredicate("scalar", "t.stage", "$1") // => "t.stage::text <> ALL($1::text[])"
 * ```
 *
 * @since 0.1.0
 * @category backfill
 */
export const nonCanonicalPredicate = (kind: "scalar" | "distribution", col: string, canonical: string): string =>
  kind === "scalar"
    ? `${col}::text <> ALL(${canonical}::text[])`
    : `CASE jsonb_typeof(${col})
         WHEN 'array' THEN EXISTS (
             SELECT 1 FROM jsonb_array_elements(${col}) e
             WHERE jsonb_typeof(e) <> 'object' OR NOT coalesce(e ->> 'stage' = ANY(${canonical}::text[]), false))
           OR (SELECT count(DISTINCT e ->> 'stage') <> count(*) FROM jsonb_array_elements(${col}) e)
         WHEN 'object' THEN EXISTS (SELECT 1 FROM jsonb_object_keys(${col}) k WHERE k <> ALL(${canonical}::text[]))
         ELSE true
       END`

/**
 * Rows of the target whose value is not canonical (NULLs excluded).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { resolveTarget } from "stage-normalization/migration"
 * const program = resolveTarget({}).pipe(Effect.flatMap((t) => countNonCanonical(t)))
 * ```
 *
 * @since 0.1.0
 * @category backfill
 */
const countNonCanonical = (target: ResolvedTarget, vocabulary: Vocabulary<string> = stageVocabulary) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const col = `t.${target.column.sql}`
    const rows = yield* sql.unsafe<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${target.sql} AS t WHERE ${col} IS NOT NULL AND ${
        nonCanonicalPredicate(target.kind, col, "$1")
      }`,
      [vocabulary.canonical]
    )
    return Number(rows[0]?.n ?? 0)
  })

const backfillStatusFromPostgresImpl = Effect.fn("Migration.backfillStatus")(function*(
  spec?: TargetSpec,
  vocabularyOption?: Vocabulary<string>
) {
  const sql = yield* SqlClient.SqlClient
  const vocabulary = vocabularyOption ?? stageVocabulary
  const target = yield* resolveTarget(spec ?? {})
  const where = `${target.label}.${target.column.name}`
  const remaining = yield* countNonCanonical(target, vocabulary)
  const tracked = yield* sql<{ ok: boolean }>`SELECT to_regclass('stage_migration_runs') IS NOT NULL AS ok`
  const runs = tracked[0]?.ok === true
    ? yield* sql<
      { run_id: string; status: string; finished_at: Date | null; verified_at: Date | null; operation: string; rollback_of: string | null }
    >`
        SELECT r.run_id::text AS run_id, r.status, r.finished_at, r.verified_at,
               coalesce(to_jsonb(r) ->> 'operation', 'normalize') AS operation, to_jsonb(r) ->> 'rollback_of' AS rollback_of
        FROM stage_migration_runs r
        WHERE r.target_table = ${target.label} AND r.target_column = ${target.column.name} AND NOT r.dry_run
        ORDER BY r.run_id DESC LIMIT 1`
    : []
  const run = runs[0]
  const left = `${remaining} non-canonical value${remaining === 1 ? "" : "s"} remain${remaining === 1 ? "s" : ""}`
  if (run === undefined) {
    return { migrated: false, verified: false, remainingNonCanonical: remaining, runId: null, detail: `no migration run of ${where}; ${left}` } satisfies BackfillReport as BackfillReport
  }
  if (run.operation === "rollback") {
    // the latest run undid a migration: not migrated, whatever the table holds now
    return {
      migrated: false,
      verified: false,
      remainingNonCanonical: remaining,
      runId: run.run_id,
      detail: `run ${run.run_id} (${run.status}) rolled back run ${run.rollback_of ?? "?"} of ${where}; ${left}`
    } satisfies BackfillReport as BackfillReport
  }
  const migrated = run.status === "succeeded" && remaining === 0
  const verified = migrated && run.verified_at !== null
  const detail = `run ${run.run_id} of ${where} ${run.status}` +
    (run.finished_at !== null ? ` at ${run.finished_at.toISOString()}` : "") +
    (run.verified_at !== null ? `, verified at ${run.verified_at.toISOString()}` : ", not verified") +
    `; ${left}`
  return { migrated, verified, remainingNonCanonical: remaining, runId: run.run_id, detail } satisfies BackfillReport as BackfillReport
})


/**
 * The backfill's state for one target, read from the migration record (see the module header):
 * what the rollout engine's finalisation guard asks before reads move into enforcement. Plug it
 * into the guard with `BackfillStatus.layerCheck` (from `stage-normalization/rollout`): the
 * migration module does not depend on the rollout engine, the host joins them.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { backfillStatusFromPostgres, layerFromUrl } from "stage-normalization/migration"
 * import { BackfillStatus } from "stage-normalization/rollout"
 * const BackfillLive = BackfillStatus.layerCheck(backfillStatusFromPostgres({ table: "portfolio_companies", column: "stage" })).pipe(
 *   Layer.provide(layerFromUrl(process.env.DATABASE_URL))
 * )
 * ```
 *
 * @since 0.1.0
 * @category backfill
 */
export const backfillStatusFromPostgres = (spec?: TargetSpec, vocabularyOption?: Vocabulary<string>) =>
  backfillStatusFromPostgresImpl(spec, vocabularyOption).pipe(
    Effect.catchTag("SqlError", (cause) =>
      Effect.fail(new MigrationError({ reason: new QueryFailed({ detail: `backfill status: ${describeCause(cause)}`, cause }) }))
    )
  )
