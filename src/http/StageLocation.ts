/**
 * Where a route carries its stage data, declared once per route: a JSON body field holding a
 * distribution (`stageDistribution`), a JSON body field holding one stage (`stage`), or a query
 * parameter (`?stage=…`, possibly repeated). A body distribution has at most
 * {@link BOUNDARY_MAX_DISTRIBUTION_ENTRIES} entries unless the route says otherwise.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category models
 */
export type StageLocation =
  | { readonly _tag: "BodyDistribution"; readonly field: string; readonly maxEntries?: number | undefined }
  | { readonly _tag: "BodyStage"; readonly field: string }
  | { readonly _tag: "QueryStage"; readonly param: string }

/**
 * Most entries of a body distribution at the boundary, unless the route's location sets its
 * own (`bodyDistribution(field, { maxEntries })`): 64. More is invalid input (one issue, no
 * entry read): a 400 `INVALID_STAGE_DISTRIBUTION` when enforcing.
 *
 * @since 0.3.0
 * @category constants
 */
export const BOUNDARY_MAX_DISTRIBUTION_ENTRIES = 64

/**
 * A JSON body field holding a distribution (`[{ stage, weight }, …]` or `{ stage: weight }`) of
 * at most `maxEntries` entries (default {@link BOUNDARY_MAX_DISTRIBUTION_ENTRIES}).
 * A rejection answers `INVALID_STAGE_DISTRIBUTION`.
 *
 * @example
 * ```ts
 * import { StageLocation } from "stage-normalization/http"
 * StageLocation.bodyDistribution("stageDistribution")
 * // => { _tag: "BodyDistribution", field: "stageDistribution" }
 * StageLocation.bodyDistribution("weights", { maxEntries: 12 })
 * // => { _tag: "BodyDistribution", field: "weights", maxEntries: 12 }
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const bodyDistribution = (
  field: string = "stageDistribution",
  options?: { readonly maxEntries?: number | undefined }
): StageLocation =>
  options?.maxEntries === undefined
    ? { _tag: "BodyDistribution", field }
    : { _tag: "BodyDistribution", field, maxEntries: options.maxEntries }

/**
 * A JSON body field holding one stage. A rejection answers `INVALID_STAGE`.
 *
 * @example
 * ```ts
 * import { StageLocation } from "stage-normalization/http"
 * StageLocation.bodyStage("stage") // => { _tag: "BodyStage", field: "stage" }
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const bodyStage = (field: string = "stage"): StageLocation => ({ _tag: "BodyStage", field })

/**
 * A query parameter holding one stage per occurrence. A rejection answers `INVALID_STAGE`.
 *
 * @example
 * ```ts
 * import { StageLocation } from "stage-normalization/http"
 * StageLocation.queryStage() // => { _tag: "QueryStage", param: "stage" }
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const queryStage = (param: string = "stage"): StageLocation => ({ _tag: "QueryStage", param })

/**
 * Whether the location needs the request body.
 *
 * @example
 * ```ts
 * import { StageLocation } from "stage-normalization/http"
 * StageLocation.readsBody(StageLocation.queryStage()) // => false
 * ```
 * @since 0.1.0
 * @category guards
 */
export const readsBody = (location: StageLocation): boolean => location._tag !== "QueryStage"
