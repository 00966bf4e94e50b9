/**
 * The result of normalising one value: either a canonical value (possibly reached through a
 * deprecated alias) or an unknown one with suggestions. Generic over the vocabulary's canonical
 * type so custom vocabularies get precise types; the default is {@link CanonicalStage}.
 *
 * @since 0.1.0
 */
import type { CanonicalStage } from "./Stages.ts"

/**
 * The input was recognised. `deprecated` is `true` when it was accepted through an alias (any
 * spelling other than the canonical one after trimming ASCII whitespace); such spellings stop
 * being accepted at the sunset date.
 *
 * @since 0.1.0
 * @category models
 */
export interface Canonical<C extends string = CanonicalStage> {
  readonly _tag: "Canonical"
  readonly input: string
  readonly stage: C
  readonly deprecated: boolean
}

/**
 * The input was not recognised. It is never mapped to a stage, however close; `suggestions`
 * holds up to three canonical values ranked by edit distance (empty when nothing is close or the
 * input is longer than `MAX_INPUT_LENGTH`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Unknown<C extends string = CanonicalStage> {
  readonly _tag: "Unknown"
  readonly input: string
  readonly suggestions: ReadonlyArray<C>
}

/**
 * @since 0.1.0
 * @category models
 */
export type StageResult<C extends string = CanonicalStage> = Canonical<C> | Unknown<C>

/**
 * @since 0.1.0
 * @category guards
 */
export const isCanonical = <C extends string>(result: StageResult<C>): result is Canonical<C> =>
  result._tag === "Canonical"

/**
 * @since 0.1.0
 * @category guards
 */
export const isUnknown = <C extends string>(result: StageResult<C>): result is Unknown<C> => result._tag === "Unknown"
