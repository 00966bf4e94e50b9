/**
 * The exact sum of JSON number texts, as PostgreSQL's `numeric` adds them: the weights of aliases
 * that fold to one stage are merged with this sum, never in floating point (`0.1 + 0.2` is exactly
 * `0.3`, `1e-400 + 0.5` is `0.5000…0001`). The result has the largest scale of its terms (the digits
 * after the point, `numeric`'s display scale: `0.10 + 0.2` is `0.30`), so its text is the one
 * PostgreSQL renders for `a::numeric + b::numeric`. A single term is returned as it is.
 *
 * @since 0.4.0
 */

const NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/

/**
 * Largest exponent magnitude summed (PostgreSQL's `numeric` holds at most 131,072 digits before
 * the point and 16,383 after; its text never has an exponent).
 *
 * @internal
 */
export const MAX_EXPONENT = 140_000

/** `digits / 10^scale`, scale ≥ 0. */
interface Decimal {
  readonly digits: bigint
  readonly scale: number
}

const toDecimal = (text: string): Decimal | undefined => {
  const m = NUMBER.exec(text)
  if (m === null) return undefined
  const exponent = m[4] === undefined ? 0 : Number(m[4])
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > MAX_EXPONENT) return undefined
  const fraction = m[3] ?? ""
  const magnitude = BigInt(m[2]! + fraction)
  const digits = m[1] === "-" ? -magnitude : magnitude
  const scale = fraction.length - exponent
  return scale >= 0 ? { digits, scale } : { digits: digits * 10n ** BigInt(-scale), scale: 0 }
}

const render = ({ digits, scale }: Decimal): string => {
  const negative = digits < 0n
  const text = (negative ? -digits : digits).toString().padStart(scale + 1, "0")
  const body = scale === 0 ? text : `${text.slice(0, text.length - scale)}.${text.slice(text.length - scale)}`
  return negative ? `-${body}` : body
}

/**
 * The exact sum of JSON number texts; `undefined` when one is not a JSON number (or its exponent
 * is beyond `numeric`'s range).
 *
 * @example
 * ```ts
 * import { sumExact } from "./DistributionSum.ts" // internal: not part of the package's API
 * sumExact(["0.1", "0.2"])            // => "0.3"
 * sumExact(["12345678901234567890"]) // => "12345678901234567890" (a single term is kept as it is)
 * sumExact(["1e2", "0.50"])          // => "100.50"
 * ```
 *
 * @since 0.4.0
 * @category distributions
 */
export const sumExact = (texts: ReadonlyArray<string>): string | undefined => {
  if (texts.length === 1) return NUMBER.test(texts[0]!) ? texts[0] : undefined
  const terms: Array<Decimal> = []
  for (const text of texts) {
    const d = toDecimal(text)
    if (d === undefined) return undefined
    terms.push(d)
  }
  const scale = Math.max(0, ...terms.map((d) => d.scale))
  let digits = 0n
  for (const d of terms) digits += d.digits * 10n ** BigInt(scale - d.scale)
  return render({ digits, scale })
}
