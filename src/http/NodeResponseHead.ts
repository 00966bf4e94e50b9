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
 * The handler's head appended to `head` (the boundary's headers, which this call owns), or
 * `undefined` when the two cannot simply be concatenated (a name in both, or headers the handler
 * already set with `setHeader`): then the caller falls back to setting the boundary's headers one
 * by one. `ours` are the lower-case names in `head`. One pass over the handler's names, appending
 * as it checks (no second list built for the common case, a headers object).
 */
const merged = (
  res: ServerResponse,
  head: Array<OutgoingHttpHeader>,
  ours: ReadonlyArray<string>,
  headers: HeadHeaders | undefined
): HeadHeaders | undefined => {
  if (res.getHeaderNames().length > 0) return undefined
  if (headers === undefined) return head
  const own = head.length
  if (!Array.isArray(headers)) {
    const record = headers as OutgoingHttpHeaders
    for (const name in record) {
      if (!Object.hasOwn(record, name)) continue
      if (ours.includes(name.toLowerCase())) {
        head.length = own
        return undefined
      }
      head.push(name, record[name] as OutgoingHttpHeader)
    }
    return head
  }
  if (headers.length === 0) return head
  for (const name of namesOf(headers)) if (ours.includes(name.toLowerCase())) return undefined
  if (Array.isArray(headers[0])) return [...toPairs(head as Array<string>), ...(headers as ReadonlyArray<ReadonlyArray<string>>)]
  for (let i = 0; i < headers.length; i++) head.push(headers[i] as OutgoingHttpHeader)
  return head
}

/**
 * Adds `head` (`[name, value, …]`, values already sanitised) to the head `res` is about to write,
 * in the same `writeHead` call (see the module notes). A header of the same name that the
 * handler sets wins. `head` is given away: the handler's headers are appended to it. `names` are
 * its lower-case header names (computed from `head` when not given). Call once per response,
 * before the handler runs.
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
export const addToHead = (res: ServerResponse, head: Array<string>, names?: ReadonlyArray<string>): void => {
  if (!(res instanceof ServerResponse)) {
    // Not node:http's response (HTTP/2's compatibility API, a test double): set them as before.
    const other: Pick<ServerResponse, "setHeader"> = res
    for (let i = 0; i < head.length; i += 2) other.setHeader(head[i]!, head[i + 1]!)
    return
  }
  const ours = names ?? lowerNames(head)
  const original = res.writeHead as WriteHead
  const writeHead: WriteHead = function(this: ServerResponse, statusCode, reason, headers) {
    // Once: a second call throws in Node itself (the head is already written).
    res.writeHead = original as ServerResponse["writeHead"]
    const message = typeof reason === "string" ? reason : undefined
    const given = typeof reason === "string" ? headers : reason
    const all = merged(res, head, ours, given)
    if (all !== undefined) return original.call(this, statusCode, message as string, all)
    // The slow path, as before: the boundary's headers through `setHeader`, each unless the
    // handler has one of that name, then the handler's head as it was given.
    const theirs = given === undefined ? [] : namesOf(given).map((name) => name.toLowerCase())
    for (let i = 0; i < head.length; i += 2) {
      const name = head[i]!
      if (!res.hasHeader(name) && !theirs.includes(ours[i / 2]!)) res.setHeader(name, head[i + 1]!)
    }
    return original.call(this, statusCode, message as string, given as HeadHeaders)
  }
  res.writeHead = writeHead as ServerResponse["writeHead"]
}

const lowerNames = (flat: ReadonlyArray<string>): Array<string> => {
  const names: Array<string> = []
  for (let i = 0; i < flat.length; i += 2) names.push(flat[i]!.toLowerCase())
  return names
}
