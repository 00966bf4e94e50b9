/**
 * The rollout engine (`stage-normalization/rollout`): configuration and presets, environment
 * loading, bucketing, the decision engine, the shared `ModeStore`, the audit log, the promotion
 * gate and ramp, the downgrade policy and the finalisation guard.
 *
 * @since 0.1.0
 */
export * from "./AuditLog.ts"
export * from "./BackfillStatus.ts"
export * from "./Bucketing.ts"
export * from "./Config.ts"
export * from "./Decision.ts"
export * from "./Downgrade.ts"
export * from "./EnvConfig.ts"
export * from "./FinalisationGuard.ts"
export * from "./MetricsSource.ts"
export * from "./ModeStore.ts"
export * from "./ModeStoreError.ts"
export * from "./Presets.ts"
export * from "./Promote.ts"
export * from "./PromotionGate.ts"
export { defaultOperation, endpointModeOf, matchRouteTemplate, operationOf } from "./Routes.ts"
