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
 * **Always gets through** (ARCHITECTURE: safer is always possible): each shared-store command
 * may take up to `storeTimeout` (5 s by default, not the 100 ms of the background reads), so a
 * slow store delays a downgrade instead of refusing it; a stored document this version cannot
 * decode is replaced by the downgraded one (the store's `modify`); and every attempt that still
 * fails is counted in `stage_validation_downgrade_failures_total{reason}` and logged
 * (`stage_validation.downgrade_failed`), which the `StageValidationDowngradeFailing` alert watches.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Metric } from "effect"
import { DOWNGRADE_FAILURE_REASONS, downgradeFailuresTotal } from "../observability/DowngradeMetrics.ts"
import type { AuditSource } from "./AuditLog.ts"
import { AUDIT_TEXT_MAX_LENGTH, escapeAuditText } from "./AuditText.ts"
import type { Mode, RolloutDocument } from "./Config.ts"
import type { BackfillNotVerifiedError } from "./FinalisationGuard.ts"
import { ModeStore } from "./ModeStore.ts"
import type { ModeStoreError } from "./ModeStoreError.ts"
import { withStoreTimeout } from "./internal/storeTimeout.ts"

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
  /** how long each shared-store command may take; default {@link DEFAULT_DOWNGRADE_STORE_TIMEOUT} */
  readonly storeTimeout?: Duration.Input | undefined
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
 * Default store timeout of a downgrade: 5 seconds per shared-store command (the store's own
 * timeouts apply when they are longer). A safer action waits for a slow store instead of being
 * refused by the 100 ms the background reads allow.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { DEFAULT_DOWNGRADE_STORE_TIMEOUT } from "stage-normalization/rollout"
 * Duration.toSeconds(DEFAULT_DOWNGRADE_STORE_TIMEOUT) // => 5
 * ```
 * @since 0.3.0
 * @category constants
 */
export const DEFAULT_DOWNGRADE_STORE_TIMEOUT: Duration.Duration = Duration.seconds(5)

const failureReason = (error: ModeStoreError | BackfillNotVerifiedError): DowngradeFailureReason => {
  if (error._tag === "BackfillNotVerifiedError") return "refused"
  switch (error.reason._tag) {
    case "Unavailable":
      return "unavailable"
    case "VersionConflict":
      return "conflict"
    case "InvalidDocument":
      return "invalid_document"
  }
}

type DowngradeFailureReason = (typeof DOWNGRADE_FAILURE_REASONS)[number]

const failureCounters = new Map<DowngradeFailureReason, Metric.Counter<number>>(
  DOWNGRADE_FAILURE_REASONS.map((reason) => [reason, Metric.withAttributes(downgradeFailuresTotal, { reason })])
)

const countFailure = (error: ModeStoreError | BackfillNotVerifiedError) =>
  Effect.andThen(
    Metric.update(failureCounters.get(failureReason(error))!, 1),
    Effect.logError({
      event: "stage_validation.downgrade_failed",
      message: "the downgrade did not get through; the caller should retry (Alertmanager does on a 5xx)",
      reason: failureReason(error),
      error: error.message
    }).pipe(Effect.annotateLogs({ event: "stage_validation.downgrade_failed" }))
  )

/**
 * Applies the downgrade policy through the `ModeStore`, every shared-store command allowed up to
 * `storeTimeout` (default {@link DEFAULT_DOWNGRADE_STORE_TIMEOUT}). A stored document this
 * version cannot read does not stop it: the store's `modify` replaces it with the downgraded
 * document. Every failure is counted in `stage_validation_downgrade_failures_total{reason}`.
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
  return yield* applyDowngrade(request).pipe(
    withStoreTimeout(request.storeTimeout ?? DEFAULT_DOWNGRADE_STORE_TIMEOUT),
    Effect.tapError(countFailure)
  )
})

const safeText = (text: string): string => {
  const escaped = escapeAuditText(text).slice(0, AUDIT_TEXT_MAX_LENGTH)
  return escaped.trim().length > 0 ? escaped : "(blank)"
}

const applyDowngrade = Effect.fnUntraced(function*(request: DowngradeRequest) {
  const store = yield* ModeStore
  // The reason may quote the alert's payload (its groupKey): escaped and bounded here, so the
  // store's audit-text check can never refuse the one change that makes the rollout safer
  const meta = { actor: safeText(request.actor ?? request.source), reason: safeText(request.reason), source: request.source }

  if (request.signal === "resolved") {
    yield* store.audit({ ...meta, action: "resolved", outcome: "ignored" })
    return { outcome: "ignored", document: store.current() } satisfies DowngradeResult
  }

  // `modify` reads the shared document (replacing one this version cannot decode) and writes the
  // downgraded one; it changes nothing when nothing enforces any more
  const { document, entry } = yield* store.modify({ ...meta, action: "downgrade", update: downgradeDocument })
  if (entry !== undefined) return { outcome: "downgraded", document } satisfies DowngradeResult

  // Nothing left to downgrade. Within the cooldown a repeat of the same reason is labelled a
  // duplicate, but a firing that meets enforcement again (a person re-armed it and the incident
  // came back) always downgrades above: the safety net is never switched off by a timer.
  // Alertmanager's redeliveries of one notification are deduplicated before this, by the
  // webhook's idempotency key.
  const cooldown = Duration.fromInputUnsafe(request.cooldown ?? DEFAULT_DOWNGRADE_COOLDOWN)
  const now = yield* Clock.currentTimeMillis
  const recent = yield* store.history(200).pipe(Effect.orElseSucceed(() => []))
  const inCooldown = recent.some((e) =>
    e.outcome === "applied" && e.action === "downgrade" && e.reason === meta.reason &&
    now - Date.parse(e.at) < Duration.toMillis(cooldown)
  )
  const outcome = inCooldown ? "duplicate" : "already_downgraded"
  // the fleet is safe whatever happens to this record: a store that cannot take it is logged,
  // not a failed downgrade
  yield* store.audit({
    ...meta,
    reason: safeText(`${request.reason} (${inCooldown ? "repeat within the cooldown" : "already downgraded: nothing is enforcing"})`),
    action: "downgrade",
    outcome
  }).pipe(
    Effect.catch((error) =>
      Effect.logWarning({ event: "stage_validation.downgrade_audit_failed", outcome, error: error.message })
    )
  )
  return { outcome, document } satisfies DowngradeResult
})
