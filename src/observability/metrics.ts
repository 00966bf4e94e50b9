/**
 * The metric catalogue: every metric the library records, defined once with its Prometheus name,
 * description and (low-cardinality) attribute names. Names follow ARCHITECTURE.md; alert rules and
 * dashboards refer to them, so a rename here is a breaking change.
 *
 * Label values are never raw user input: `endpoint` is a route template, `mode` a {@link Mode},
 * `result` / `outcome` / `status` / `source` small closed sets.
 *
 * @since 0.1.0
 */
import { Effect, Metric } from "effect"

/**
 * Histogram boundaries, in seconds, for sub-millisecond validator latencies: 25 µs … 100 ms.
 * The seeds' budget (p99 < 1 ms) sits in the middle of the range.
 *
 * @example
 * ```ts
 * import { VALIDATION_DURATION_BOUNDARIES } from "stage-normalization/observability"
 * VALIDATION_DURATION_BOUNDARIES.includes(0.001) // => true
 * ```
 * @since 0.1.0
 * @category constants
 */
export const VALIDATION_DURATION_BOUNDARIES: ReadonlyArray<number> = [
  0.000025,
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1
]

/** Every counter here only counts up (`incremental`): a Prometheus `_total`. */
const incrementalCounter = (name: string, description: string): Metric.Counter<number> =>
  Metric.counter(name, { description, incremental: true })

/**
 * `stage_validation_validations_total{endpoint,mode,result}`: one increment per validated request.
 * `result` ∈ `ok`, `normalized`, `invalid`, `rejected`, `would_reject`.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { validationsTotal } from "stage-normalization/observability"
 * const record = Metric.update(
 *   Metric.withAttributes(validationsTotal, { endpoint: "/api/portfolio/strategies", mode: "warn", result: "ok" }),
 *   1
 * )
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const validationsTotal: Metric.Counter<number> = incrementalCounter(
  "stage_validation_validations_total",
  "Stage validations by endpoint template, effective mode and result"
)

/**
 * `stage_validation_duration_seconds`: validator latency histogram (seconds), buckets
 * {@link VALIDATION_DURATION_BOUNDARIES}.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { validationDurationSeconds } from "stage-normalization/observability"
 * const observe = Metric.update(validationDurationSeconds, 0.00012)
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const validationDurationSeconds: Metric.Histogram<number> = Metric.histogram(
  "stage_validation_duration_seconds",
  {
    description: "Stage validation latency in seconds",
    boundaries: VALIDATION_DURATION_BOUNDARIES
  }
)

/**
 * `stage_validation_errors_total{endpoint}`: validator failures — an internal error while
 * validating, not the rejection of invalid input. The numerator of the seeds' error ratio and of
 * the promotion gate's `errorRatio`.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { validationErrorsTotal } from "stage-normalization/observability"
 * const record = Metric.update(Metric.withAttributes(validationErrorsTotal, { endpoint: "/api/allocations" }), 1)
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const validationErrorsTotal: Metric.Counter<number> = incrementalCounter(
  "stage_validation_errors_total",
  "Validator failures (internal errors, not rejections of invalid input), by endpoint template"
)

/**
 * `stage_warn_unknown_total{endpoint}`: unknown stage values seen while not rejecting.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { warnUnknownTotal } from "stage-normalization/observability"
 * const record = Metric.update(Metric.withAttributes(warnUnknownTotal, { endpoint: "/api/monte-carlo/simulate" }), 1)
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const warnUnknownTotal: Metric.Counter<number> = incrementalCounter(
  "stage_warn_unknown_total",
  "Unknown stage values accepted with a warning, by endpoint template"
)

/**
 * `stage_validation_mode{mode}`: gauge, 1 for the current default mode and 0 for the others.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { validationModeGauge } from "stage-normalization/observability"
 * const mark = Metric.update(Metric.withAttributes(validationModeGauge, { mode: "warn" }), 1)
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const validationModeGauge: Metric.Gauge<number> = Metric.gauge("stage_validation_mode", {
  description: "Current stage validation default mode (1 for the active mode, 0 otherwise)"
})

/**
 * `stage_validation_enforcement_percent`: gauge, the enforcement percentage this process serves.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { enforcementPercentGauge } from "stage-normalization/observability"
 * const mark = Metric.update(enforcementPercentGauge, 25)
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const enforcementPercentGauge: Metric.Gauge<number> = Metric.gauge("stage_validation_enforcement_percent", {
  description: "Share of traffic (0-100) in the enforced set"
})

/**
 * `stage_validation_mode_fetch_failures_total`: failed or timed-out reads of the shared rollout
 * document (the process keeps serving its last known value).
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { modeFetchFailuresTotal } from "stage-normalization/observability"
 * const count = Metric.value(modeFetchFailuresTotal) // Effect<CounterState<number>>
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const modeFetchFailuresTotal: Metric.Counter<number> = incrementalCounter(
  "stage_validation_mode_fetch_failures_total",
  "Failed or timed-out reads of the shared rollout document"
)

/**
 * `stage_validation_mode_documents_rejected_total`: shared rollout documents this process read
 * (or received on the change channel) that failed decoding — unknown keys, out-of-range values —
 * and were rejected whole: neither their content nor their version is adopted. Counted once per
 * distinct stored value in a row, not once per refresh.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { modeDocumentsRejectedTotal } from "stage-normalization/observability"
 * const count = Metric.value(modeDocumentsRejectedTotal) // Effect<CounterState<number>>
 * ```
 * @since 0.3.0
 * @category metrics
 */
