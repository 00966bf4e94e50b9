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
import { Metric } from "effect"

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
 * One series of a catalogue counter, its attributes fixed when it is built: the same registry
 * series (name, description, attributes) as `Metric.withAttributes(counter, attributes)`, but
 * updated without adding the attributes to a context on every update (the boundary's hot path).
 *
 * @internal
 */
export const counterSeries = (
  counter: Metric.Counter<number>,
  attributes: Readonly<Record<string, string>>
): Metric.Counter<number> =>
  Metric.counter(counter.id, { description: counter.description, incremental: true, attributes: { ...attributes } })

/**
 * `stage_validation_validations_total{endpoint,mode,result}`: one increment per validated request.
 * `result` ∈ `ok`, `normalized`, `invalid`, `rejected`, `would_reject`.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
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
 * import { Metric } from "effect"
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
 * import { Metric } from "effect"
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
 * import { Metric } from "effect"
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
 * import { Metric } from "effect"
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
 * import { Metric } from "effect"
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
 * import { Metric } from "effect"
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
 * import { Metric } from "effect"
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
 * import { Metric } from "effect"
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
 * `stage_validation_mode_lineage_changes_total{outcome}`: the shared document was lost and re-created;
 * this instance `adopted` the store's document (another lineage, an older version) or `restored` its own.
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { modeLineageChangesTotal } from "stage-normalization/observability"
 * const adopted = Metric.value(Metric.withAttributes(modeLineageChangesTotal, { outcome: "adopted" }))
 * ```
 * @since 0.4.0
 * @category metrics
 */
export const modeLineageChangesTotal: Metric.Counter<number> = incrementalCounter(
  "stage_validation_mode_lineage_changes_total", "Shared rollout document lost: adopted or restored by this instance")

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
 * import { Metric } from "effect"
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
 * import { Metric } from "effect"
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
 * import { Metric } from "effect"
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
 * `stage_validation_gate_evaluations_total{verdict}`: promotion-gate evaluations by verdict
 * (`pass`, `fail`, `inconclusive`), held attempts included.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { gateEvaluationsTotal } from "stage-normalization/observability"
 * const record = Metric.update(Metric.withAttributes(gateEvaluationsTotal, { verdict: "pass" }), 1)
 * ```
 * @since 0.2.0
 * @category metrics
 */
export const gateEvaluationsTotal: Metric.Counter<number> = incrementalCounter(
  "stage_validation_gate_evaluations_total",
  "Promotion gate evaluations by verdict"
)

/**
 * `stage_validation_gate_last_value{criterion}`: the newest window's measured value of each
 * numeric gate criterion (`requests`, `wouldRejectRatio`, `validatorP99Seconds`, `errorRatio`,
 * `unknownStageRatio`) at the last evaluation; NaN when it could not be read.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { gateLastValueGauge } from "stage-normalization/observability"
 * const mark = Metric.update(Metric.withAttributes(gateLastValueGauge, { criterion: "errorRatio" }), 0.0004)
 * ```
 * @since 0.2.0
 * @category metrics
 */
export const gateLastValueGauge: Metric.Gauge<number> = Metric.gauge("stage_validation_gate_last_value", {
  description: "Measured value of each promotion gate criterion at the last evaluation (newest window)"
})

/**
 * `stage_validation_gate_last_verdict{verdict}`: 1 for the verdict of the last gate evaluation,
 * 0 for the others.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { gateLastVerdictGauge } from "stage-normalization/observability"
 * const mark = Metric.update(Metric.withAttributes(gateLastVerdictGauge, { verdict: "fail" }), 1)
 * ```
 * @since 0.2.0
 * @category metrics
 */
export const gateLastVerdictGauge: Metric.Gauge<number> = Metric.gauge("stage_validation_gate_last_verdict", {
  description: "Verdict of the last promotion gate evaluation (1 for the verdict, 0 otherwise)"
})

/**
 * `stage_validation_gate_last_evaluation_timestamp_seconds`: when the gate was last evaluated.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { gateLastEvaluationSeconds } from "stage-normalization/observability"
 * const mark = Metric.update(gateLastEvaluationSeconds, 1_767_225_600)
 * ```
 * @since 0.2.0
 * @category metrics
 */
export const gateLastEvaluationSeconds: Metric.Gauge<number> = Metric.gauge(
  "stage_validation_gate_last_evaluation_timestamp_seconds",
  { description: "Unix time of the last promotion gate evaluation" }
)
