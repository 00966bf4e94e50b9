/**
 * The CLI's error for bad input (unreadable file, invalid JSON, conflicting flags): printed as a
 * plain message, exit code 2. Validation *results* (an unknown stage, a failed verification)
 * are not errors; commands exit 1 for those.
 *
 * @since 0.1.0
 */
import { Runtime, Schema } from "effect"
import { CliError } from "effect/cli"

/**
 * @since 0.1.0
 * @category errors
 */
export class CliInputError extends Schema.TaggedError<CliInputError>("stage-normalization/cli/CliInputError")(
  "CliInputError",
  { message: Schema.String }
) {
  override get [CliError.userMessage](): string {
    return this.message
  }
  override readonly [Runtime.errorExitCode] = 2
}

/**
 * A non-error outcome that must still end the process with a non-zero code (e.g. `normalize`
 * found unknown values, `verify` found a problem). The command has already printed its report.
 *
 * @since 0.1.0
 * @category errors
 */
export class CliExitCode extends Schema.TaggedError<CliExitCode>("stage-normalization/cli/CliExitCode")(
  "CliExitCode",
  { code: Schema.Number, reason: Schema.String }
) {
  override get [CliError.userMessage](): string {
    return this.reason
  }
  override get [Runtime.errorExitCode](): number {
    return this.code
  }
}
