/**
 * `POST /_ops/stage-validation/auto-downgrade`: the Alertmanager webhook receiver that turns a
 * firing blast-radius alert into enforce → warn (seeds 002/004, ADR-003).
 *
 * Steps, each answering on failure (and counting `stage_validation_webhook_total{outcome}`):
 *
 * 1. raw body ≤ 1 MiB, else 413 (`invalid`);
 * 2. authentication over the raw bytes: bearer token or Standard Webhooks signature, else 401
 *    (`unauthorized`; Alertmanager does not retry a 4xx);
 * 3. `content-type` JSON, else 415; UTF-8 JSON decoding to the version-4 payload schema, else 400
 *    (`invalid`);
 * 4. idempotency: the delivery key (`groupKey|status|sorted(fingerprint:startsAt)`, plus the
 *    `webhook-id` when signed) recorded as handled within the TTL → 200 `duplicate`. The key is
 *    recorded only **after** the downgrade committed (check → downgrade → commit, see
 *    `WebhookDeduplication`), so a delivery that timed out or failed is never answered
 *    `duplicate` on retry. A deduplication store that does not answer does not stop the
 *    delivery: the downgrade is idempotent, so the webhook acts anyway (logged);
 * 5. a firing alert with the configured name → the rollout's `downgrade` (itself idempotent with
 *    a cooldown; each store command may take up to 5 s, and an unreadable stored document is
 *    replaced) → 200 `downgraded`; when nothing was enforcing any more, 200 `already_downgraded`
 *    for a new alert, or `duplicate` for a repeat of the same alert within the cooldown; a resolved
 *    notification for it → audited, 200 `resolved`, never re-arms; other alerts → 200 `ignored`.
 *    If the downgrade does not get through, the answer is 503 (`unavailable`; Alertmanager
 *    retries), nothing is recorded as handled, and `stage_validation_downgrade_failures_total`
 *    counts it. Steps 4–5 are uninterruptible: a caller that hangs up (Alertmanager's own
 *    timeout) does not cancel a downgrade half-way.
 *
 * @since 0.1.0
 */
import { Effect, Metric, Schema } from "effect"
import type { HttpServerRequest, HttpServerResponse } from "effect/http"
import { WEBHOOK_OUTCOME_LABELS, webhookTotal } from "../../observability/metrics.ts"
import { downgrade } from "../../rollout/Downgrade.ts"
import type { ModeStore } from "../../rollout/ModeStore.ts"
import { requestErrorBody } from "../ErrorBody.ts"
import { AlertmanagerPayload, firingAlertsNamed, idempotencyKey } from "./AlertmanagerPayload.ts"
import { OpsConfig } from "./OpsConfig.ts"
import { isJsonContentType, opsJson, parseJsonBody, readOpsRequest, rejectionResponse } from "./OpsRequest.ts"
import { WebhookDeduplication } from "./WebhookDeduplication.ts"

/**
 * The values of the `outcome` label of `stage_validation_webhook_total` (and of the handler's
 * `outcome` answer): `downgraded`; `already_downgraded` (a new firing alert, but nothing was
 * enforcing any more); `duplicate` (a redelivery, or the same alert again within the cooldown);
 * `resolved`; `ignored` (another alert); `unauthorized`; `invalid`; `unavailable`.
 *
 * @example
 * ```ts
 * import type { WebhookOutcome } from "stage-normalization/http"
 * const outcome: WebhookOutcome = "already_downgraded"
 * ```
 * @since 0.1.0
 * @category models
 */
export type WebhookOutcome =
  | "downgraded"
  | "already_downgraded"
  | "duplicate"
  | "resolved"
  | "ignored"
  | "unauthorized"
  | "invalid"
  | "unavailable"

// the metric catalogue registers exactly these label values
const sameOutcomes: [WebhookOutcome, (typeof WEBHOOK_OUTCOME_LABELS)[number]] extends
  [(typeof WEBHOOK_OUTCOME_LABELS)[number], WebhookOutcome] ? true : never = true
void sameOutcomes

/**
 * Every {@link WebhookOutcome}.
 *
 * @example
 * ```ts
 * import { WEBHOOK_OUTCOMES } from "stage-normalization/http"
 * WEBHOOK_OUTCOMES.includes("already_downgraded") // => true
 * ```
 * @since 0.1.0
 * @category constants
 */
export const WEBHOOK_OUTCOMES: ReadonlyArray<WebhookOutcome> = WEBHOOK_OUTCOME_LABELS

const outcomeCounters = new Map<WebhookOutcome, Metric.Counter<number>>(
  WEBHOOK_OUTCOMES.map((outcome) => [outcome, Metric.withAttributes(webhookTotal, { outcome })])
)

const count = (outcome: WebhookOutcome) => Metric.update(outcomeCounters.get(outcome)!, 1)

/**
 * Pre-registers every outcome series at zero (so `rate()` sees the first delivery).
 *
 * @since 0.1.0
 * @category metrics
 */
export const registerWebhookSeries: Effect.Effect<void> = Effect.forEach(
  WEBHOOK_OUTCOMES,
  (outcome) => Metric.update(outcomeCounters.get(outcome)!, 0),
  { discard: true }
)

