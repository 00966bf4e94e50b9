/**
 * `stage-normalization/migration`: normalise the stage values already stored in PostgreSQL —
 * tracking schema, SQL twin installer, batched resumable audited runs, dry-run preview, cancel,
 * index helper, `BackfillStatus` for the rollout engine, and the database layers (real server or
 * embedded PGlite) the CLI and the reference service share.
 *
 * @since 0.1.0
 */
export { DEFAULT_BATCH_SIZING, type BatchSizing, nextBatchSize } from "./AdaptiveBatchSize.ts"
export {
  backfillStatusFromPostgres,
  type BackfillReport,
  countNonCanonical,
  layerBackfillStatusPostgres
} from "./BackfillStatusPostgres.ts"
export { ALL_ROWS, type Partition } from "./BatchStatements.ts"
export { type CancelOutcome, cancelRun } from "./Cancel.ts"
export { type DatabaseLocation, type DatabaseOptions, layerFromUrl, parseDatabaseUrl, redactUrl } from "./Database.ts"
export { type DistributionPlan, planDistribution, type SkipKind, WEIGHT_SUM_TOLERANCE } from "./DistributionPlan.ts"
export { EmbeddedPostgres, type EmbeddedPostgresOptions, layerEmbedded } from "./EmbeddedPostgres.ts"
export { checkHealth, DEFAULT_HEALTH_THRESHOLDS, type HealthReport, type HealthThresholds } from "./Health.ts"
export { applyIndexes, indexName, type IndexOutcome, type IndexPlanEntry, planIndexes } from "./Indexes.ts"
export { type MigrationEvent, type RunTotals, toJsonLine, type UnknownValue } from "./MigrationEvent.ts"
export { describeCause, MigrationError, MigrationErrorReason } from "./MigrationError.ts"
export { preview, type PreviewOptions, type PreviewReport, type PreviewValue } from "./Preview.ts"
export { formatDuration, makeProgressReporter, progressLine, type ProgressReporterOptions } from "./ProgressReporter.ts"
export { migrate, type MigrateOptions, type RunSummary } from "./Runner.ts"
export { ensureSqlTwin, type SqlTwinInstallation } from "./SqlTwinInstaller.ts"
export {
  checkFundId,
  type ColumnInfo,
  quoteIdentifier,
  type ResolvedTarget,
  resolveTarget,
  type TargetKind,
  type TargetSpec
} from "./Target.ts"
export { acquireTargetLock, isEmbeddedDatabase, isTargetLocked, type TargetLock, targetLockName } from "./TargetLock.ts"
export { ensureTrackingSchema, MIGRATIONS_TABLE, trackingMigrations } from "./TrackingSchema.ts"
