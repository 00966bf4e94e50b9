/**
 * `stage-normalization/migration`: normalise the stage values already stored in PostgreSQL —
 * tracking schema, SQL twin installer, batched resumable audited runs, dry-run preview, cancel,
 * index helper, the backfill's state for the rollout's finalisation guard (`backfillStatusFromPostgres`), and the
 * database layers (a real server or the embedded PGlite) — and make it safe: verification
 * (nine checks and a JSON report), lossless rollback from the audit, verified and
 * restore-tested backups with the freshness gate, and `--force-unknown` mappings.
 *
 * Importing this entry needs only `effect`. Its database layers need the optional peer
 * `@effect/sql-pg` (and `@electric-sql/pglite` + `@electric-sql/pglite-socket` for the embedded
 * database); without them they fail with `MissingPeerDependencyError`.
 *
 * An explicit list: every name here is public API, recorded in `etc/migration.api.md`.
 *
 * @since 0.1.0
 */
export { type BatchSizing, DEFAULT_BATCH_SIZING } from "./run/AdaptiveBatchSize.ts"
export { type BackfillReport, backfillStatusFromPostgres } from "./verify/BackfillStatusPostgres.ts"
export { type BackupResult, createBackup, type CreateBackupOptions } from "./backup/BackupCreate.ts"
export {
  type BackupEvidence,
  type BackupGateOptions,
  DEFAULT_MAX_BACKUP_AGE_MS,
  parseMaxAge,
  requireFreshBackup
} from "./backup/BackupGate.ts"
export { BackupManifest, BackupTable, readManifest, RestoreCheck, RestoreTestResult } from "./backup/BackupManifest.ts"
export { type BackupVerification, selectManifest, verifyBackup } from "./backup/BackupVerify.ts"
export { type CancelOutcome, cancelRun } from "./run/Cancel.ts"
export { type DatabaseLocation, type DatabaseOptions, layerFromUrl, parseDatabaseUrl, redactUrl } from "./database/Database.ts"
export { EmbeddedPostgres, type EmbeddedPostgresOptions, layerEmbedded } from "./database/EmbeddedPostgres.ts"
export {
  type ForcedMapping,
  type ForceUnknownOptions,
  needsExplicitMapping,
  parseMapping,
  readMappingFile,
  visibleValue
} from "./run/ForceUnknown.ts"
export { checkHealth, DEFAULT_HEALTH_THRESHOLDS, type HealthReport, type HealthThresholds, type WalSample } from "./run/DatabaseHealth.ts"
export { applyIndexes, type IndexOutcome, type IndexPlanEntry, planIndexes } from "./sql/Indexes.ts"
export { type MigrationEvent, type RunTotals, toJsonLine, type UnknownValue } from "./MigrationEvent.ts"
export { describeCause, isMigrationError, MigrationError } from "./MigrationError.ts"
export {
  BackupFailed,
  BackupInvalid,
  BackupRequired,
  BackupToolMissing,
  BatchFailed,
  ColumnNotFound,
  ConfirmationRequired,
  DatabaseUnreachable,
  EmbeddedStartFailed,
  EmbeddedUnsupported,
  IdNotUnique,
  InvalidMapping,
  InvalidOptions,
  InvalidUrl,
  isMigrationErrorReason,
  LockLost,
  MigrationErrorReason,
  NothingToResume,
  QueryFailed,
  RestoreTestFailed,
  ResumeMismatch,
  RunInProgress,
  RunNotFound,
  SchemaMigrationFailed,
  SqlTwinFailed,
  TableNotFound,
  WrongColumnType
} from "./MigrationErrorReason.ts"
export { preview, type PreviewOptions, type PreviewReport, type PreviewValue } from "./run/Preview.ts"
export type { PreviewAction } from "./run/PreviewTally.ts"
export { makeProgressReporter, type ProgressReporterOptions } from "./run/ProgressReporter.ts"
export { restoreTest, type RestoreTestOptions, type RestoreTestOutcome } from "./backup/RestoreRehearsal.ts"
export { rollback, type RollbackConflict, type RollbackOptions, type RollbackSummary } from "./rollback/Rollback.ts"
export { type ForcedValue, migrate, type MigrateOptions, type RunSummary } from "./run/Runner.ts"
export { ensureSqlTwin, type SqlTwinInstallation } from "./sql/SqlTwinInstaller.ts"
export { type ColumnInfo, type ResolvedTarget, resolveTarget, type TargetKind, type TargetSpec } from "./schema/Target.ts"
export { ensureTrackingSchema } from "./schema/TrackingSchema.ts"
export { verify, type VerifyOptions } from "./verify/Verify.ts"
export {
  CHECK_NAMES,
  CheckExample,
  CheckResult,
  CheckStatus,
  encodeReport,
  FundBreakdown,
  VerifyReport,
  verifyReportJsonSchema
} from "./verify/VerifyReport.ts"
export type { SqlTwin, SqlTwinOptions } from "../normalizer/SqlTwin.ts"
export type { Vocabulary } from "../normalizer/Vocabulary.ts"
export { importPeers, MissingPeerDependencyError, OPTIONAL_PEERS, type OptionalPeer } from "../shared/PeerDependency.ts"
