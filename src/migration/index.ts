/**
 * `stage-normalization/migration`: normalise the stage values already stored in PostgreSQL —
 * tracking schema, SQL twin installer, batched resumable audited runs, dry-run preview, cancel,
 * index helper, `BackfillStatus` for the rollout engine, and the database layers (real server or
 * embedded PGlite) the CLI and the reference service share — and make it safe: verification
 * (eight checks and a JSON report), lossless rollback from the audit, verified and
 * restore-tested backups with the freshness gate, and `--force-unknown` mappings.
 *
 * @since 0.1.0
 */
export { DEFAULT_BATCH_SIZING, type BatchSizing, nextBatchSize } from "./AdaptiveBatchSize.ts"
export {
  backfillStatusFromPostgres,
  type BackfillReport,
  countNonCanonical,
  layerBackfillStatusPostgres,
  nonCanonicalPredicate
} from "./BackfillStatusPostgres.ts"
export { type BackupResult, createBackup, type CreateBackupOptions } from "./BackupCreate.ts"
export {
  type BackupEvidence,
  type BackupGateOptions,
  DEFAULT_MAX_BACKUP_AGE_MS,
  parseMaxAge,
  requireFreshBackup
} from "./BackupGate.ts"
export {
  BackupManifest,
  backupPaths,
  BackupTable,
  dumpPathOf,
  type FoundManifest,
  listManifests,
  readManifest,
  RestoreCheck,
  RestoreTestResult,
  TOOL_NAME,
  TOOL_VERSION,
  writeManifest
} from "./BackupManifest.ts"
export { type BackupVerification, selectManifest, verifyBackup } from "./BackupVerify.ts"
export { ALL_ROWS, type ForcedValues, type Partition } from "./BatchStatements.ts"
export { type CancelOutcome, cancelRun } from "./Cancel.ts"
export { type DatabaseLocation, type DatabaseOptions, layerFromUrl, parseDatabaseUrl, redactUrl } from "./Database.ts"
export {
  type DistributionPlan,
  planDistribution,
  planForcedDistribution,
  type ReasonedPlan,
  type SkipKind,
  WEIGHT_SUM_TOLERANCE
} from "./DistributionPlan.ts"
export { EmbeddedPostgres, type EmbeddedPostgresOptions, layerEmbedded } from "./EmbeddedPostgres.ts"
export {
  type ForcedMapping,
  forcedStage,
  type ForceUnknownOptions,
  parseMapping,
  readMappingFile,
  uniqueStageAtEditDistance1
} from "./ForceUnknown.ts"
export { checkHealth, DEFAULT_HEALTH_THRESHOLDS, type HealthReport, type HealthThresholds } from "./Health.ts"
export { applyIndexes, indexName, type IndexOutcome, type IndexPlanEntry, planIndexes } from "./Indexes.ts"
export { type MigrationEvent, type RunTotals, toJsonLine, type UnknownValue } from "./MigrationEvent.ts"
export { describeCause, MigrationError, MigrationErrorReason } from "./MigrationError.ts"
export {
  findPgTools,
  type PgTool,
  type PgToolName,
  toolConnection,
  toolMajorVersion,
  withDatabaseName
} from "./PgTools.ts"
export { preview, type PreviewOptions, type PreviewReport, type PreviewValue } from "./Preview.ts"
export { formatDuration, makeProgressReporter, progressLine, type ProgressReporterOptions } from "./ProgressReporter.ts"
export { restoreTest, type RestoreTestOptions, type RestoreTestOutcome } from "./RestoreTest.ts"
export { rollback, type RollbackConflict, type RollbackOptions, type RollbackSummary } from "./Rollback.ts"
export { type ForcedValue, migrate, type MigrateOptions, type RunSummary } from "./Runner.ts"
export { ensureSqlTwin, type SqlTwinInstallation } from "./SqlTwinInstaller.ts"
export { type Digest, hashFile, writeHashed } from "./StreamingHash.ts"
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
export { verify, type VerifyOptions } from "./Verify.ts"
export { SUM_TO_ONE_TOLERANCE, weightSum } from "./VerifyDistributions.ts"
export {
  CHECK_NAMES,
  CheckExample,
  CheckResult,
  CheckStatus,
  encodeReport,
  FundBreakdown,
  VerifyReport,
  verifyReportJsonSchema
} from "./VerifyReport.ts"
