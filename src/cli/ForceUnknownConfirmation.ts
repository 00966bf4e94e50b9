/**
 * The confirmation `migrate --apply --force-unknown` needs before it writes stages the normaliser
 * did not recognise: `--confirm-force-unknown` (scripts, CI), or `CONFIRM` typed on an interactive
 * terminal, asked on stderr so stdout stays clean for `--json`. Values with characters outside
 * printable ASCII (look-alike letters, invisible characters) are never forced by the edit-distance
 * rule: the preview lists them apart, and the confirmation lists apart the ones the map names.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { needsExplicitMapping, visibleValue } from "../migration/run/ForceUnknown.ts"
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

/**
 * The mapping file's entries whose key has a character outside printable ASCII, one line each,
 * escaped (`"s\u0435ed" → seed`), for the confirmation: the operator sees exactly what is named.
 *
 * @example
 * ```ts
 * import { namedLookAlikes } from "./ForceUnknownConfirmation.ts" // internal: not part of the package's API
 * namedLookAlikes({ "s\u0435ed": "seed", "early": "seed" }) // => ['"s\\u0435ed" → seed']
 * ```
 * @since 0.3.0
 * @category rendering
 */
export const namedLookAlikes = (map: Readonly<Record<string, string>> | undefined): ReadonlyArray<string> =>
  Object.entries(map ?? {}).filter(([key]) => needsExplicitMapping(key)).map(([key, stage]) => `${visibleValue(key)} → ${stage}`)

/**
 * The preview's section on unknown values `--force-unknown` leaves alone because they hold
 * characters outside printable ASCII (empty when there are none): escaped, with the stage they
 * look like, and how to force them — name them in `--map` — then a blank line.
 *
 * @example
 * ```ts
 * import { lookAlikeSection } from "./ForceUnknownConfirmation.ts" // internal: not part of the package's API
 * lookAlikeSection([{ value: "s\u0435ed", rows: 3, suggestions: ["seed"] }])
 * // => ["Not forced — non-ASCII or invisible characters (look-alikes?); name them in --map to force them:", '  "s\\u0435ed" (3 rows), looks like seed', ""]
 * ```
 * @since 0.3.0
 * @category rendering
 */
export const lookAlikeSection = (
  unknowns: ReadonlyArray<{ readonly value: string; readonly rows: number; readonly suggestions: ReadonlyArray<string> }>
): ReadonlyArray<string> => {
  const odd = unknowns.filter((u) => needsExplicitMapping(u.value))
  return odd.length === 0 ? [] : [
    "Not forced — non-ASCII or invisible characters (look-alikes?); name them in --map to force them:",
    ...odd.map((u) =>
      `  ${visibleValue(u.value)} (${u.rows} rows)${u.suggestions.length > 0 ? `, looks like ${u.suggestions.join(" or ")}` : ""}`
    ),
    ""
  ]
}
