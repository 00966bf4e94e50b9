/**
 * Key folding: the one function that turns a messy string into the key looked up in a
 * vocabulary's table. It is deliberately small, because the migration generates its SQL twin
 * (`normalize_stage(text)`) from {@link KEY_FOLDING_STEPS}: every step must be expressible as a
 * PostgreSQL `normalize` / `regexp_replace` / `lower` call.
 *
 * The steps, in order:
 *
 * 1. inputs longer than {@link MAX_INPUT_LENGTH} characters have no key (they are unknown and
 *    cost O(1) in their length);
 * 2. Unicode NFKC (full-width letters, ligatures and compatibility spaces become ASCII);
 * 3. trim ASCII whitespace (`\t \n \v \f \r` and space) at both ends;
 * 4. lower case, locale-independent (`String.prototype.toLowerCase`, never `toLocaleLowerCase`);
 * 5. every run of whitespace, `_`, `-` or `.` becomes one `-`;
 * 6. one trailing `-stage` or `-round` word is dropped ("Seed Round" → "seed");
 * 7. the word `plus` becomes `+`, and a separator directly before a `+` is dropped
 *    ("Series C Plus" → "series-c+").
 *
 * A folded key that still holds a character outside {@link FOLDED_ALPHABET} (a Cyrillic look-alike,
 * a zero-width space, punctuation) can never match a table entry, so such input stays unknown;
 * suggestions are still computed on it, so a look-alike can point at what it imitates.
 *
 * @since 0.1.0
 */

/**
 * Longest input (in UTF-16 code units) that is folded at all. Longer input is unknown, gets no
 * suggestions and is never scanned.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_INPUT_LENGTH = 64

/**
 * The characters a folded key may consist of. Table keys are validated against it.
 *
 * @since 0.1.0
 * @category constants
 */
const FOLDED_ALPHABET = /^[a-z0-9+-]+$/

/**
 * The folding steps after NFKC and lower-casing as data: regular expressions valid both in
 * JavaScript and in PostgreSQL's ARE dialect, applied in order with the given replacement.
 * The TypeScript fast path ({@link foldKey}) is tested equal to {@link foldKeyReference}, which
 * applies exactly these steps, and the SQL generator emits them verbatim.
 *
 * @since 0.1.0
 * @category constants
 */
export const KEY_FOLDING_STEPS = {
  /** Step 3, before lower-casing. */
  trim: { pattern: "^[\\t\\n\\v\\f\\r ]+|[\\t\\n\\v\\f\\r ]+$", replacement: "" },
  /** Steps 5–7, after lower-casing. */
  afterLowerCase: [
    { pattern: "[\\t\\n\\v\\f\\r _.-]+", replacement: "-" },
    { pattern: "-(stage|round)$", replacement: "" },
    { pattern: "(^|-)plus(?=-|$)", replacement: "$1+" },
    { pattern: "-\\+", replacement: "+" }
  ]
} as const

const trimRegExp = new RegExp(KEY_FOLDING_STEPS.trim.pattern, "g")
const afterLowerCaseRegExps = KEY_FOLDING_STEPS.afterLowerCase.map(
  (step) => [new RegExp(step.pattern, "g"), step.replacement] as const
)

/**
 * The folding steps applied one regular expression at a time: the executable specification
 * that {@link foldKey} (hand-written for speed) and the SQL twin must agree with.
 *
 * @since 0.1.0
 * @category folding
 */
export const foldKeyReference = (input: string): string | undefined => {
  if (input.length > MAX_INPUT_LENGTH) return undefined
  let s = input.normalize("NFKC").replace(trimRegExp, "").toLowerCase()
  for (const [re, replacement] of afterLowerCaseRegExps) s = s.replace(re, replacement)
  return s
}

const isAsciiWhitespace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13)
// separators: ASCII whitespace, "_" (95), "-" (45), "." (46)
const isSeparator = (c: number): boolean => c === 95 || c === 45 || c === 46 || isAsciiWhitespace(c)

/**
 * Fold `input` to its lookup key, or `undefined` when it is longer than
 * {@link MAX_INPUT_LENGTH}.
 *
 * Written by hand rather than as a chain of regular expressions because it runs on every stage
 * string of every request: one pass, no intermediate strings for ASCII input (NFKC is skipped
 * when the input is printable ASCII, where it is the identity).
 *
 * @example
 * ```ts
 * import { foldKey } from "stage-normalization/normalizer"
 * foldKey("  Series_C Plus ") // => "series-c+"
 * foldKey("Seed Round")       // => "seed"
 * ```
 *
 * @since 0.1.0
 * @category folding
 */
export const foldKey = (input: string): string | undefined => {
  const length = input.length
  if (length > MAX_INPUT_LENGTH) return undefined
  for (let i = 0; i < length; i++) {
    if (input.charCodeAt(i) > 126) return foldKeyReference(input)
  }
  let start = 0
  let end = length
  while (start < end && isAsciiWhitespace(input.charCodeAt(start))) start++
  while (end > start && isAsciiWhitespace(input.charCodeAt(end - 1))) end--
  // Step 4 + 5 in one pass.
  let out = ""
  let pendingSeparator = false
  for (let i = start; i < end; i++) {
    const c = input.charCodeAt(i)
    if (isSeparator(c)) {
      pendingSeparator = true
      continue
    }
    if (pendingSeparator) {
      out += "-"
      pendingSeparator = false
    }
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : input[i]
  }
  if (pendingSeparator) out += "-"
  // Step 6: one trailing "-stage" / "-round".
  if (out.endsWith("-stage") || out.endsWith("-round")) out = out.slice(0, -6)
  // Step 7: the word "plus" becomes "+", a separator before "+" is dropped.
  if (out.includes("plus")) out = out.replace(plusWord, "$1+")
  if (out.includes("-+")) out = out.replace(separatorBeforePlus, "+")
  return out
}

const plusWord = /(^|-)plus(?=-|$)/g
const separatorBeforePlus = /-\+/g

/**
 * Does a folded key consist only of {@link FOLDED_ALPHABET} characters (so it could be a table key)?
 *
 * @since 0.1.0
 * @category folding
 */
export const isFoldedKey = (key: string): boolean => FOLDED_ALPHABET.test(key)

/**
 * Trim ASCII whitespace only: the "canonical spelling after trimming" test uses it, so that
 * `" series-a "` is canonical and not deprecated.
 *
 * @since 0.1.0
 * @category folding
 */
export const trimAsciiWhitespace = (input: string): string => {
  let start = 0
  let end = input.length
  while (start < end && isAsciiWhitespace(input.charCodeAt(start))) start++
  while (end > start && isAsciiWhitespace(input.charCodeAt(end - 1))) end--
  return start === 0 && end === input.length ? input : input.slice(start, end)
}
