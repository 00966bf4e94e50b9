/**
 * stage-normalization: normalise investment-stage values and roll their validation out safely.
 *
 * The root entry is the front door: the normaliser, the per-request decision, the shared rollout
 * store and the HTTP boundary for Effect and for Node/Express hosts. It loads with `effect` alone.
 * Everything else lives on its subpath, each an explicit list of its own:
 * `stage-normalization/normalizer`, `/rollout`, `/http`, `/observability` and `/migration`
 * (PostgreSQL). The names here are recorded in `etc/index.api.md`.
 *
 * @example
 * ```ts
 * import { normalizeStage } from "stage-normalization"
 * normalizeStage("Series A") // => { _tag: "Canonical", input: "Series A", stage: "series-a", deprecated: true }
 * ```
 *
 * @since 0.1.0
 */
export {
  CANONICAL_STAGES,
  type CanonicalStage,
  isCanonicalStage,
  normalizeStage,
  parseStageDistribution,
  Stage,
  StageDistribution,
  type StageDistributionResult,
  StageDistributionStandardSchema,
  type StageResult,
  StageStandardSchema,
  stageVocabulary,
  SUM_TOLERANCE,
  Vocabulary
} from "./normalizer/index.ts"
export {
  BackfillStatus,
  DEFAULT_DOCUMENT,
  getValidationDecision,
  loadStageValidationEnv,
  type Mode,
  ModeStore,
  ModeStoreError,
  PRODUCTION_CONFIG,
  type RolloutDocument,
  StageValidationConfig,
  type ValidationDecision
} from "./rollout/index.ts"
export {
  createStageValidationHandler,
  NormalizedStages,
  StageBoundary,
  StageLocation,
  withStageValidation
} from "./http/index.ts"
export { MissingPeerDependencyError } from "./shared/PeerDependency.ts"
