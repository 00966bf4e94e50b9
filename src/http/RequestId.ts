/**
 * Request ids: the `x-request-id` a client (or a proxy) sent, when it is sane, or a fresh one.
 * The id is for correlation: it appears in offender logs and is echoed in the response, so it is
 * bounded and restricted to a safe alphabet. It is not the percentage rollout's bucketing key
 * (a client would pick its own bucket): see `BucketKey.ts`.
 *
 * @since 0.1.0
 */
import { randomBytes } from "node:crypto"

/**
 * The request-id header (lower-case, as Node and Effect expose request headers).
 *
 * @example
 * ```ts
 * import { REQUEST_ID_HEADER } from "stage-normalization/http"
 * REQUEST_ID_HEADER // => "x-request-id"
 * ```
 * @since 0.1.0
 * @category constants
 */
export const REQUEST_ID_HEADER = "x-request-id"

/**
 * Longest accepted incoming request id.
 *
 * @since 0.1.0
 * @category constants
 */
const MAX_REQUEST_ID_LENGTH = 128

const SAFE_ID = /^[A-Za-z0-9._:@/+=-]+$/

/**
 * Whether an incoming id is usable as is: 1…128 characters of `A–Z a–z 0–9 . _ : @ / + = -`.
 *
 * @example
 * ```ts

 * isSaneRequestId("req-42")      // => true
 * isSaneRequestId("a\r\nb")      // => false
 * isSaneRequestId("x".repeat(200)) // => false
 * ```
 * @since 0.1.0
 * @category request ids
 */
const isSaneRequestId = (id: string): boolean =>
  id.length > 0 && id.length <= MAX_REQUEST_ID_LENGTH && SAFE_ID.test(id)

// Generated ids are RFC 9562 UUIDv8 (the custom-layout version): 74 random bits drawn once per
// process, then a 48-bit counter. Unique within a process by construction and across processes
// with overwhelming probability, in the UUID form log tooling expects, and without drawing
// entropy per request (`randomUUID()` was a tenth of the Node adapter's own cost per request).
// The id is for correlation only, so being guessable is harmless.
// Per request it is one table lookup and one concatenation: everything but the counter's last
// two hex digits is kept as one string, rebuilt every 256 ids (measured inside the plain-Node
// server at a fixed load, six lookups and seven pieces per id cost about 1 µs a request).
let idPrefix = ""
let idHead = ""
let idCounter = 0
const ID_COUNTER_LIMIT = 2 ** 48

const newIdPrefix = (): string => {
  const hex = randomBytes(10).toString("hex") // 80 bits, 74 of them used
  const variant = (8 + (parseInt(hex[15]!, 16) & 3)).toString(16) // 10xx: the RFC 9562 variant
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(12, 15)}-${variant}${hex.slice(16, 19)}-`
}

/** The id's first 34 characters for counter values `n` … `n + 255` (`n` a multiple of 256). */
const idHeadFor = (prefix: string, n: number): string => {
  const high = Math.floor(n / 0x1000000)
  const middle = (n >>> 8) & 0xffff
  return prefix + HEX[(high >>> 16) & 255]! + HEX[(high >>> 8) & 255]! + HEX[high & 255]! +
    HEX[middle >>> 8]! + HEX[middle & 255]!
}

/**
 * A fresh request id: a UUID (version 8) unique to this request.
 *
 * @example
 * ```ts
 * import { newRequestId } from "./RequestId.ts" // internal: not part of the package's API
 * const id = newRequestId()
 * /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id) // => true
 * newRequestId() !== id // => true
 * ```
 * @since 0.3.0
 * @category request ids
 */
export const newRequestId = (): string => {
  let n = idCounter
  if (n === 0 || n >= ID_COUNTER_LIMIT) {
    idPrefix = newIdPrefix()
    n = 0
  }
  if ((n & 255) === 0) idHead = idHeadFor(idPrefix, n)
  idCounter = n + 1
  return idHead + HEX[n & 255]!
}

// Two hex digits per byte, from a table: `Number#toString(16)` on a 48-bit value costs ~200 ns.
const HEX: ReadonlyArray<string> = Array.from({ length: 256 }, (_, i) => (i + 256).toString(16).slice(1))

/**
 * The request id to use: the incoming header value when sane (a repeated header counts as
 * absent), otherwise a fresh UUID ({@link newRequestId}).
 *
 * @example
 * ```ts
 * import { resolveRequestId } from "./RequestId.ts" // internal: not part of the package's API
 * resolveRequestId("abc-123")          // => "abc-123"
 * resolveRequestId(undefined).length   // => 36
 * ```
 * @since 0.1.0
 * @category request ids
 */
export const resolveRequestId = (incoming: string | ReadonlyArray<string> | undefined): string =>
  typeof incoming === "string" && isSaneRequestId(incoming) ? incoming : newRequestId()
