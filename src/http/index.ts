/**
 * The HTTP boundary (`stage-normalization/http`): the stage boundary for Effect HTTP
 * (`withStageValidation`, `StageBoundary`, `NormalizedStages`) and for plain Node
 * (`createStageValidationHandler`), the response headers and their sanitisers, the contract's
 * 400 bodies, `/api/deprecations`, health routes, the ops routes (Alertmanager webhook with
 * bearer / Standard Webhooks auth and idempotency, the mode API, the manual toggle), and the
 * reference service behind `stage-normalization serve`.
 *
 * @since 0.1.0
 */
export * from "./BoundaryEngine.ts"
export * from "./BoundaryMetrics.ts"
export * from "./Deprecations.ts"
export * from "./ErrorBody.ts"
export * from "./EvaluateStages.ts"
export * from "./HeaderValues.ts"
export * from "./Health.ts"
export * from "./NodeAdapter.ts"
export * from "./NormalizedStages.ts"
export * from "./RequestId.ts"
export * from "./StageBoundary.ts"
export * from "./StageHeaders.ts"
export * as StageLocation from "./StageLocation.ts"
export type { StageLocation as StageLocationSpec } from "./StageLocation.ts"
export * from "./StageParsingOnly.ts"
export * from "./StageValidation.ts"

export * from "./ops/AlertmanagerPayload.ts"
export * from "./ops/AutoDowngrade.ts"
export * from "./ops/ModeApi.ts"
export * from "./ops/OpsConfig.ts"
export * from "./ops/OpsRequest.ts"
export * from "./ops/WebhookAuth.ts"
export * from "./ops/WebhookDeduplication.ts"

export * from "./service/Handlers.ts"
export * from "./service/MonteCarlo.ts"
export * from "./service/ReferenceService.ts"
export * from "./service/ServiceRoutes.ts"
export * from "./service/ServiceSchema.ts"

export * from "../observability/OffenderLog.ts"
