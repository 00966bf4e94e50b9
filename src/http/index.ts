/**
 * The HTTP boundary (`stage-normalization/http`): the stage boundary for Effect HTTP
 * (`withStageValidation`, `StageBoundary`, `NormalizedStages`) and for plain Node and Express
 * (`createStageValidationHandler`), the response headers and their sanitisers, the contract's
 * 400 bodies, `/api/deprecations`, health routes, and the ops routes (Alertmanager webhook with
 * bearer / Standard Webhooks auth and idempotency, the mode API, the manual toggle).
 *
 * An explicit list: every name here is public API, recorded in `etc/http.api.md`. The reference
 * service behind `stage-normalization serve` is the CLI's application, not part of this entry.
 *
 * @since 0.1.0
 */
export type { BoundaryOptions } from "./BoundaryEngine.ts"
export { registerEndpointSeries } from "./BoundaryMetrics.ts"
export { bucketKeyFromHeader, type BucketKeyRequest } from "./BucketKey.ts"
export { deprecationsHandler, type ListedRoute } from "./Deprecations.ts"
export { type InvalidStageBody, invalidStageBody, type StageErrorCode, type StageIssue } from "./ErrorBody.ts"
export { type NormalizedStageData, type UnrecognizedEntry, type ValidationResult } from "./EvaluateStages.ts"
export { sanitizeHeaderItem, sanitizeHeaderList, sanitizeUrl } from "./HeaderValues.ts"
export { healthzHandler, modeStoreReadiness, type ReadinessCheck, readyzHandler } from "./Health.ts"
export {
  createStageValidationHandler,
  type StageValidatedRequest,
  type StageValidationHandler,
  type StageValidationHandlerOptions,
  type StageValidationInfo
} from "./NodeAdapter.ts"
export { NormalizedStages } from "./NormalizedStages.ts"
export { REQUEST_ID_HEADER } from "./RequestId.ts"
export { DEFAULT_MAX_BODY_BYTES, StageBoundary, type StageBoundaryOptions } from "./StageBoundary.ts"
export { type HeaderInput, type HeaderSettings, STAGE_HEADERS, stageHeaders } from "./StageHeaders.ts"
export * as StageLocation from "./StageLocation.ts"
export type { StageLocation as StageLocationSpec } from "./StageLocation.ts"
export { type StageRoute, withStageValidation } from "./StageValidation.ts"

export { AlertmanagerAlert, AlertmanagerPayload } from "./ops/AlertmanagerPayload.ts"
export { autoDowngradeHandler, registerWebhookSeries, WEBHOOK_OUTCOMES, type WebhookOutcome } from "./ops/AutoDowngrade.ts"
export { getModeHandler, ModeChangeBody, putModeHandler, ToggleBody, toggleHandler } from "./ops/ModeApi.ts"
export { DEFAULT_ALERT_NAME, loadOpsSettings, OpsConfig, type OpsSettings } from "./ops/OpsConfig.ts"
export {
  type AuthFailure,
  authenticateOpsRequest,
  type AuthResult,
  type OpsCredentials,
  SIGNATURE_TOLERANCE_SECONDS,
  signWebhook
} from "./ops/WebhookAuth.ts"
export type { CanonicalStage } from "../normalizer/Stages.ts"
export type { OffenderLogSink } from "../observability/OffenderLog.ts"
export type { RolloutDocument } from "../rollout/Config.ts"
export type { ValidationDecision } from "../rollout/Decision.ts"
export { MissingPeerDependencyError } from "../shared/PeerDependency.ts"
export {
  DEFAULT_DEDUPLICATION_TTL_SECONDS,
  DeduplicationUnavailable,
  WebhookDeduplication
} from "./ops/WebhookDeduplication.ts"