export const modeDocumentsRejectedTotal: Metric.Counter<number> = incrementalCounter(
  "stage_validation_mode_documents_rejected_total",
  "Shared rollout documents rejected whole because they failed decoding"
)

/**
 * `stage_validation_mode_store_synced`: gauge, 1 once this process has read the shared rollout
 * document, 0 before (a Redis store at boot: store unreachable or its document rejected). While
 * it is 0 under the default `cautious` policy the instance is not ready and decides at most
 * `warn`. A memory store is always 1.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { modeStoreSyncedGauge } from "stage-normalization/observability"
 * const mark = Metric.update(modeStoreSyncedGauge, 1)
 * ```
 * @since 0.3.0
 * @category metrics
 */
export const modeStoreSyncedGauge: Metric.Gauge<number> = Metric.gauge("stage_validation_mode_store_synced", {
  description: "1 once this process has read the shared rollout document, 0 before (decisions capped at warn)"
})

/**
 * `stage_validation_mode_changes_total{source}`: applied rollout changes by source
 * (`cli`, `api`, `webhook`, `env`).
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { modeChangesTotal } from "stage-normalization/observability"
 * const record = Metric.update(Metric.withAttributes(modeChangesTotal, { source: "cli" }), 1)
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const modeChangesTotal: Metric.Counter<number> = incrementalCounter(
  "stage_validation_mode_changes_total",
  "Applied rollout document changes by source"
)

/**
 * The values of the `outcome` label of `stage_validation_webhook_total`: `downgraded` (enforce →
 * warn applied), `already_downgraded` (a new firing alert, but nothing was enforcing any more),
 * `duplicate` (a redelivery, or a repeat of the same alert within the cooldown), `resolved`,
 * `ignored` (another alert), `unauthorized`, `invalid`, `unavailable` (the store did not answer).
 *
 * @internal
 */
export const WEBHOOK_OUTCOME_LABELS = [
  "downgraded",
  "already_downgraded",
  "duplicate",
  "resolved",
  "ignored",
  "unauthorized",
  "invalid",
  "unavailable"
] as const

/**
 * `stage_validation_webhook_total{outcome}`: Alertmanager webhook calls by outcome
 * (`downgraded`, `already_downgraded`, `duplicate`, `resolved`, `ignored`, `unauthorized`,
 * `invalid`, `unavailable`). Always labelled: the catalogue registers one series per outcome,
 * never a label-less one.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { webhookTotal } from "stage-normalization/observability"
 * const record = Metric.update(Metric.withAttributes(webhookTotal, { outcome: "downgraded" }), 1)
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const webhookTotal: Metric.Counter<number> = incrementalCounter(
  "stage_validation_webhook_total",
  "Alertmanager webhook calls by outcome"
)

/**
 * `stage_migration_rows_total{result}`: rows the migration looked at, by result
 * (e.g. `updated`, `unchanged`, `unknown`, `failed`).
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { migrationRowsTotal } from "stage-normalization/observability"
 * const record = Metric.update(Metric.withAttributes(migrationRowsTotal, { result: "updated" }), 500)
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const migrationRowsTotal: Metric.Counter<number> = incrementalCounter(
  "stage_migration_rows_total",
  "Rows processed by the stage migration, by result"
)

/**
 * `stage_migration_batches_total{status}`: migration batches by final status
 * (e.g. `completed`, `failed`, `skipped`).
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { migrationBatchesTotal } from "stage-normalization/observability"
 * const record = Metric.update(Metric.withAttributes(migrationBatchesTotal, { status: "completed" }), 1)
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const migrationBatchesTotal: Metric.Counter<number> = incrementalCounter(
  "stage_migration_batches_total",
  "Stage migration batches by status"
)

/**
 * Every metric name in the catalogue, for checks such as "each metric an alert rule names exists".
 *
 * @example
 * ```ts
 * import { METRIC_NAMES } from "stage-normalization/observability"
 * METRIC_NAMES.includes("stage_validation_mode_fetch_failures_total") // => true
 * ```
 * @since 0.1.0
 * @category constants
 */
