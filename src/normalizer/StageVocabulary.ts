/**
 * The default vocabulary: the canonical stages and the stage alias table, compiled once.
 *
 * @since 0.1.0
 */
import { STAGE_ALIASES } from "./StageAliases.ts"
import { CANONICAL_STAGES, type CanonicalStage } from "./Stages.ts"
import { makeUnsafe, type Vocabulary } from "./Vocabulary.ts"

/**
 * The stage vocabulary every function uses when none is given. Its validity is asserted by the
 * test suite, so compiling it at import time cannot throw in a released build.
 *
 * @example
 * ```ts
 * import { stageVocabulary } from "stage-normalization"
 * stageVocabulary.table.get("series-a") // => "series-a"
 * stageVocabulary.version               // => an 8-hex-digit fingerprint
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const stageVocabulary: Vocabulary<CanonicalStage> = makeUnsafe({
  name: "stage",
  canonical: CANONICAL_STAGES,
  aliases: STAGE_ALIASES
})
