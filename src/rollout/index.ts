/**
 * The rollout engine (`stage-normalization/rollout`): configuration and presets, environment
 * loading, bucketing, the decision engine, the shared `ModeStore` (in memory; Redis through the
 * optional peers `@effect/platform-node` and `redis`), the audit log, the promotion gate and ramp
 * (with its Prometheus-backed `MetricsSource`), the downgrade policy and the finalisation guard.
 *
 * An explicit list: every name here is public API, recorded in `etc/rollout.api.md`.
 *
 * @since 0.1.0
 */
export {
  AUDIT_HISTORY_LIMIT,
  AuditAction,
  AuditEntry,
  AuditOutcome,
  AuditSource,
  type ChangeMeta,
  DiffEntry
} from "./AuditLog.ts"
export {
  AUDIT_TEXT_MAX_LENGTH,
  auditTextProblem,
  AuditTextError,
  checkAuditText,
  escapeAuditText,
  hasUnsafeAuditCharacter
} from "./AuditText.ts"
export {
  BACKFILL_PENDING,
  BACKFILL_VERIFIED,
  type BackfillState,
  BackfillStatus,
  BackfillStatusError
} from "./BackfillStatus.ts"
export {
  BUCKET_COUNT,
  bucketOf,
  isInEnforcedSet,
  isInPercent,
  isSampledForLogs,
  murmur3SaltedKey,
  sha256SaltedKey
} from "./Bucketing.ts"
export {
  BucketAlgorithm,
  decodeRolloutDocument,
  DEFAULT_DOCUMENT,
  DEFAULT_ENFORCEMENT_SALT,
  DEFAULT_OPERATION_OVERRIDES,
  DEFAULT_SAMPLING_SALT,
  encodeRolloutDocument,
  Mode,
  MODES,
  Operation,
  type RolloutDocument,
  type RolloutDocumentEncoded,
  StageValidationConfig
} from "./Config.ts"
export { getValidationDecision, type ValidationDecision, type ValidationRequest } from "./Decision.ts"
export {
  documentBoundsViolation,
  MAX_DOCUMENT_BYTES,
  MAX_ENDPOINT_MODE_KEYS,
  MAX_OPERATION_OVERRIDE_KEYS
} from "./DocumentBounds.ts"
export {
  DEFAULT_DOWNGRADE_COOLDOWN,
  DEFAULT_DOWNGRADE_STORE_TIMEOUT,
  downgrade,
  type DowngradeRequest,
  type DowngradeResult
} from "./Downgrade.ts"
export {
  type EnvLoadResult,
  type EnvWarning,
  loadStageValidationEnv,
  OPS_SECRET_MIN_LENGTH,
  OpsSecretError,
  type RawStageValidationEnv,
  resolveStageValidationEnv,
  StageValidationEnv,
  validateOpsSecret
} from "./EnvConfig.ts"
export { BackfillNotVerifiedError, enforcesReads } from "./FinalisationGuard.ts"
export {
  GateDecision,
  GateDecisionRow,
  GateDecisionWindow,
  GateVerdictSchema,
  makeGateDecision
} from "./GateDecision.ts"
export type { RedisClientOptions } from "./RedisConnection.ts"
export { MetricsSource, MetricsSourceError, type SnapshotRequest } from "./MetricsSource.ts"
export { createModeStoreClient, type ModeStoreClient, type ModeStoreClientOptions } from "./ModeStoreClient.ts"
export { ModeStore, type RedisConnectionModeStoreOptions, type RedisModeStoreOptions } from "./ModeStore.ts"
export { InvalidDocument, ModeStoreError, Unavailable, VersionConflict } from "./ModeStoreError.ts"
export type {
  ChangeResult,
  ModeStoreService,
  ModeStoreSync,
  ModifyRequest,
  RecordRequest,
  SetRequest,
  UnsyncedPolicy
} from "./ModeStoreService.ts"
export {
  DEV_CONFIG,
  parsePresetName,
  type PresetName,
  PRESET_NAMES,
  PRESETS,
  PRODUCTION_CONFIG,
  STAGING_CONFIG
} from "./Presets.ts"
export {
  gateQueries,
  layerPrometheusMetricsSource,
  layerPrometheusMetricsSourceFetch,
  makePrometheusMetricsSource,
  type PrometheusMetricsSourceOptions
} from "./PrometheusMetricsSource.ts"
export {
  PrometheusBadResponse,
  PrometheusQueryError,
  PrometheusQueryFailed,
  PrometheusTimeout,
  PrometheusUnreachable
} from "./PrometheusQueryError.ts"
export {
  DEFAULT_PROMOTION_POLICY,
  nextRampStep,
  promote,
  type PromoteRequest,
  type PromotionPolicy,
  type PromotionResult
} from "./Promote.ts"
export {
  BLOCKING_ALERTS,
  DEFAULT_GATE_CRITERIA,
  evaluatePromotionGate,
  evaluatePromotionWindows,
  formatGateTable,
  type GateCriteria,
  type GateResult,
  type GateRow,
  type GateVerdict,
  type MetricsSnapshot
} from "./PromotionGate.ts"
export { operationOf } from "./Routes.ts"
export { importPeers, MissingPeerDependencyError, OPTIONAL_PEERS, type OptionalPeer } from "../shared/PeerDependency.ts"
