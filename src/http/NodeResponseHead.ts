/**
 * How the plain-Node adapter adds its headers to a response the host's handler writes: in the
 * handler's own `writeHead` call, as one flat `[name, value, …]` list, instead of one
 * `res.setHeader` per header before `next()`.
 *
 * Why: a `setHeader` validates and stores each header in the response's header map, and once
 * that map exists Node's `writeHead(status, headers)` takes its slow path, running `setHeader`
 * again for every header the handler passes. With an alias in the payload that is six
 * `setHeader`s plus the handler's own, per request (measured: about a third of the adapter's
 * extra CPU). Written in the head's flat list, Node validates each header once and builds the
 * head in one pass. Wrapping `res.writeHead` for one response is the hook Express middleware
 * has long used for "just before the head is written" (the `on-headers` package behind
 * `morgan`, `compression` and `response-time`); Node calls `this.writeHead` itself when a
 * handler writes without one (`res.end`, `res.write`, `res.flushHeaders`), so every path passes
 * here.
 *
 * The handler still wins on a name it sets itself, as it did when the boundary set its headers
 * first: a header the handler passes to `writeHead`, or set earlier with `setHeader`, replaces
 * the boundary's header of that name. Until the head is written, `res.getHeader` does not see
 * the boundary's headers; the request id is on `req.stageValidation.requestId`. A response that
 * is not node:http's `ServerResponse` (HTTP/2's compatibility API) gets them through
 * `setHeader`, as before.
 *
 * @since 0.3.0
 */
import { type OutgoingHttpHeader, type OutgoingHttpHeaders, ServerResponse } from "node:http"

type HeadHeaders = OutgoingHttpHeaders | ReadonlyArray<OutgoingHttpHeader> | ReadonlyArray<ReadonlyArray<string>>
type WriteHead = (statusCode: number, reason?: string | HeadHeaders, headers?: HeadHeaders) => ServerResponse

/** `[name, value, name, value, …]` to `[[name, value], …]`, for a handler that passes pairs. */
const toPairs = (flat: ReadonlyArray<string>): Array<[string, string]> => {
  const pairs: Array<[string, string]> = []
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!])
  return pairs
}

/** Does the handler's head name any of the boundary's headers (case-insensitive)? */
const overlaps = (ours: ReadonlyArray<string>, names: ReadonlyArray<string>): boolean => {
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!.toLowerCase()
    for (let j = 0; j < ours.length; j += 2) if (ours[j]!.toLowerCase() === name) return true
  }
  return false
}

/** The names in a handler's `writeHead` headers argument. */
const namesOf = (headers: HeadHeaders): ReadonlyArray<string> => {
  if (!Array.isArray(headers)) return Object.keys(headers)
  const names: Array<string> = []
  if (headers.length > 0 && Array.isArray(headers[0])) {
    for (const pair of headers as ReadonlyArray<ReadonlyArray<string>>) names.push(String(pair[0]))
  } else {
    for (let i = 0; i < headers.length; i += 2) names.push(String(headers[i]))
  }
  return names
}

/**
 * The handler's head with the boundary's `flat` headers in front, or `undefined` when the two
 * cannot simply be concatenated (a name in both, or headers the handler already set with
 * `setHeader`): then the caller falls back to setting the boundary's headers one by one.
 */
const merged = (res: ServerResponse, flat: ReadonlyArray<string>, headers: HeadHeaders | undefined): HeadHeaders | undefined => {
  if (res.getHeaderNames().length > 0) return undefined
  if (headers === undefined) return flat as Array<string>
  if (overlaps(flat, namesOf(headers))) return undefined
  if (Array.isArray(headers)) {
    if (headers.length === 0) return flat as Array<string>
    if (Array.isArray(headers[0])) return [...toPairs(flat), ...(headers as ReadonlyArray<ReadonlyArray<string>>)]
    return [...flat, ...(headers as ReadonlyArray<OutgoingHttpHeader>)] as Array<OutgoingHttpHeader>
  }
  const out: Array<OutgoingHttpHeader> = flat.slice()
  const record = headers as OutgoingHttpHeaders
  for (const name in record) {
    if (Object.hasOwn(record, name)) out.push(name, record[name] as OutgoingHttpHeader)
  }
  return out
}

/**
 * Adds `flat` (`[name, value, …]`, values already sanitised) to the head `res` is about to write,
 * in the same `writeHead` call (see the module notes). A header of the same name that the
 * handler sets wins. Call once per response, before the handler runs.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http"
 * import { addToHead } from "./NodeResponseHead.ts" // internal: not part of the package's API
 * createServer((_req, res) => {
 *   addToHead(res, ["x-request-id", "r-1", "X-Stage-Docs", "https://docs.example/stages"])
 *   res.writeHead(200, { "content-type": "text/plain" }) // sends all three headers
 *   res.end("ok")
 * })
 * ```
 * @since 0.3.0
 * @category adapters
 */
export const addToHead = (res: ServerResponse, flat: ReadonlyArray<string>): void => {
  if (!(res instanceof ServerResponse)) {
    // Not node:http's response (HTTP/2's compatibility API, a test double): set them as before.
    const other: Pick<ServerResponse, "setHeader"> = res
    for (let i = 0; i < flat.length; i += 2) other.setHeader(flat[i]!, flat[i + 1]!)
    return
  }
  const original = res.writeHead as WriteHead
  const writeHead: WriteHead = function(this: ServerResponse, statusCode, reason, headers) {
    // Once: a second call throws in Node itself (the head is already written).
    res.writeHead = original as ServerResponse["writeHead"]
    const message = typeof reason === "string" ? reason : undefined
    const given = typeof reason === "string" ? headers : reason
    const head = merged(res, flat, given)
    if (head !== undefined) return original.call(this, statusCode, message as string, head)
    // The slow path, as before: the boundary's headers through `setHeader`, each unless the
    // handler has one of that name, then the handler's head as it was given.
    const names = given === undefined ? [] : namesOf(given).map((name) => name.toLowerCase())
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i]!
      if (!res.hasHeader(name) && !names.includes(name.toLowerCase())) res.setHeader(name, flat[i + 1]!)
    }
    return original.call(this, statusCode, message as string, given as HeadHeaders)
  }
  res.writeHead = writeHead as ServerResponse["writeHead"]
}
