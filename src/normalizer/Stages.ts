/**
 * The canonical investment stages, in order. Everything else in the library (aliases, SQL,
 * vectors, OpenAPI enums) is derived from or checked against this list.
 *
 * @since 0.1.0
 */

/**
 * The six canonical stages, earliest first. `series-c+` covers Series C and every later round.
 *
 * @example
 * ```ts
 * import { CANONICAL_STAGES } from "stage-normalization"
 * CANONICAL_STAGES.includes("series-a") // => true
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const CANONICAL_STAGES = ["pre-seed", "seed", "series-a", "series-b", "series-c", "series-c+"] as const

/**
 * One canonical stage.
 *
 * @since 0.1.0
 * @category models
 */
export type CanonicalStage = (typeof CANONICAL_STAGES)[number]

const canonicalSet: ReadonlySet<string> = new Set(CANONICAL_STAGES)

/**
 * Type guard: is `u` exactly one of the canonical stage strings (no folding)?
 *
 * @example
 * ```ts
 * import { isCanonicalStage } from "stage-normalization"
 * isCanonicalStage("seed") // => true
 * isCanonicalStage("Seed") // => false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isCanonicalStage = (u: unknown): u is CanonicalStage => typeof u === "string" && canonicalSet.has(u)
