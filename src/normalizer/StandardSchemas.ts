/**
 * The stage and distribution schemas as Standard Schema V1 (https://standardschema.dev), so a
 * host on Hono's `@hono/standard-validator`, tRPC or any other Standard Schema consumer validates
 * with them without writing Effect:
 *
 * - {@link StageStandardSchema}: a stage string → its `CanonicalStage`.
 * - {@link StageDistributionStandardSchema}: either distribution form → the normalised
 *   `{ stage, weight }` list.
 *
 * Both are effect's own `Schema.toStandardSchemaV1` over {@link Stage} / {@link StageDistribution}:
 * the same (JIT-compiled) decoding, still usable as Effect schemas. `validate` answers
 * synchronously. A failure is `{ issues }`, each with the `path` to the offending entry (`[]` for
 * the value itself) and the message the Effect schema gives, suggestions included.
 *
 * @since 0.4.0
 */
import { Schema } from "effect"
import { Stage, StageDistribution } from "./Schemas.ts"

/**
 * {@link Stage} as a Standard Schema V1: output is the canonical stage; an unknown stage fails
 * with one issue whose message names the suggestions.
 *
 * @example
 * ```ts
 * import { StageStandardSchema } from "stage-normalization"
 *
 * StageStandardSchema["~standard"].validate("Series A") // => { value: "series-a" }
 * StageStandardSchema["~standard"].validate("series-x")
 * // => { issues: [{ path: [], message: 'unknown stage "series-x"; did you mean "series-a", "series-b", "series-c"?' }] }
 * ```
 *
 * @since 0.4.0
 * @category schemas
 */
export const StageStandardSchema = Schema.toStandardSchemaV1(Stage)

/**
 * {@link StageDistribution} as a Standard Schema V1: output is the normalised, merged, canonically
 * ordered `{ stage, weight }` list; failures carry one issue per offending entry, with its path
 * (the array index and `"stage"`/`"weight"`, or the object key), or one issue at `[]` for a sum off
 * 1 by more than 1e-6.
 *
 * @example
 * ```ts
 * import { StageDistributionStandardSchema } from "stage-normalization"
 *
 * StageDistributionStandardSchema["~standard"].validate({ "Series A": 0.5, seed: 0.5 })
 * // => { value: [{ stage: "seed", weight: 0.5 }, { stage: "series-a", weight: 0.5 }] }
 * StageDistributionStandardSchema["~standard"].validate([{ stage: "seed", weight: 0.5 }, { stage: "bogus", weight: 0.5 }])
 * // => { issues: [{ path: [1, "stage"], message: 'unknown stage "bogus"' }] }
 * ```
 *
 * @since 0.4.0
 * @category schemas
 */
export const StageDistributionStandardSchema = Schema.toStandardSchemaV1(StageDistribution)
