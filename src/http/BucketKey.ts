/**
 * The bucketing key of the percentage rollout: which requests fall in the enforced set at, say,
 * 10 % enforcement. The key must be one the caller cannot pick, or a client could choose a value
 * outside the enforced bucket and never be enforced. In order of precedence, the boundary uses:
 *
 * 1. the host's key for the request (the route's / handler's `bucketKey` option): a tenant, fund
 *    or principal the host has authenticated — every request of one tenant then gets the same
 *    decision;
 * 2. the value of the rollout document's `stickinessHeader`, when it names one: an operator's
 *    explicit opt-in, safe only for a header the host's own edge sets;
 * 3. otherwise a server-generated key per request (a per-process random prefix and a counter):
 *    each request is enforced with the rollout's probability, whatever it sends.
 *
 * `X-Request-Id` is for correlation only (echoed, logged); it is a bucketing key only when a host
 * opts in explicitly, e.g. with {@link bucketKeyFromHeader}, and then the caller picks its bucket.
 *
 * @since 0.3.0
 */
import { randomBytes } from "node:crypto"

/** Longest key taken from a header; a longer value is cut (it is hashed, never echoed). */
const MAX_HEADER_KEY_LENGTH = 256

/**
 * A request as a bucket-key function sees it: anything with Node-style or Effect-style headers
 * (lower-case names).
 *
 * @example
 * ```ts
 * import type { BucketKeyRequest } from "stage-normalization/http"
 * const request: BucketKeyRequest = { headers: { "x-tenant-id": "fund-42" } }
 * ```
 * @since 0.3.0
 * @category models
 */
export interface BucketKeyRequest {
  /** request headers by lower-case name (Node's `IncomingMessage` and Effect's request both fit) */
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
}

/**
 * Opts into a request header as the bucketing key: its value (the first one when repeated, at
 * most 256 characters), or no key when absent or empty — then the next source applies (the
 * document's `stickinessHeader`, else a server-generated key).
 *
 * Gotcha: whoever sets the header picks the bucket. Use it for a header your own edge sets after
 * authentication (a tenant id), never for one clients send freely — with `x-request-id` a client
 * that sends a fixed id outside the enforced bucket is never enforced.
 *
 * @example
 * ```ts
 * import { bucketKeyFromHeader, createStageValidationHandler, StageLocation } from "stage-normalization/http"
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * const validate = createStageValidationHandler({
 *   endpoint: "/api/allocations", location: StageLocation.bodyStage("stage"), current: () => DEFAULT_DOCUMENT,
 *   bucketKey: bucketKeyFromHeader("x-tenant-id") // set by the gateway after authentication
 * })
 * bucketKeyFromHeader("x-tenant-id")({ headers: { "x-tenant-id": "fund-42" } }) // => "fund-42"
 * ```
 * @since 0.3.0
 * @category bucketing
 */
export const bucketKeyFromHeader = (name: string): (request: BucketKeyRequest) => string | undefined => {
  const header = name.toLowerCase()
  return (request) => {
    const raw = request.headers[header]
    const value = typeof raw === "string" ? raw : raw?.[0]
    if (value === undefined || value.length === 0) return undefined
    return value.length > MAX_HEADER_KEY_LENGTH ? value.slice(0, MAX_HEADER_KEY_LENGTH) : value
  }
}

// A per-process random prefix (unknown to clients) and a counter: unique per request, cheap (no
// entropy drawn per request), and not chosen by the caller.
const PREFIX = `${randomBytes(8).toString("hex")}:`
let counter = 0

/**
 * A fresh server-generated bucketing key.
 *
 * @example
 * ```ts
 * import { serverBucketKey } from "./BucketKey.ts" // internal: not part of the package's API
 * serverBucketKey() !== serverBucketKey() // => true
 * ```
 * @since 0.3.0
 * @category bucketing
 */
export const serverBucketKey = (): string => {
  counter = counter >= Number.MAX_SAFE_INTEGER ? 0 : counter + 1
  return PREFIX + counter.toString(36)
}
