/**
 * Flag values that start with a dash. effect/cli's lexer takes a word after `--flag` that starts
 * with `-` for flags — unless it is a negative number — so `--max-backup-age -5h` lexed as the
 * short flags `-5` and `-h`, and `-h` printed the help with exit 0. {@link attachDashValues}
 * writes such a value as `--flag=-5h` before the command line is parsed, so the flag's own check
 * refuses it (exit 2, one line) as it refuses `--max-backup-age=-5h`. No flag of this CLI has a
 * digit as its short name, so a word `-<digit>…` is always a value.
 *
 * @since 0.3.0
 */

const DASH_VALUE = /^-\d/

/**
 * The command line with every `--flag -<digit>…` pair written as `--flag=-<digit>…`; words after
 * `--` are left alone.
 *
 * @example
 * ```ts
 * import { attachDashValues } from "./DashValues.ts" // internal: not part of the package's API
 * attachDashValues(["migrate", "--max-backup-age", "-5h"]) // => ["migrate", "--max-backup-age=-5h"]
 * attachDashValues(["migrate", "--apply", "-h"]) // => ["migrate", "--apply", "-h"] (a flag stays a flag)
 * ```
 * @since 0.3.0
 * @category parsing
 */
export const attachDashValues = (argv: ReadonlyArray<string>): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!
    if (word === "--") return [...out, ...argv.slice(i)]
    const next = argv[i + 1]
    if (word.startsWith("--") && word.length > 2 && !word.includes("=") && next !== undefined && DASH_VALUE.test(next)) {
      out.push(`${word}=${next}`)
      i++
    } else {
      out.push(word)
    }
  }
  return out
}
