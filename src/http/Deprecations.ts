/**
 * `GET /api/deprecations`: the machine-readable list of deprecated stage spellings and the state
 * of their rollout (seed 001: `curl …/api/deprecations | jq '.items[0].current_mode'`).
 *
 * `items[0]` describes the stage vocabulary as a whole (`field: "stage"`, `current_mode` = the
 * document's default mode); one item per validated route follows, with the route's effective
 * mode (endpoint override, write-only enforcement and shadow mode applied; `enforcement_percent`
 * says which share of its requests enforce). Dates are ISO-8601; `sunset` is `null` until one is
 * configured. The deprecated variants come from the alias table (the single source of truth).
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { HttpServerResponse } from "effect/http"
import { STAGE_ALIASES } from "../normalizer/StageAliases.ts"
import { CANONICAL_STAGES } from "../normalizer/Stages.ts"
import type { RolloutDocument } from "../rollout/Config.ts"
import { getValidationDecision } from "../rollout/Decision.ts"
import { ModeStore } from "../rollout/ModeStore.ts"
import { headerConstants } from "./StageHeaders.ts"
import type { StageRoute } from "./StageValidation.ts"

/**
 * A validated route as listed: method, template and stage declaration.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListedRoute extends StageRoute {
  readonly method: string
}

const fieldOf = (route: StageRoute): string => {
  const location = route.location
  return location._tag === "QueryStage" ? `query:${location.param}` : location.field
}

/**
 * Builds the `/api/deprecations` body for a document and the validated routes.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"

 * deprecationsBody(DEFAULT_DOCUMENT, []).items[0]!.current_mode // => "warn"
 * ```
 * @since 0.1.0
 * @category constructors
 */
const deprecationsBody = (doc: RolloutDocument, routes: ReadonlyArray<ListedRoute>) => {
  const c = headerConstants(doc)
  const deprecation = new Date(c.deprecationSeconds * 1000).toISOString()
  const sunset = c.sunsetSeconds === undefined ? null : new Date(c.sunsetSeconds * 1000).toISOString()
  const variants = STAGE_ALIASES.map((a) => a.alias)
  const aliases = STAGE_ALIASES.map((a) => ({ alias: a.alias, stage: a.stage, since: a.since }))
  const common = {
    deprecated_variants: variants,
    canonical_stages: CANONICAL_STAGES,
    deprecation_date: deprecation,
    sunset_date: sunset,
    docs: c.docs
  }
  // Effective mode of a route for a request in the enforced set (percentage aside).
  const full = { ...doc, enforcementPercent: 100 }
  return {
    version: doc.version,
    current_mode: doc.defaultMode,
    dry_run: doc.dryRun,
    enforce_write_only: doc.enforceWriteOnly,
    enforcement_percent: doc.enforcementPercent,
    items: [
      { field: "stage", endpoint: null, method: null, current_mode: doc.defaultMode, ...common, aliases },
      ...routes.map((route) => {
        const decision = getValidationDecision(full, { method: route.method, path: route.endpoint, requestId: "deprecations" })
        return {
          field: fieldOf(route),
          endpoint: route.endpoint,
          method: route.method,
          operation: decision.operation,
          current_mode: decision.mode,
          dry_run: decision.isDryRun,
          enforcement_percent: decision.mode === "enforce" ? doc.enforcementPercent : 0,
          ...common
        }
      })
    ]
  }
}

/**
 * The route handler: reads the ModeStore's in-process document.
 *
 * @example
 * ```ts
 * import { HttpRouter } from "effect/http"
 * import { deprecationsHandler } from "stage-normalization/http"
 * const Route = HttpRouter.add("GET", "/api/deprecations", deprecationsHandler([]))
 * ```
 * @since 0.1.0
 * @category handlers
 */
export const deprecationsHandler = (routes: ReadonlyArray<ListedRoute>) =>
  ModeStore.use((store) => Effect.succeed( HttpServerResponse.jsonUnsafe(deprecationsBody(store.current(), routes))))
