/**
 * `stage-normalization/observability`: the metric catalogue (every series the boundary, the
 * rollout store, the webhook and the migration record; the names alert rules use) and the
 * structured offender log.
 *
 * An explicit list: every name here is public API, recorded in `etc/observability.api.md`.
 *
 * @since 0.1.0
 */
export { downgradeFailuresTotal } from "./DowngradeMetrics.ts"
export {
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
  VALIDATION_DURATION_BOUNDARIES,
  validationDurationSeconds,
  validationErrorsTotal,
  validationModeGauge,
  validationsTotal,
  warnUnknownTotal,
  webhookTotal
} from "./metrics.ts"
export { METRIC_NAMES, registerMetricCatalogue } from "./MetricCatalogue.ts"
export {
  logOffender,
  makeOffenderLogLine,
  MAX_LOGGED_STAGE_LENGTH,
  MAX_LOGGED_STAGES,
  type OffenderLogLine,
  type OffenderLogSink,
  stderrOffenderLogSink,
  uaHash
} from "./OffenderLog.ts"
