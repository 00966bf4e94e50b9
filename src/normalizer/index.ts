/**
 * `stage-normalization/normalizer`: canonical stages, the alias table as data, key folding,
 * `normalizeStage`, `parseStageDistribution`, bounded suggestions, Effect Schemas (also as
 * Standard Schema V1), vocabularies for other enumerated fields, and the generated PostgreSQL
 * twin of the normaliser.
 *
 * An explicit list: every name here is public API, recorded in `etc/normalizer.api.md`.
 *
 * @since 0.1.0
 */
export { foldKey, KEY_FOLDING_STEPS, MAX_INPUT_LENGTH } from "./KeyFolding.ts"
export { normalizeStage } from "./NormalizeStage.ts"
export { CACHE_ENTRY_OVERHEAD_BYTES, DEFAULT_CACHE_MAX_BYTES, ResultCache } from "./ResultCache.ts"
export { makeDistributionSchema, makeStageSchema, type SchemaOptions, Stage, StageDistribution } from "./Schemas.ts"
export { makeSqlTwin, makeSqlTwinResult, type SqlTwin, SqlTwinError, type SqlTwinOptions } from "./SqlTwin.ts"
export { STAGE_ALIASES } from "./StageAliases.ts"
export { StageDistributionStandardSchema, StageStandardSchema } from "./StandardSchemas.ts"
export {
  type DistributionIssue,
  MAX_DISTRIBUTION_ENTRIES,
  type ParseDistributionOptions,
  parseStageDistribution,
  type StageDistributionResult,
  SUM_TOLERANCE,
  type WeightProblem
} from "./StageDistribution.ts"
export { type Canonical, isCanonical, isUnknown, type StageResult, type Unknown } from "./StageResult.ts"
export { CANONICAL_STAGES, type CanonicalStage, isCanonicalStage } from "./Stages.ts"
export { stageVocabulary } from "./StageVocabulary.ts"
export { MAX_SUGGESTIONS, suggest } from "./Suggestions.ts"
export * as Vocabulary from "./Vocabulary.ts"
export type { AliasEntry } from "./Vocabulary.ts"
