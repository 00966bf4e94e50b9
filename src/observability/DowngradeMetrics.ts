/**
 * The safety net's own metric: `stage_validation_downgrade_failures_total{reason}`, every
 * downgrade (enforce → warn) that did not get through, so that a failing safety net pages
 * (`StageValidationDowngradeFailing`) instead of failing silently. Apart from `metrics.ts`, which
 * holds the rest of the catalogue, to keep each file small.
 *
 * @since 0.3.0
 */
import { Metric } from "effect"
/**
 * The values of the `reason` label of `stage_validation_downgrade_failures_total`: `unavailable`
 * (the shared store did not answer in time), `conflict` (lost every compare-and-set race),
 * `invalid_document` (the downgraded document did not validate), `refused` (a guard refused it).
 *
 * @internal
 */
export const DOWNGRADE_FAILURE_REASONS = ["unavailable", "conflict", "invalid_document", "refused"] as const

/**
 * `stage_validation_downgrade_failures_total{reason}`: downgrade attempts (the Alertmanager
 * webhook's or an operator's) that did not get through, by reason (`unavailable`, `conflict`,
 * `invalid_document`, `refused`). Any increase means the safety net failed at least once: the
 * `StageValidationDowngradeFailing` alert pages on it.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { downgradeFailuresTotal } from "stage-normalization/observability"
 * const record = Metric.update(Metric.withAttributes(downgradeFailuresTotal, { reason: "unavailable" }), 1)
 * ```
 * @since 0.3.0
 * @category metrics
 */
export const downgradeFailuresTotal: Metric.Counter<number> = Metric.counter("stage_validation_downgrade_failures_total", {
  description: "Downgrade attempts (webhook or operator) that did not get through, by reason",
  incremental: true
})