const decodePayload = Schema.decodeUnknownExit(AlertmanagerPayload)

const answer = (outcome: WebhookOutcome, response: HttpServerResponse.HttpServerResponse) =>
  Effect.as(count(outcome), response)

/**
 * The route handler (see the module notes).
 *
 * @example
 * ```ts
 * import { HttpRouter } from "effect/http"
 * import { autoDowngradeHandler } from "stage-normalization/http"
 * const Route = HttpRouter.add("POST", "/_ops/stage-validation/auto-downgrade", autoDowngradeHandler)
 * ```
 * @since 0.1.0
 * @category handlers
 */
export const autoDowngradeHandler: Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  HttpServerRequest.HttpServerRequest | OpsConfig | WebhookDeduplication | ModeStore
> = Effect.gen(function*() {
  const read = yield* Effect.result(readOpsRequest)
  if (read._tag === "Failure") {
    return yield* answer(read.failure._tag === "Unauthorized" ? "unauthorized" : "invalid", rejectionResponse(read.failure, read.failure.requestId))
  }
  const request = read.success
  const requestId = request.requestId
  if (!isJsonContentType(request.headers["content-type"])) {
    return yield* answer(
      "invalid",
      opsJson(415, requestErrorBody("UNSUPPORTED_MEDIA_TYPE", "expected content-type: application/json"), requestId)
    )
  }
  const parsed = parseJsonBody(request.body)
  if (!parsed.ok) return yield* answer("invalid", opsJson(400, requestErrorBody("INVALID_PAYLOAD", parsed.message), requestId))
  const decoded = decodePayload(parsed.value)
  if (decoded._tag === "Failure") {
    return yield* answer(
      "invalid",
      opsJson(400, requestErrorBody("INVALID_PAYLOAD", "not an Alertmanager webhook payload (version 4)"), requestId)
    )
  }
  // Uninterruptible: a caller that hangs up (Alertmanager's own timeout) must not cancel a
  // downgrade half-way; every step is bounded by its store timeout.
  return yield* Effect.uninterruptible(deliver(decoded.value, idempotencyKey(decoded.value, request.webhookId), requestId))
})

/** Steps 4 and 5 for an authenticated, decoded payload: check → act → commit. */
const deliver = Effect.fnUntraced(function*(payload: AlertmanagerPayload, key: string, requestId: string) {
  const config = yield* OpsConfig
  const dedup = yield* WebhookDeduplication
  const log = (event: string, annotations: Record<string, unknown>) =>
    Effect.annotateLogs({ event: "stage_validation.webhook", requestId, groupKey: payload.groupKey, ...annotations })(
      Effect.logInfo(`stage_validation.${event}`)
    )
  const seen = yield* Effect.result(dedup.seen(key))
  if (seen._tag === "Failure") {
    yield* Effect.logWarning("stage_validation.webhook_dedup_unavailable").pipe(
      Effect.annotateLogs({ event: "stage_validation.webhook", requestId, cause: seen.failure.message, action: "handled anyway" })
    )
  } else if (seen.success) {
    yield* log("webhook_duplicate", { outcome: "duplicate" })
    return yield* answer("duplicate", opsJson(200, { outcome: "duplicate" }, requestId))
  }
  // recorded only once the delivery was handled; a store that cannot take it is logged (the
  // redelivery then acts again, harmlessly)
  const handled = dedup.commit(key, config.deduplicationTtlSeconds).pipe(
    Effect.catch((error) =>
      Effect.logWarning("stage_validation.webhook_dedup_commit_failed").pipe(
        Effect.annotateLogs({ event: "stage_validation.webhook", requestId, cause: error.message })
      )
    )
  )

  const firing = firingAlertsNamed(payload, config.alertName)
  const resolved = payload.alerts.some((a) => a.status === "resolved" && a.labels["alertname"] === config.alertName)
  if (firing.length === 0 && !resolved) {
    yield* handled
    yield* log("webhook_ignored", { outcome: "ignored" })
    return yield* answer("ignored", opsJson(200, { outcome: "ignored", alertName: config.alertName }, requestId))
  }
  const signal = firing.length > 0 ? "firing" as const : "resolved" as const
  const result = yield* Effect.result(downgrade({
    reason: `${config.alertName} ${signal} (groupKey ${payload.groupKey.slice(0, 200)})`,
    source: "webhook",
    actor: "alertmanager",
    signal
  }))
  if (result._tag === "Failure") {
    yield* Effect.logError("stage_validation.webhook_downgrade_failed").pipe(
      Effect.annotateLogs({ event: "stage_validation.webhook", requestId, cause: result.failure.message })
    )
    return yield* answer("unavailable", opsJson(503, requestErrorBody("STORE_UNAVAILABLE", result.failure.message), requestId))
  }
  yield* handled
  const outcome: WebhookOutcome = signal === "resolved" ? "resolved" : result.success.outcome
  yield* log(`webhook_${outcome}`, { outcome })
  return yield* answer(outcome, opsJson(200, {
    outcome,
    mode: result.success.document.defaultMode,
    version: result.success.document.version
  }, requestId))
})
