/**
 * The CLI's log format, one per output: logs go to stderr — JSON lines (one object per line:
 * `message`, `logLevel`, `timestamp`, `annotations`, …) by default, for log collectors and
 * pipes; the human-readable pretty format when stderr is a terminal. stdout holds only what a
 * command prints on purpose (reports, `--json` output, the service's banner).
 *
 * @since 0.3.0
 */
import { Layer, Logger, References } from "effect"

/**
 * The logger for `stderrIsTty`: pretty on a terminal, JSON lines otherwise; both on stderr.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { logFormatLayer } from "./LogFormat.ts" // internal: not part of the package's API
 * Effect.logInfo("one JSON line on stderr").pipe(Effect.provide(logFormatLayer(false)))
 * ```
 * @since 0.3.0
 * @category layers
 */
export const logFormatLayer = (stderrIsTty: boolean): Layer.Layer<never> =>
  Layer.mergeAll(
    Logger.layer([stderrIsTty ? Logger.consolePretty() : Logger.withConsoleError(Logger.formatJson)]),
    Layer.succeed(References.LogToStderr, true)
  )
