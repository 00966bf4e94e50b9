/**
 * The downgrade policy (the Alertmanager webhook's action, also available to operators):
 * enforce → warn, so that nothing is rejected any more.
 *
 * - **What changes:** every `enforce` (default mode and endpoint overrides) becomes `warn`, and
 *   `enforceWriteOnly` is turned off (it makes writes enforce). Shadow mode, the percentage and the
 *   rest are kept, so a person can promote again from where the rollout stood.
 * - **Idempotent:** a document that already rejects nothing is left alone. A repeat — the same
 *   `reason` (the webhook derives it from the alert) as a downgrade applied less than the cooldown
 *   ago — is audited as a `duplicate` (Alertmanager re-sends while an alert fires); any other
 *   request, such as a new, distinct alert firing while already in warn, is audited as
 *   `already_downgraded`: nothing to do, and not a repeat either.
 * - **Never switched off by a timer:** a firing that meets enforcement again (someone re-promoted
 *   and the incident came back) always downgrades, within the cooldown or not.
 * - **Resolved never re-arms:** a `resolved` signal is audited as `ignored` and changes nothing;
 *   re-enabling enforcement is a person's decision (`promote` / `set`).
 *
 * The cooldown is read from the shared audit history, so it holds across instances.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect } from "effect"
import type { AuditSource } from "./AuditLog.ts"
import type { Mode, RolloutDocument } from "./Config.ts"
import type { BackfillNotVerifiedError } from "./FinalisationGuard.ts"
import { ModeStore } from "./ModeStore.ts"
import type { ModeStoreError } from "./ModeStoreError.ts"

const soften = (mode: Mode): Mode => (mode === "enforce" ? "warn" : mode)

/**
 * The document with nothing rejecting: `enforce` → `warn` everywhere, `enforceWriteOnly` off.
 *
 * @example
 * ```ts
 * import { PRODUCTION_CONFIG } from "stage-normalization/rollout"
 * import { downgradeDocument } from "./Downgrade.ts" // internal: not part of the package's API
 * const d = downgradeDocument(PRODUCTION_CONFIG)
 * d.endpointMode["/api/portfolio/strategies"] // => "warn"
 * d.enforceWriteOnly // => false
 * ```
 * @since 0.1.0
 * @category downgrade
 */
export const downgradeDocument = (doc: RolloutDocument): RolloutDocument => {
  const endpointMode: Record<string, Mode> = {}
  for (const [template, mode] of Object.entries(doc.endpointMode)) endpointMode[template] = soften(mode)
  return { ...doc, defaultMode: soften(doc.defaultMode), endpointMode, enforceWriteOnly: false }
}

/**
 * Default cooldown within which repeated downgrades are duplicates: 10 minutes.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { DEFAULT_DOWNGRADE_COOLDOWN } from "stage-normalization/rollout"
 * Duration.toMinutes(DEFAULT_DOWNGRADE_COOLDOWN) // => 10
 * ```
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_DOWNGRADE_COOLDOWN: Duration.Duration = Duration.minutes(10)

/**
 * A downgrade request. `signal: "resolved"` records the resolution and changes nothing.
 *
 * @example
 * ```ts
 * import type { DowngradeRequest } from "stage-normalization/rollout"
 * const request: DowngradeRequest = { reason: "StageValidationBlastRadius firing", source: "webhook", cooldown: "10 minutes" }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface DowngradeRequest {
  readonly reason: string
  readonly source: AuditSource
  /** default: the source (e.g. "webhook") */
  readonly actor?: string | undefined
  readonly signal?: "firing" | "resolved" | undefined
  readonly cooldown?: Duration.Input | undefined
}

/**
 * What happened: `downgraded`, `duplicate` (a repeat of the same reason within the cooldown,
 * nothing enforcing), `already_downgraded` (a new request while nothing was enforcing any more),
 * or `ignored` (a resolved signal).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { downgrade } from "stage-normalization/rollout"
 * const program = downgrade({ reason: "alert", source: "webhook" }).pipe(Effect.map((r) => r.outcome))
 * ```
 * @since 0.1.0
 * @category models
 */
export interface DowngradeResult {
  readonly outcome: "downgraded" | "duplicate" | "already_downgraded" | "ignored"
  readonly document: RolloutDocument
}

/**
 * Applies the downgrade policy through the `ModeStore`.
 *
 * @example
 * ```ts
 * import { downgrade } from "stage-normalization/rollout"
 * const program = downgrade({ reason: "StageValidationBlastRadius firing", source: "webhook" })
 * ```
 * @since 0.1.0
 * @category downgrade
 */
export const downgrade = Effect.fn("downgrade")(function*(
  request: DowngradeRequest
): Effect.fn.Return<DowngradeResult, ModeStoreError | BackfillNotVerifiedError, ModeStore> {
  const store = yield* ModeStore
  const meta = { actor: request.actor ?? request.source, reason: request.reason, source: request.source }

  if (request.signal === "resolved") {
    yield* store.audit({ ...meta, action: "resolved", outcome: "ignored" })
    return { outcome: "ignored", document: store.current() } satisfies DowngradeResult
  }

  // a stored document this version cannot read never blocks the downgrade: `modify` replaces it
  // (audited, the unreadable original kept in the entry) with the downgraded last agreed document
  const current = yield* store.refresh.pipe(
    Effect.catchIf((error) => error.reason._tag === "InvalidDocument", () => Effect.succeed(undefined))
  )
  const nothingToDo = current !== undefined && JSON.stringify(downgradeDocument(current)) === JSON.stringify(current)

  // Only a document with nothing left to downgrade makes a firing a duplicate. Within the cooldown
  // a repeat is labelled as such, but a firing that meets enforcement again (a person re-armed it
  // and the incident came back) always downgrades: the safety net is never switched off by a
  // timer. Alertmanager's redeliveries of one notification are deduplicated before this, by the
  // webhook's idempotency key.
  if (nothingToDo) {
    const cooldown = Duration.fromInputUnsafe(request.cooldown ?? DEFAULT_DOWNGRADE_COOLDOWN)
    const now = yield* Clock.currentTimeMillis
    const recent = yield* store.history(200).pipe(Effect.orElseSucceed(() => []))
    const inCooldown = recent.some((entry) =>
      entry.outcome === "applied" && entry.action === "downgrade" && entry.reason === request.reason &&
      now - Date.parse(entry.at) < Duration.toMillis(cooldown)
    )
    const outcome = inCooldown ? "duplicate" : "already_downgraded"
    yield* store.audit({
      ...meta,
      reason: `${request.reason} (${inCooldown ? "repeat within the cooldown" : "already downgraded: nothing is enforcing"})`,
      action: "downgrade",
      outcome
    })
    return { outcome, document: current } satisfies DowngradeResult
  }

  const { document, entry } = yield* store.modify({ ...meta, action: "downgrade", update: downgradeDocument })
  if (entry !== undefined) return { outcome: "downgraded", document } satisfies DowngradeResult
  // another writer downgraded first: nothing was left to do
  yield* store.audit({
    ...meta,
    reason: `${request.reason} (already downgraded: nothing is enforcing)`,
    action: "downgrade",
    outcome: "already_downgraded"
  })
  return { outcome: "already_downgraded", document } satisfies DowngradeResult
})
