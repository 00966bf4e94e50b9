/**
 * The Alertmanager webhook payload, version "4" (prometheus.io/docs/alerting/latest/configuration
 * /#webhook_config), as an Effect Schema. Unknown fields are tolerated (decoding ignores them), so
 * a newer Alertmanager adding fields keeps working; the fields the downgrade needs are required.
 *
 * The idempotency key of a delivery is `groupKey|status|fingerprint:startsAt,…` with the
 * alerts sorted, plus `|webhook-id` when the delivery was signed: Alertmanager delivers at least
 * once and re-sends the same group, so a key seen before means "already handled".
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * One alert of a notification.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AlertmanagerAlert = Schema.Struct({
  status: Schema.Literals(["firing", "resolved"]),
  labels: Schema.Record(Schema.String, Schema.String),
  annotations: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  startsAt: Schema.String,
  endsAt: Schema.optionalKey(Schema.String),
  generatorURL: Schema.optionalKey(Schema.String),
  fingerprint: Schema.String
})

/**
 * The webhook body (version 4).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AlertmanagerPayload } from "stage-normalization/http"
 * const payload = Schema.decodeUnknownSync(AlertmanagerPayload)({
 *   version: "4", groupKey: "{}:{alertname=\"StageValidationBlastRadius\"}", status: "firing",
 *   receiver: "stage-validation-webhook", extra: "ignored",
 *   alerts: [{ status: "firing", labels: { alertname: "StageValidationBlastRadius" },
 *              startsAt: "2026-01-19T10:00:00Z", fingerprint: "a1b2c3" }]
 * })
 * payload.alerts.length // => 1
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const AlertmanagerPayload = Schema.Struct({
  version: Schema.Literal("4"),
  groupKey: Schema.String,
  truncatedAlerts: Schema.optionalKey(Schema.Number),
  status: Schema.Literals(["firing", "resolved"]),
  receiver: Schema.optionalKey(Schema.String),
  groupLabels: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  commonLabels: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  commonAnnotations: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  externalURL: Schema.optionalKey(Schema.String),
  alerts: Schema.Array(AlertmanagerAlert)
})

/**
 * @since 0.1.0
 * @category models
 */
export type AlertmanagerPayload = typeof AlertmanagerPayload.Type

/**
 * The delivery's idempotency key (see the module notes).
 *
 * @example
 * ```ts
 * import { idempotencyKey } from "./AlertmanagerPayload.ts" // internal: not part of the package's API
 * idempotencyKey({
 *   groupKey: "g", status: "firing",
 *   alerts: [{ fingerprint: "b", startsAt: "t2" }, { fingerprint: "a", startsAt: "t1" }]
 * }, undefined)
 * // => "g|firing|a:t1,b:t2"
 * ```
 * @since 0.1.0
 * @category idempotency
 */
export const idempotencyKey = (
  payload: {
    readonly groupKey: string
    readonly status: string
    readonly alerts: ReadonlyArray<{ readonly fingerprint: string; readonly startsAt: string }>
  },
  webhookId: string | undefined
): string => {
  const alerts = payload.alerts.map((a) => `${a.fingerprint}:${a.startsAt}`).sort()
  const key = `${payload.groupKey}|${payload.status}|${alerts.join(",")}`
  return webhookId === undefined ? key : `${key}|${webhookId}`
}

/**
 * The firing alerts of a notification that carry the given `alertname` label.
 *
 * @example
 * ```ts
 * import { firingAlertsNamed } from "./AlertmanagerPayload.ts" // internal: not part of the package's API
 * firingAlertsNamed({ alerts: [{ status: "firing", labels: { alertname: "X" } }] }, "X").length // => 1
 * ```
 * @since 0.1.0
 * @category predicates
 */
export const firingAlertsNamed = <A extends { readonly status: string; readonly labels: Readonly<Record<string, string>> }>(
  payload: { readonly alerts: ReadonlyArray<A> },
  alertName: string
): ReadonlyArray<A> => payload.alerts.filter((a) => a.status === "firing" && a.labels["alertname"] === alertName)
