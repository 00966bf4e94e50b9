/**
 * The `stage-normalization` program, loaded by `bin.ts`. Bad input (unparseable flags, values out of range,
 * unreadable files) exits 2, a negative result (unknown values, failed checks) exits 1, success 0.
 * A parse error prints its message and a hint on stderr, never the help (see `CliPresenter.ts`).
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Cause, Effect, Runtime, Stdio } from "effect"
import { CliError, Command } from "effect/cli"
import pkg from "../../package.json" with { type: "json" }
import { cli } from "./Cli.ts"
import * as CliPresenter from "./CliPresenter.ts"
import { attachDashValues } from "./DashValues.ts"
import { debugRequested, reportFailure } from "./ErrorReport.ts"
import { logFormatLayer } from "./LogFormat.ts"

const teardown: Runtime.Teardown = (exit, onExit) =>
  Runtime.defaultTeardown(exit, (code) => {
    if (exit._tag === "Failure" && code === 1) {
      const error = Cause.squash(exit.cause)
      // effect/cli reports parse errors (values out of range included) as ShowHelp carrying
      // errors, with exit code 1: that is bad input.
      if (CliError.isCliError(error) && error._tag === "ShowHelp") return onExit(2)
    }
    onExit(code)
  })

// as Command.run, with `--flag -5h` read as the flag's value (see DashValues.ts)
// A failure is reported by ErrorReport.ts: a typed error as its one-line message, not its stack.
Stdio.Stdio.use(({ args }) =>
  Effect.flatMap(args, (argv) =>
    Command.runWith(cli, { version: pkg.version })(attachDashValues(argv)).pipe(
      Effect.tapCause((cause) => reportFailure(cause, { debug: debugRequested(argv) }))
    ))
).pipe(
  Effect.provide([CliPresenter.layer, NodeServices.layer, logFormatLayer(process.stderr.isTTY === true)]),
  NodeRuntime.runMain({ teardown, disableErrorReporting: true })
)