export const METRIC_NAMES = [
  "stage_validation_validations_total",
  "stage_validation_duration_seconds",
  "stage_validation_errors_total",
  "stage_warn_unknown_total",
  "stage_validation_mode",
  "stage_validation_enforcement_percent",
  "stage_validation_mode_fetch_failures_total",
  "stage_validation_mode_documents_rejected_total",
  "stage_validation_mode_store_synced",
  "stage_validation_mode_changes_total",
  "stage_validation_webhook_total",
  "stage_migration_rows_total",
  "stage_migration_batches_total"
] as const

/**
 * The closed label sets of the catalogue's labelled families, which {@link registerMetricCatalogue}
 * registers at zero: `mode` of `stage_validation_mode`, `source` of
 * `stage_validation_mode_changes_total`, `outcome` of `stage_validation_webhook_total`, `result`
 * of `stage_migration_rows_total`, `status` of `stage_migration_batches_total`.
 *
 * @internal
 */
export const CLOSED_LABEL_VALUES = {
  mode: ["off", "warn", "enforce"],
  source: ["cli", "api", "webhook", "env"],
  outcome: WEBHOOK_OUTCOME_LABELS,
  result: ["updated", "unchanged", "unknown", "failed"],
  status: ["completed", "failed", "retried", "split"]
} as const

const labelled = (metric: Metric.Metric<never, unknown>, attribute: string, values: ReadonlyArray<string>) =>
  values.map((value) => Metric.withAttributes(metric, { [attribute]: value }))

/**
 * Registers the catalogue in the current `MetricRegistry` without changing any value, so that
 * each name is present in `/metrics` from boot and alert rules and dashboards never look at a
 * missing series. Run it once when the service starts.
 *
 * A label-less family shows as one `0` series; a labelled family with a closed label set as one
 * `0` series per label value (`stage_validation_mode{mode}`, `…_mode_changes_total{source}`,
 * `…_webhook_total{outcome}`, `stage_migration_rows_total{result}`,
 * `stage_migration_batches_total{status}`) — never a label-less series no code increments. The
 * families labelled by endpoint (`stage_validation_validations_total`,
 * `stage_validation_errors_total`, `stage_warn_unknown_total`) are registered per route by
 * `registerEndpointSeries` (`stage-normalization/http`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { registerMetricCatalogue } from "stage-normalization/observability"
 * const boot = Effect.andThen(registerMetricCatalogue, Effect.log("metrics registered"))
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const registerMetricCatalogue: Effect.Effect<void> = Effect.suspend(() =>
  Effect.forEach(
    [
      validationDurationSeconds,
      enforcementPercentGauge,
      modeFetchFailuresTotal,
      modeDocumentsRejectedTotal,
      modeStoreSyncedGauge,
      ...labelled(validationModeGauge, "mode", CLOSED_LABEL_VALUES.mode),
      ...labelled(modeChangesTotal, "source", CLOSED_LABEL_VALUES.source),
      ...labelled(webhookTotal, "outcome", CLOSED_LABEL_VALUES.outcome),
      ...labelled(migrationRowsTotal, "result", CLOSED_LABEL_VALUES.result),
      ...labelled(migrationBatchesTotal, "status", CLOSED_LABEL_VALUES.status)
    ] as ReadonlyArray<Metric.Metric<never, unknown>>,
    (metric) => Metric.value(metric),
    { discard: true }
  )
)
