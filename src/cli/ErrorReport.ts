/**
 * How the CLI reports a command's failure (instead of the runtime's default, which logs the
 * whole cause: the stack, and every `[cause]` with its own stack). A typed error — an expected
 * failure such as a missing optional peer, an unreachable store, an invalid document — prints its
 * message as effect/cli prints a command's input errors (`ERROR`, then the one-line message), on
 * stderr; its cause stays in the error object, and `--log-level debug` (or `trace`, `all`) also
 * prints the whole cause. A defect (a bug) is logged with its stack, as before. Interruption
 * prints nothing, and an error effect/cli has already shown is not shown twice.
 *
 * @since 0.3.0
 */
import { Cause, Console, Effect, Result, Runtime } from "effect"
import { CliError, CliOutput } from "effect/cli"

const DEBUG_LEVELS = new Set(["debug", "trace", "all"])

/**
 * Whether the command line asks for debug logs (`--log-level debug|trace|all`, also
 * `--log-level=debug`).
 *
 * @example
 * ```ts
 * import { debugRequested } from "./ErrorReport.ts" // internal: not part of the package's API
 * debugRequested(["serve", "--log-level", "debug"]) // => true
 * debugRequested(["serve", "--log-level=info"]) // => false
 * ```
 * @since 0.3.0
 * @category parsing
 */
export const debugRequested = (argv: ReadonlyArray<string>): boolean =>
  argv.some((arg, i) => {
    const value = arg === "--log-level" ? argv[i + 1] : arg.startsWith("--log-level=") ? arg.slice(12) : undefined
    return value !== undefined && DEBUG_LEVELS.has(value.toLowerCase())
  })

const messageOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string" &&
    (error as { message: string }).message !== ""
    ? (error as { message: string }).message
    : undefined

/**
 * Reports `cause` on stderr as described above.
 *
 * @example
 * ```ts
 * import { Cause } from "effect"
 * import { reportFailure } from "./ErrorReport.ts" // internal: not part of the package's API
 * const report = reportFailure(Cause.fail(new Error("the store did not answer")), { debug: false })
 * // prints "ERROR" and "  the store did not answer" on stderr
 * ```
 * @since 0.3.0
 * @category reporting
 */
export const reportFailure = (cause: Cause.Cause<unknown>, options: { readonly debug: boolean }): Effect.Effect<void> => {
  if (Cause.hasInterruptsOnly(cause)) return Effect.void
  const detail = options.debug ? Console.error(Cause.pretty(cause)) : Effect.void
  const typed = Cause.findError(cause)
  if (Result.isFailure(typed) || Cause.hasDies(cause)) return Effect.logError(cause)
  const error = typed.success
  if (!Runtime.getErrorReported(error)) return detail // effect/cli has shown it
  const message = messageOf(error) ?? String(error)
  const formatter = CliOutput.defaultFormatter({ colors: process.stderr.isTTY === true && process.env["NO_COLOR"] === undefined })
  return Console.error(formatter.formatError(new CliError.UserError({ cause: error, userMessage: message }))).pipe(Effect.andThen(detail))
}
