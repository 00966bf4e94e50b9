/**
 * Rendering a migration's events for operators: on a TTY, one progress line redrawn in place
 * (bar, percentage, rows, rows/s, ETA, updated/skipped) with retries, splits and throttling on
 * lines of their own; otherwise JSON lines (one object per event), which log collectors and CI
 * read.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { type MigrationEvent, toJsonLine } from "../MigrationEvent.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface ProgressReporterOptions {
  /** Draw a bar (TTY) instead of JSON lines. */
  readonly tty: boolean
  /** Where output goes (`process.stderr.write` in the CLI). */
  readonly write: (text: string) => void
  /** Also print one line per committed batch naming its worker (default false). */
  readonly workers?: boolean | undefined
  /** Bar width in characters (default 30). */
  readonly width?: number | undefined
}

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 })

/**
 * Seconds as `h:mm:ss` / `m:ss`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./ProgressReporter.ts" // internal: not part of the package's API
 * formatDuration(75)   // => "1:15"
 * formatDuration(3725) // => "1:02:05"
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const formatDuration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, "0")
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`
}

/**
 * One progress line.
 *
 * @example
 * ```ts
 * import { progressLine } from "./ProgressReporter.ts" // internal: not part of the package's API
 * progressLine({ scanned: 500, total: 1000, rowsPerSecond: 250, etaSeconds: 2, updated: 200, skipped: 3 }, 10)
 * // => "[#####-----]  50.0%  500/1,000 rows  250 rows/s  ETA 0:02  updated 200  skipped 3"
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const progressLine = (
  p: {
    readonly scanned: number
    readonly total: number
    readonly rowsPerSecond: number
    readonly etaSeconds: number | null
    readonly updated: number
    readonly skipped: number
  },
  width = 30
): string => {
  const fraction = p.total > 0 ? Math.min(1, p.scanned / p.total) : 1
  const filled = Math.round(fraction * width)
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ` +
    `${int.format(p.scanned)}/${int.format(p.total)} rows  ${int.format(p.rowsPerSecond)} rows/s  ` +
    `ETA ${p.etaSeconds === null ? "?" : formatDuration(p.etaSeconds)}  updated ${int.format(p.updated)}  skipped ${
      int.format(p.skipped)
    }`
}

/**
 * A stateful reporter: feed it every event.
 *
 * @example
 * ```ts
 * import { makeProgressReporter } from "stage-normalization/migration"
 * const reporter = makeProgressReporter({ tty: false, write: (s) => process.stderr.write(s) })
 * // migrate({ …, onEvent: reporter.onEvent })
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const makeProgressReporter = (options: ProgressReporterOptions) => {
  let drawn = false
  const clear = () => {
    if (drawn) options.write("\r\u001b[2K")
    drawn = false
  }
  const line = (text: string) => {
    clear()
    options.write(text + "\n")
  }
  const onEvent = (event: MigrationEvent): Effect.Effect<void> =>
    Effect.sync(() => {
      if (!options.tty) return options.write(toJsonLine(event) + "\n")
      switch (event._tag) {
        case "RunStarted":
          return line(
            `${event.resumed ? "Resuming" : "Starting"} run ${event.runId}: ${event.target}.${event.column} (${event.kind}, ` +
              `batches by ${event.batchBy}${event.fundId === null ? "" : `, fund ${event.fundId}`}), ${
                int.format(event.rowsTotal)
              } rows${event.alreadyScanned > 0 ? `, ${int.format(event.alreadyScanned)} already done` : ""}`
          )
        case "StuckBatchesRecovered":
          return line(`  batches ${event.batchIds.join(", ")} were interrupted earlier (their worker is gone): marked failed, their ranges redone`)
        case "BatchAbandoned":
          return line(`  ${event.worker}: batch ${event.batchId} was taken over by another worker (lease expired) — left to it`)
        case "WorkerChanged":
          if (options.workers !== true && event.state !== "failed") return
          return line(`  worker ${event.worker} ${event.state}${event.state === "started" ? "" : ` after ${int.format(event.batches)} batches`}`)
        case "BatchCompleted":
          if (options.workers === true) {
            line(`  ${event.worker}: batch ${event.batchNo} (${event.rangeStart ?? "start"}, ${event.rangeEnd}] ` +
              `${int.format(event.scanned)} rows, ${int.format(event.updated)} updated in ${int.format(event.durationMs)} ms`)
          }
          clear()
          options.write(progressLine({
            scanned: event.totals.scanned,
            total: Math.max(event.rowsTotal, event.totals.scanned),
            rowsPerSecond: event.rowsPerSecond,
            etaSeconds: event.etaSeconds,
            updated: event.totals.updated,
            skipped: event.totals.skipped
          }, options.width))
          drawn = true
          return
        case "PreviewProgress":
          clear()
          options.write(`dry run: scanned ${int.format(event.scanned)}/${int.format(event.rowsTotal)} rows`)
          drawn = true
          return
        case "BatchRetrying":
          return line(`  batch ${event.batchId}: ${event.error} — retry ${event.attempt} in ${event.delayMs} ms`)
        case "BatchSplit":
          return line(`  batch ${event.batchId}: ${event.error} — split ${event.fromSize} → ${event.toSize} rows`)
        case "Throttled":
          return line(`  throttled: ${event.reasons.join("; ")} — waiting ${event.waitMs} ms`)
        case "RunFinished":
          return clear()
      }
    })
  return { onEvent, done: Effect.sync(clear) }
}
