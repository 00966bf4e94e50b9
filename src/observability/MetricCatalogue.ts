/**
 * The metric catalogue as a whole: every metric name the library exports (`METRIC_NAMES`, what
 * the alert rules and the dashboard may name), the closed label sets, and
 * `registerMetricCatalogue`, which makes every series visible in `/metrics` from boot.
 *
 * @since 0.2.0
 */
import { Effect, Metric } from "effect"
import { DOWNGRADE_FAILURE_REASONS, downgradeFailuresTotal } from "./DowngradeMetrics.ts"
import {
  enforcementPercentGauge,
  gateEvaluationsTotal,
  gateLastEvaluationSeconds,
  gateLastValueGauge,
  gateLastVerdictGauge,
  migrationBatchesTotal,
  migrationRowsTotal,
  modeChangesTotal,
  modeDocumentsRejectedTotal,
  modeFetchFailuresTotal,
  modeLineageChangesTotal,
  modeStoreSyncedGauge,
  validationDurationSeconds,
  validationModeGauge,
  WEBHOOK_OUTCOME_LABELS,
  webhookTotal
} from "./metrics.ts"

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
  "stage_validation_mode_lineage_changes_total",
  "stage_validation_webhook_total",
  "stage_validation_downgrade_failures_total",
  "stage_migration_rows_total",
  "stage_migration_batches_total",
  "stage_validation_gate_evaluations_total",
  "stage_validation_gate_last_value",
  "stage_validation_gate_last_verdict",
  "stage_validation_gate_last_evaluation_timestamp_seconds"
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
  lineage: ["adopted", "restored"],
  outcome: WEBHOOK_OUTCOME_LABELS,
  reason: DOWNGRADE_FAILURE_REASONS,
  result: ["updated", "unchanged", "unknown", "failed"],
  status: ["completed", "failed", "retried", "split"],
  verdict: ["pass", "fail", "inconclusive"],
  // the promotion gate's criteria (PromotionGate's table rows; a test keeps the two equal)
  criterion: ["requests", "wouldRejectRatio", "validatorP99Seconds", "errorRatio", "unknownStageRatio", "activeAlerts"]
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
      ...labelled(modeLineageChangesTotal, "outcome", CLOSED_LABEL_VALUES.lineage),
      ...labelled(webhookTotal, "outcome", CLOSED_LABEL_VALUES.outcome),
      ...labelled(downgradeFailuresTotal, "reason", CLOSED_LABEL_VALUES.reason),
      ...labelled(migrationRowsTotal, "result", CLOSED_LABEL_VALUES.result),
      ...labelled(migrationBatchesTotal, "status", CLOSED_LABEL_VALUES.status),
      ...labelled(gateEvaluationsTotal, "verdict", CLOSED_LABEL_VALUES.verdict),
      ...labelled(gateLastVerdictGauge, "verdict", CLOSED_LABEL_VALUES.verdict),
      ...labelled(gateLastValueGauge, "criterion", CLOSED_LABEL_VALUES.criterion),
      gateLastEvaluationSeconds
    ] as ReadonlyArray<Metric.Metric<never, unknown>>,
    (metric) => Metric.value(metric),
    { discard: true }
  )
)
