/**
 * The confirmation `migrate --apply --force-unknown` needs before it writes stages the normaliser
 * did not recognise: `--confirm-force-unknown` (scripts, CI), or `CONFIRM` typed on an interactive
 * terminal, asked on stderr so stdout stays clean for `--json`.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { CliInputError } from "./CliInputError.ts"

/**
 * The terminal a confirmation is asked on.
 *
 * @since 0.1.0
 * @category helpers
 */
export interface ConfirmTerminal {
  /** stdin and stderr are a terminal: a person can type. */
  readonly interactive: boolean
  readonly write: (text: string) => void
  /** Ask and read one line (undefined at end of input). */
  readonly ask: (prompt: string) => Promise<string | undefined>
}

/**
 * The process's terminal (prompts on stderr, so stdout stays clean for `--json`).
 *
 * @since 0.1.0
 * @category helpers
 */
export const processTerminal = (): ConfirmTerminal => ({
  interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
  write: (text) => process.stderr.write(text),
  ask: async (prompt) => {
    const { createInterface } = await import("node:readline/promises")
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    const closed = new Promise<undefined>((resolve) => rl.once("close", () => resolve(undefined)))
    try {
      return await Promise.race([rl.question(prompt), closed])
    } finally {
      rl.close()
      process.stdin.pause()
    }
  }
})

/**
 * Confirm `--force-unknown --apply`: `--confirm-force-unknown`, or `CONFIRM` typed on an
 * interactive terminal; otherwise refuse (exit 2, nothing written). Returns how it was confirmed,
 * for the run's parameters.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { confirmForceUnknown } from "./ForceUnknownConfirmation.ts" // internal: not part of the package's API
 * const terminal = { interactive: true, write: () => {}, ask: async () => "CONFIRM" }
 * confirmForceUnknown({ flag: false, description: "…", terminal }) // => Effect.succeed("typed CONFIRM on a terminal")
 * ```
 *
 * @since 0.1.0
 * @category helpers
 */
export const confirmForceUnknown = (options: {
  readonly flag: boolean
  readonly description: string
  readonly terminal: ConfirmTerminal
}): Effect.Effect<string, CliInputError> =>
  Effect.gen(function*() {
    if (options.flag) return "--confirm-force-unknown"
    const { terminal } = options
    if (!terminal.interactive) {
      return yield* new CliInputError({
        message: "--force-unknown writes stages the normaliser did not recognise and needs a confirmation: " +
          "type CONFIRM when asked on an interactive terminal, or pass --confirm-force-unknown when not interactive. Nothing was written."
      })
    }
    terminal.write(`\nWARNING: --force-unknown ${options.description}\n` +
      "Every forced row is audited with its reason and can be undone with `stage-normalization rollback`.\n" +
      "Run without --apply first to see the values it would force.\n")
    const answer = yield* Effect.promise(() => terminal.ask("Type CONFIRM to proceed: "))
    if (answer?.trim() !== "CONFIRM") {
      return yield* new CliInputError({ message: "--force-unknown was not confirmed (CONFIRM not typed). Nothing was written." })
    }
    return "typed CONFIRM on a terminal"
  })
