/**
 * How the CLI presents what effect/cli reports itself: help and `--version` as effect/cli prints
 * them (stdout), and an invalid invocation — an unknown or malformed flag, a value out of range
 * (see `NumericFlags.ts`), a missing required flag — as its error(s) on stderr in the same form
 * as a command's own input errors, then a one-line hint naming the command's `--help`. The help
 * itself is printed only when asked for: stdout stays empty on a parse error. The exit code (2)
 * is set by `bin.ts`.
 *
 * @since 0.2.0
 */
import { Console, Context, Effect, type Layer } from "effect"
import { CliOutput, TerminalCapabilities } from "effect/cli"

/**
 * The hint printed under a parse error.
 *
 * @example
 * ```ts
 * helpHint(["stage-normalization", "migrate"]) // => "run `stage-normalization migrate --help` for usage"
 * ```
 * @since 0.2.0
 * @category rendering
 */
export const helpHint = (commandPath: ReadonlyArray<string>): string => `run \`${commandPath.join(" ")} --help\` for usage`

/** The installed formatter, else effect/cli's default one (coloured when the terminal can). */
const formatter = Effect.contextWith((context: Context.Context<never>) =>
  Effect.succeed(
    Context.getOrUndefined(context, CliOutput.Formatter) ??
      CliOutput.defaultFormatter({ colors: Context.get(context, TerminalCapabilities.TerminalCapabilities).canColor })
  )
)

/**
 * effect/cli's default presenter, except for invalid invocations: errors and a hint on stderr,
 * no help.
 *
 * @since 0.2.0
 * @category presenters
 */
export const presenter: CliOutput.Presenter = {
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.gen(function*() {
        const f = yield* formatter
        yield* Console.error(f.formatErrors(event.errors))
        yield* Console.error(helpHint(event.commandPath))
      })
      : CliOutput.defaultPresenter.present(event)
}

/**
 * The {@link presenter} as the `CliOutput.Presenter` of a program (`Command.run` / `runWith`).
 *
 * @since 0.2.0
 * @category layers
 */
export const layer: Layer.Layer<never> = CliOutput.layerPresenter(presenter)
