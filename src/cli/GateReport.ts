/**
 * The promotion gate as the CLI prints it: the verdict table (criterion, threshold, measured value,
 * result) with ratios in %, the validator p99 in ms and requests as a count. Used by `promote` and
 * by `status` (the last recorded evaluation and the current one).
 *
 * @since 0.2.0
 */
import { renderTable } from "./Table.ts"

/**
 * A row of the gate's table: a `GateRow` of an evaluation, or one read back from a decision record.
 *
 * @since 0.2.0
 * @category models
 */
export interface GateTableRow {
  readonly criterion: string
  readonly comparison: string
  readonly threshold: number | ReadonlyArray<string>
  readonly measured: number | ReadonlyArray<string> | null
  readonly status: string
}

const pct = (n: number): string => `${+(n * 100).toPrecision(4)} %`
const ms = (s: number): string => `${+(s * 1000).toPrecision(4)} ms`

const formatValue = (criterion: string, v: number | ReadonlyArray<string> | null): string => {
  if (v === null) return "—"
  if (typeof v !== "number") return v.length === 0 ? "(none)" : v.join(", ")
  if (criterion === "requests") return String(Math.round(v))
  if (criterion === "validatorP99Seconds") return ms(v)
  return pct(v)
}

/**
 * The verdict table: criterion, threshold, measured value, pass/fail.
 *
 * @example
 * ```ts
 * import { renderGateRows } from "./GateReport.ts" // internal: not part of the package's API
 * renderGateRows([{ criterion: "errorRatio", comparison: "<", threshold: 0.001, measured: 0.02, status: "fail" }])
 * // criterion   threshold  measured  result
 * // ----------  ---------  --------  ------
 * // errorRatio  < 0.1 %    2 %       fail
 * ```
 * @since 0.2.0
 * @category rendering
 */
export const renderGateRows = (rows: ReadonlyArray<GateTableRow>): string =>
  renderTable(
    ["criterion", "threshold", "measured", "result"],
    rows.map((r) => [
      r.criterion,
      typeof r.threshold === "number"
        ? `${r.comparison} ${formatValue(r.criterion, r.threshold)}`
        : `none of ${r.threshold.length} blocking alerts`,
      formatValue(r.criterion, r.measured),
      r.status
    ])
  )
