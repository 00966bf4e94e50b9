/**
 * The finalisation guard: moving **reads** into enforcement requires a migrated and verified
 * backfill. Write-only enforcement (seed phase 2.5) is always allowed — it is what stops new dirt
 * while the migration runs — and so is shadow mode, which never rejects.
 *
 * A document "enforces reads" when reads can actually get a 400: not `enforceWriteOnly`, not
 * `dryRun`, `enforcementPercent > 0`, and the default mode or some endpoint override is `enforce`
 * (a template can serve GET, so any enforce override counts). A change is guarded when it
 * *increases* read enforcement: a higher percentage, or a route enforcing reads that did not
 * before. Lowering the percentage or unrelated edits stay possible on a document that already
 * enforces reads (for instance a boot document applied as given).
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { BackfillStatus } from "./BackfillStatus.ts"
import type { StageValidationConfig } from "./Config.ts"

/**
 * The read-enforcement footprint of a config: the percentage and the routes (route templates, and
 * `"*"` for the default mode) whose reads can be rejected. Empty routes and percent 0 when reads
 * never are.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * readEnforcementOf({ ...DEFAULT_DOCUMENT, endpointMode: { "/api/x": "enforce" }, enforcementPercent: 10 }).percent // => 10
 * ```
 * @since 0.1.0
 * @category models
 */
interface ReadEnforcement {
  readonly percent: number
  readonly routes: ReadonlySet<string>
}

/**
 * Computes the read-enforcement footprint of a config.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * readEnforcementOf({ ...DEFAULT_DOCUMENT, defaultMode: "enforce" }).routes.has("*") // => true
 * readEnforcementOf({ ...DEFAULT_DOCUMENT, defaultMode: "enforce", enforceWriteOnly: true }).percent // => 0
 * ```
 * @since 0.1.0
 * @category guards
 */
const readEnforcementOf = (config: StageValidationConfig): ReadEnforcement => {
  if (config.enforceWriteOnly || config.dryRun || !(config.enforcementPercent > 0)) {
    return { percent: 0, routes: new Set() }
  }
  const routes = new Set<string>()
  if (config.defaultMode === "enforce") routes.add("*")
  for (const [template, mode] of Object.entries(config.endpointMode)) {
    if (mode === "enforce") routes.add(template)
  }
  return routes.size === 0 ? { percent: 0, routes } : { percent: config.enforcementPercent, routes }
}

/**
 * Whether reads can be rejected under a config.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT, enforcesReads } from "stage-normalization/rollout"
 * enforcesReads(DEFAULT_DOCUMENT) // => false
 * enforcesReads({ ...DEFAULT_DOCUMENT, defaultMode: "enforce" }) // => true
 * ```
 * @since 0.1.0
 * @category guards
 */
export const enforcesReads = (config: StageValidationConfig): boolean => readEnforcementOf(config).percent > 0

/**
 * Whether going from `from` to `to` moves more reads into enforcement.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * const at10 = { ...DEFAULT_DOCUMENT, defaultMode: "enforce" as const, enforcementPercent: 10 }
 * increasesReadEnforcement(at10, { ...at10, enforcementPercent: 25 }) // => true
 * increasesReadEnforcement(at10, { ...at10, enforcementPercent: 5 }) // => false
 * ```
 * @since 0.1.0
 * @category guards
 */
const increasesReadEnforcement = (from: StageValidationConfig | null, to: StageValidationConfig): boolean => {
  const after = readEnforcementOf(to)
  if (after.percent === 0) return false
  if (from === null) return true
  const before = readEnforcementOf(from)
  if (after.percent > before.percent) return true
  if (before.routes.has("*")) return false
  for (const route of after.routes) {
    if (!before.routes.has(route)) return true
  }
  return false
}

/**
 * A change that would move reads into enforcement was refused: the backfill is not migrated and
 * verified. Re-run with `force` (audited) to override.
 *
 * @example
 * ```ts
 * import { BackfillNotVerifiedError } from "stage-normalization/rollout"
 * const e = new BackfillNotVerifiedError({ migrated: true, verified: false, detail: "verification pending" })
 * e.message.includes("not verified") // => true
 * ```
 * @since 0.1.0
 * @category errors
 */
export class BackfillNotVerifiedError extends Schema.TaggedError<BackfillNotVerifiedError>(
  "stage-normalization/rollout/BackfillNotVerifiedError"
)("BackfillNotVerifiedError", {
  migrated: Schema.Boolean,
  verified: Schema.Boolean,
  detail: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const state = !this.migrated ? "not migrated" : "migrated but not verified"
    return `refusing to enforce stage validation on reads: the historical data is ${state}` +
      (this.detail !== undefined ? ` (${this.detail})` : "") +
      "; reads filtered by a canonical stage would miss unmigrated rows. Finish and verify the migration, " +
      "keep enforceWriteOnly, or force the change (audited)."
  }
}

/**
 * Runs the guard for a change: succeeds with `{ guarded, forced }` when allowed, fails with
 * {@link BackfillNotVerifiedError} when reads would move into enforcement before the backfill is
 * verified and `force` is not set. A failing status check counts as "not verified" (fail-closed).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BACKFILL_PENDING, BackfillStatus, DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * import { checkFinalisation } from "./FinalisationGuard.ts" // internal: not part of the package's API
 * const refused = checkFinalisation(DEFAULT_DOCUMENT, { ...DEFAULT_DOCUMENT, defaultMode: "enforce" }, false).pipe(
 *   Effect.flip, Effect.provide(BackfillStatus.layerMemory(BACKFILL_PENDING))
 * )
 * ```
 * @since 0.1.0
 * @category guards
 */
export const checkFinalisation = Effect.fnUntraced(function*(
  from: StageValidationConfig | null,
  to: StageValidationConfig,
  force: boolean
) {
  if (!increasesReadEnforcement(from, to)) return { guarded: false, forced: false }
  const backfill = yield* BackfillStatus
  const state = yield* backfill.status.pipe(
    Effect.catch((error) =>
      Effect.succeed({ migrated: false, verified: false, detail: `backfill status unavailable: ${error.message}` })
    )
  )
  if (state.migrated && state.verified) return { guarded: true, forced: false }
  if (force) return { guarded: true, forced: true }
  return yield* new BackfillNotVerifiedError({
    migrated: state.migrated,
    verified: state.verified,
    ...(state.detail !== undefined ? { detail: state.detail } : {})
  })
})
