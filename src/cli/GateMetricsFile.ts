/**
 * The promotion gate's metrics of a CLI run (`stage_validation_gate_evaluations_total{verdict}`,
 * `stage_validation_gate_last_value{criterion}`, `…_last_verdict{verdict}`,
 * `…_last_evaluation_timestamp_seconds`) as a Prometheus text file: `promote` is a short-lived
 * process, so it hands them over the way batch jobs do — to node_exporter's textfile collector
 * (the file is written whole, then renamed into place) or to a Pushgateway
 * (`curl --data-binary @file …`).
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { rename, writeFile } from "node:fs/promises"
import { CliInputError } from "./CliInputError.ts"

const GATE_PREFIX = "stage_validation_gate_"

/**
 * The lines of a Prometheus text exposition that belong to the gate's metrics (their `# HELP`,
 * `# TYPE` and samples).
 *
 * @example
 * ```ts
 * import { gateMetricLines } from "./GateMetricsFile.ts" // internal: not part of the package's API
 * gateMetricLines("# TYPE a counter\na 1\n# TYPE stage_validation_gate_x gauge\nstage_validation_gate_x 2\n")
 * // => "# TYPE stage_validation_gate_x gauge\nstage_validation_gate_x 2\n"
 * ```
 * @since 0.2.0
 * @category rendering
 */
export const gateMetricLines = (exposition: string): string => {
  const kept = exposition.split("\n").filter((line) => {
    const name = line.startsWith("# HELP ") || line.startsWith("# TYPE ") ? line.slice(7) : line
    return name.startsWith(GATE_PREFIX)
  })
  return kept.length === 0 ? "" : `${kept.join("\n")}\n`
}

/**
 * Writes the gate's metrics of this process to `path` (via `path.tmp` and a rename, so a collector
 * never reads half a file). Fails with a `CliInputError` when the file cannot be written.
 *
 * @example
 * ```ts
 * import { writeGateMetricsFile } from "./GateMetricsFile.ts" // internal: not part of the package's API
 * const write = writeGateMetricsFile("/var/lib/node_exporter/textfile/stage_gate.prom")
 * ```
 * @since 0.2.0
 * @category files
 */
export const writeGateMetricsFile = (path: string): Effect.Effect<void, CliInputError> =>
  Effect.gen(function*() {
    const text = gateMetricLines(yield* PrometheusMetrics.format())
    yield* Effect.tryPromise({
      try: async () => {
        await writeFile(`${path}.tmp`, text, "utf8")
        await rename(`${path}.tmp`, path)
      },
      catch: (cause) => new CliInputError({ message: `cannot write --metrics-file ${path}: ${(cause as Error).message ?? String(cause)}` })
    })
  })
