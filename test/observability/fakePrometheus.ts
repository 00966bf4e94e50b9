/**
 * A stand-in for Prometheus' HTTP API on 127.0.0.1: answers `/api/v1/query`, `/api/v1/query_range` and `/api/v1/rules`
 * from a handler, records every request, and can hang or answer garbage to exercise the error
 * paths of the Prometheus metrics source.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export interface RecordedQuery {
  readonly path: string
  readonly params: Readonly<Record<string, string>>
}

export type Reply =
  | { readonly kind: "json"; readonly status?: number; readonly body: unknown }
  | { readonly kind: "raw"; readonly status: number; readonly body: string }
  | { readonly kind: "hang" }

export interface FakePrometheus {
  readonly url: string
  readonly requests: Array<RecordedQuery>
  readonly close: () => Promise<void>
}

/** A successful instant-vector answer. */
export const vector = (samples: ReadonlyArray<{ readonly metric?: Record<string, string>; readonly value: string }>): Reply => ({
  kind: "json",
  body: {
    status: "success",
    data: { resultType: "vector", result: samples.map((s) => ({ metric: s.metric ?? {}, value: [1, s.value] })) }
  }
})

/** A successful range (matrix) answer: one series, `value(t)` at each step of the request's range. */
export const matrix = (request: RecordedQuery, value: (unixSeconds: number) => string): Reply => {
  const start = Number(request.params["start"])
  const end = Number(request.params["end"])
  const step = Number.parseFloat(request.params["step"] ?? "1") || 1
  const values: Array<[number, string]> = []
  for (let t = start; t <= end && values.length < 11_000; t += step) values.push([t, value(t)])
  return { kind: "json", body: { status: "success", data: { resultType: "matrix", result: [{ metric: {}, values }] } } }
}

/** A rules listing with these alert names loaded. */
export const rules = (names: ReadonlyArray<string>): Reply => ({
  kind: "json",
  body: { status: "success", data: { groups: [{ name: "g", rules: names.map((name) => ({ name, type: "alerting" })) }] } }
})

export const startFakePrometheus = async (
  handler: (request: RecordedQuery) => Reply
): Promise<FakePrometheus> => {
  const requests: Array<RecordedQuery> = []
  const hanging = new Set<ServerResponse>()
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const recorded = { path: url.pathname, params: Object.fromEntries(url.searchParams) }
    requests.push(recorded)
    const reply = handler(recorded)
    if (reply.kind === "hang") {
      hanging.add(res)
      return
    }
    const body = reply.kind === "json" ? JSON.stringify(reply.body) : reply.body
    res.writeHead(reply.status ?? 200, { "content-type": reply.kind === "json" ? "application/json" : "text/plain" })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
