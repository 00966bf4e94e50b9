/**
 * The tracking schema (runs, batches, audit log, checkpoint, views), applied with effect's SQL
 * `Migrator` from migrations that are TypeScript modules — they ship in the bundle, no file
 * system loader. Applied migrations are recorded in `stage_normalization_migrations` (not the
 * host's `effect_sql_migrations`), so applying twice is a no-op; the DDL is idempotent as well.
 * The tables live in the connection's current schema (`search_path`).
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as Migrator from "effect/sql/Migrator"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { SchemaMigrationFailed } from "../MigrationErrorReason.ts"
import trackingTables from "./migrations/0001_tracking_tables.ts"
import progressViews from "./migrations/0002_progress_views.ts"
import safety from "./migrations/0003_safety.ts"
import parallelWorkers from "./migrations/0004_parallel_workers.ts"

/**
 * The table recording which tracking-schema migrations were applied.
 *
 * @since 0.1.0
 * @category constants
 */
const MIGRATIONS_TABLE = "stage_normalization_migrations"

/**
 * The tracking-schema migrations, keyed `<id>_<name>`.
 *
 * @since 0.1.0
 * @category constants
 */
const trackingMigrations = {
  "1_tracking_tables": trackingTables,
  "2_progress_views": progressViews,
  "3_safety": safety,
  "4_parallel_workers": parallelWorkers
}

const runMigrator = Migrator.make({})

/**
 * Apply the pending tracking-schema migrations; returns the ones applied now (empty when the
 * schema was up to date).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ensureTrackingSchema } from "stage-normalization/migration"
 * const program = ensureTrackingSchema.pipe(Effect.map((applied) => applied.length))
 * ```
 *
 * @since 0.1.0
 * @category schema
 */
export const ensureTrackingSchema = runMigrator({
  loader: Migrator.fromRecord(trackingMigrations),
  table: MIGRATIONS_TABLE
}).pipe(
  Effect.mapError((cause) =>
    new MigrationError({
      reason: new SchemaMigrationFailed({
        detail: `could not apply the tracking schema: ${describeCause(cause)}${
          cause._tag === "MigrationError" && cause.cause !== undefined ? ` (${describeCause(cause.cause)})` : ""
        }`,
        cause
      })
    })
  ),
  Effect.withSpan("Migration.ensureTrackingSchema")
)
