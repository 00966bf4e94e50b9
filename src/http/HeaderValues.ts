/**
 * Header-value hygiene for values echoed from request input (stage spellings, request ids) and
 * from configuration (the docs URL). A response header must never carry CR, LF or any other byte
 * Node's `http.validateHeaderValue` refuses: a stage string such as `"seed\r\nSet-Cookie: x"`
 * would otherwise split the response or turn it into a 500.
 *
 * Rules, applied in one pass that stops as soon as the bound is reached (a 1 MB input costs the
 * same as a 64-character one):
 *
 * - printable ASCII (0x21–0x7E) is kept, except `%` and `,` which are percent-encoded (so the
 *   encoding is reversible and a list item cannot forge a list separator);
 * - an inner space is kept; a leading or trailing space is encoded as `%20`;
 * - everything else (controls, DEL, non-ASCII) is percent-encoded as its UTF-8 bytes (lone
 *   surrogates as U+FFFD);
 * - the result is cut at a bound without splitting an escape, and marked with a trailing `...`.
 *
 * @since 0.1.0
 */

/**
 * Longest echoed item (characters, after encoding).
 *
 * @example
 * ```ts
 * import { MAX_ECHOED_ITEM_LENGTH } from "./HeaderValues.ts" // internal: not part of the package's API
 * MAX_ECHOED_ITEM_LENGTH // => 64
 * ```
 * @since 0.1.0
 * @category constants
 */
export const MAX_ECHOED_ITEM_LENGTH = 64

/**
 * Most items echoed in one list header; more are summarised as `...`.
 *
 * @example
 * ```ts

 * MAX_ECHOED_ITEMS // => 10
 * ```
 * @since 0.1.0
 * @category constants
 */
const MAX_ECHOED_ITEMS = 10

/**
 * Longest URL echoed in `X-Stage-Docs` / `Link`.
 *
 * @since 0.1.0
 * @category constants
 */
const MAX_URL_LENGTH = 512

const HEX = "0123456789ABCDEF"
const TRUNCATION_MARK = "..."

const pct = (byte: number): string => "%" + HEX[byte >> 4]! + HEX[byte & 15]!

/** Percent-encodes one code point as UTF-8 bytes. */
const encodeCodePoint = (cp: number): string => {
  if (cp < 0x80) return pct(cp)
  if (cp < 0x800) return pct(0xc0 | (cp >> 6)) + pct(0x80 | (cp & 63))
  if (cp < 0x10000) return pct(0xe0 | (cp >> 12)) + pct(0x80 | ((cp >> 6) & 63)) + pct(0x80 | (cp & 63))
  return pct(0xf0 | (cp >> 18)) + pct(0x80 | ((cp >> 12) & 63)) + pct(0x80 | ((cp >> 6) & 63)) +
    pct(0x80 | (cp & 63))
}

/**
 * Sanitises one value for a header: see the module notes for the rules. Never throws, returns
 * only characters in `[\x20-\x7E]`, never starts or ends with a space, and is at most
 * `maxLength + 3` characters long (the `...` mark).
 *
 * @example
 * ```ts
 * import { sanitizeHeaderItem } from "stage-normalization/http"
 * sanitizeHeaderItem("Series A")            // => "Series A"
 * sanitizeHeaderItem("seed\r\nX-Evil: 1")   // => "seed%0D%0AX-Evil: 1"
 * sanitizeHeaderItem("séed")                // => "s%C3%A9ed"
 * sanitizeHeaderItem("a,b")                 // => "a%2Cb"
 * ```
 * @since 0.1.0
 * @category sanitising
 */
export const sanitizeHeaderItem = (input: string, maxLength: number = MAX_ECHOED_ITEM_LENGTH): string => {
  let out = ""
  const last = input.length - 1
  for (let i = 0; i < input.length; i++) {
    let cp = input.charCodeAt(i)
    let width = 1
    if (cp >= 0xd800 && cp <= 0xdbff && i < last) {
      const next = input.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00)
        width = 2
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd // lone surrogate
    let piece: string
    if (cp > 0x20 && cp < 0x7f && cp !== 0x25 && cp !== 0x2c) {
      piece = input[i]!
    } else if (cp === 0x20 && out.length > 0 && i + width <= last) {
      piece = " "
    } else {
      piece = encodeCodePoint(cp)
    }
    if (out.length + piece.length > maxLength) {
      return out + TRUNCATION_MARK
    }
    out += piece
    i += width - 1
  }
  // A kept inner space can end the value when the rest was cut; encode it.
  return out.endsWith(" ") ? out.slice(0, -1) + "%20" : out
}

/**
 * Sanitises a list of values into one comma-separated header value: each item through
 * {@link sanitizeHeaderItem}, at most {@link MAX_ECHOED_ITEMS} items, then `...`.
 *
 * @example
 * ```ts
 * import { sanitizeHeaderList } from "stage-normalization/http"
 * sanitizeHeaderList(["late-stage", "growth"]) // => "late-stage,growth"
 * ```
 * @since 0.1.0
 * @category sanitising
 */
export const sanitizeHeaderList = (
  items: ReadonlyArray<string>,
  maxItems: number = MAX_ECHOED_ITEMS,
  maxItemLength: number = MAX_ECHOED_ITEM_LENGTH
): string => {
  const n = Math.min(items.length, maxItems)
  let out = ""
  for (let i = 0; i < n; i++) {
    if (i > 0) out += ","
    out += sanitizeHeaderItem(items[i]!, maxItemLength)
  }
  return items.length > maxItems ? out + "," + TRUNCATION_MARK : out
}

/**
 * A URL made safe for `X-Stage-Docs` and `Link: <…>`: parsed with WHATWG `URL` (which strips
 * tabs and newlines and percent-encodes spaces, quotes and angle brackets), `http:` or `https:`
 * only, at most {@link MAX_URL_LENGTH} characters. Anything else yields `fallback`.
 *
 * @example
 * ```ts
 * import { sanitizeUrl } from "stage-normalization/http"
 * sanitizeUrl("https://example.com/docs stage", "https://x.test/") // => "https://example.com/docs%20stage"
 * sanitizeUrl("javascript:alert(1)", "https://x.test/")           // => "https://x.test/"
 * ```
 * @since 0.1.0
 * @category sanitising
 */
export const sanitizeUrl = (url: string, fallback: string): string => {
  if (url.length > MAX_URL_LENGTH * 4) return fallback
  const parsed = URL.parse(url)
  if (parsed === null || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) return fallback
  const href = parsed.href
  // `href` is ASCII except for a non-ASCII host the parser kept as punycode; check anyway.
  if (href.length > MAX_URL_LENGTH || !/^[\x21-\x7e]+$/.test(href)) return fallback
  return href
}
