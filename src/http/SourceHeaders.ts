/**
 * The few request headers the Effect boundary reads (`x-request-id`, the stickiness header,
 * `user-agent`), without building effect's `Headers` map when the server already has one.
 *
 * effect's `request.headers` copies every request header into a new `Headers` map the first time
 * it is read (measured: ~0.4 µs for five headers, warm; a route that never reads headers never
 * pays it). On `@effect/platform-node`, node:http has already built the same map by lower-case
 * name (`IncomingMessage.headers`, which Node builds for every request). While nothing has
 * replaced the request's headers — platform-node's request keeps a `headersOverride` that stays
 * unset until a middleware calls `request.modify({ headers })`, the request target carries an
 * authority, or someone reads `request.headers` — that map is the request's headers, and the
 * boundary reads from it. Otherwise (another platform, another version without that field, a
 * replaced or already-built map) it reads `request.headers`, as before. (A host whose server
 * tracer is on — a tracer backend installed, or a server middleware given — has the map built
 * by the tracer before any route: then the boundary's read is free either way.)
 *
 * @since 0.3.0
 */
import type { HttpServerRequest } from "effect/http"

/**
 * Request headers by lower-case name, as both hosts expose them (Node: arrays for `set-cookie`).
 *
 * @since 0.3.0
 * @category models
 */
export type RequestHeaders = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

interface PlatformNodeRequest {
  readonly headersOverride?: unknown
  readonly source: { readonly headers?: unknown; readonly rawHeaders?: unknown; readonly httpVersionMajor?: unknown }
}

/**
 * The request's headers, read from node:http's own map when that is still the request's (see
 * the module notes), else `request.headers`.
 *
 * @example
 * ```ts
 * import { HttpServerRequest } from "effect/http"
 * import { headersOf } from "./SourceHeaders.ts" // internal: not part of the package's API
 * const request = HttpServerRequest.fromWeb(new Request("http://x.test/", { headers: { "X-Request-Id": "r-1" } }))
 * headersOf(request)["x-request-id"] // => "r-1"
 * ```
 * @since 0.3.0
 * @category request ids
 */
export const headersOf = (request: HttpServerRequest.HttpServerRequest): RequestHeaders => {
  const r = request as unknown as PlatformNodeRequest
  if ("headersOverride" in r && r.headersOverride === undefined) {
    const source = r.source
    // HTTP/1 only: an HTTP/2 map also holds pseudo-headers (`:authority`), which platform-node drops
    if (Array.isArray(source.rawHeaders) && source.httpVersionMajor === 1) {
      const headers = source.headers
      if (typeof headers === "object" && headers !== null) return headers as RequestHeaders
    }
  }
  return request.headers
}
