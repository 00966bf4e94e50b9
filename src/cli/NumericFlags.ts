/**
 * Numeric flags with the ranges the code and PostgreSQL accept, checked when the command line is
 * parsed — before the handler runs, so before any connection or query. A value out of range or
 * not a decimal integer is a parse error of the flag (`CliError.ValidationError`), rendered by
 * the CLI's presenter (see `CliPresenter.ts`) as one message, exit code 2:
 *
 * ```text
 * --batch-size must be an integer between 1 and 2147483647, got "abc"
 * ```
 *
 * Both flag forms (`--batch-size -1`, `--batch-size=-1`) reach the same check with the same raw
 * text, so they get the same message.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { CliError, Flag } from "effect/cli"

/**
 * The largest PostgreSQL `integer` (int4) — also the largest delay a Node.js timer takes.
 *
 * @since 0.2.0
 * @category constants
 */
export const INT4_MAX = 2_147_483_647

/**
 * The largest PostgreSQL `bigint` (int8): the upper bound of run and batch ids.
 *
 * @since 0.2.0
 * @category constants
 */
export const INT8_MAX = 9_223_372_036_854_775_807n

const decimalInteger = /^[+-]?\d+$/

/**
 * The message for a value that is not an integer within `min..max`: it names the flag, the range
 * and the value as given.
 *
 * @example
 * ```ts
 * rangeMessage("batch-size", 1, 2147483647, "abc")
 * // => '--batch-size must be an integer between 1 and 2147483647, got "abc"'
 * ```
 * @since 0.2.0
 * @category helpers
 */
export const rangeMessage = (name: string, min: number | bigint, max: number | bigint, raw: string): string =>
  `--${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(raw)}`

/**
 * Parse a decimal integer within `min..max` (optional sign, digits only: no fraction, exponent,
 * hex, separators or surrounding spaces); `undefined` when the text is not one.
 *
 * @example
 * ```ts
 * parseIntegerInRange("100", 1, 2147483647) // => 100
 * parseIntegerInRange("1.5", 1, 2147483647) // => undefined
 * parseIntegerInRange("2147483648", 1, 2147483647) // => undefined
 * ```
 * @since 0.2.0
 * @category helpers
 */
export const parseIntegerInRange = (raw: string, min: number, max: number): number | undefined => {
  if (!decimalInteger.test(raw)) return undefined
  const value = Number(raw)
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined
}

/**
 * What {@link intFlag} needs: the inclusive range, and the help text (the range is appended).
 *
 * @since 0.2.0
 * @category models
 */
export interface IntFlagOptions {
  readonly min: number
  readonly max: number
  readonly description: string
}

/**
 * An integer flag within `min..max` (inclusive). Help shows it as `integer`, as `Flag.Int` does,
 * with the range after the description. Pipe `Flag.withDefault` or `Flag.optional` after it:
 * a default is not checked against the range.
 *
 * @example
 * ```ts
 * const batchSize = intFlag("batch-size", { min: 1, max: INT4_MAX, description: "Rows per batch" }).pipe(
 *   Flag.withDefault(5_000)
 * )
 * ```
 * @since 0.2.0
 * @category flags
 */
export const intFlag = (name: string, options: IntFlagOptions): Flag.Flag<number> => {
  if (!Number.isSafeInteger(options.min) || !Number.isSafeInteger(options.max) || options.min > options.max) {
    throw new RangeError(`intFlag(${name}): invalid range ${options.min}..${options.max}`)
  }
  return Flag.String(name).pipe(
    Flag.withMetavar("integer"),
    Flag.withDescription(`${options.description} [${options.min}..${options.max}]`),
    Flag.mapEffect((raw) => {
      const value = parseIntegerInRange(raw, options.min, options.max)
      return value === undefined
        ? Effect.fail(new CliError.ValidationError({ message: rangeMessage(name, options.min, options.max, raw) }))
        : Effect.succeed(value)
    })
  )
}

/**
 * A row id flag (`--run`, `--batch`): a PostgreSQL `bigint` within 1..9223372036854775807, kept as
 * the decimal text the database functions take (leading zeros and a `+` sign dropped). Help is
 * unchanged (`string`, the description as given).
 *
 * @example
 * ```ts
 * const run = idFlag("run", { description: "The normalisation run to undo" })
 * ```
 * @since 0.2.0
 * @category flags
 */
export const idFlag = (name: string, options: { readonly description: string }): Flag.Flag<string> =>
  Flag.String(name).pipe(
    Flag.withDescription(options.description),
    Flag.mapEffect((raw) => {
      const value = /^\+?\d+$/.test(raw) ? BigInt(raw) : undefined
      return value === undefined || value < 1n || value > INT8_MAX
        ? Effect.fail(new CliError.ValidationError({ message: rangeMessage(name, 1, INT8_MAX, raw) }))
        : Effect.succeed(value.toString())
    })
  )
