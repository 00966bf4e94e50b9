/**
 * Where a route carries its stage data, declared once per route: a JSON body field holding a
 * distribution (`stageDistribution`), a JSON body field holding one stage (`stage`), or a query
 * parameter (`?stage=…`, possibly repeated).
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category models
 */
export type StageLocation =
  | { readonly _tag: "BodyDistribution"; readonly field: string }
  | { readonly _tag: "BodyStage"; readonly field: string }
  | { readonly _tag: "QueryStage"; readonly param: string }

/**
 * A JSON body field holding a distribution (`[{ stage, weight }, …]` or `{ stage: weight }`).
 * A rejection answers `INVALID_STAGE_DISTRIBUTION`.
 *
 * @example
 * ```ts
 * import { StageLocation } from "stage-normalization/http"
 * StageLocation.bodyDistribution("stageDistribution")
 * // => { _tag: "BodyDistribution", field: "stageDistribution" }
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const bodyDistribution = (field: string = "stageDistribution"): StageLocation => ({
  _tag: "BodyDistribution",
  field
})

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
