/**
 * Request ids: the `x-request-id` a client (or a proxy) sent, when it is sane, or a fresh UUID.
 * The id is for correlation: it appears in offender logs and is echoed in the response, so it is
 * bounded and restricted to a safe alphabet. It is not the percentage rollout's bucketing key
 * (a client would pick its own bucket): see `BucketKey.ts`.
 *
 * @since 0.1.0
 */
import { randomUUID } from "node:crypto"

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

/**
 * The request id to use: the incoming header value when sane (a repeated header counts as
 * absent), otherwise a random UUID.
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
  typeof incoming === "string" && isSaneRequestId(incoming) ? incoming : randomUUID()
