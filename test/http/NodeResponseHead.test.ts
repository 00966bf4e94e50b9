/**
 * The plain-Node adapter's headers go out in the handler's own `writeHead`, whatever form the
 * handler writes its head in (headers object, flat list, pairs, a status message, no
 * `writeHead` at all, Express-style `setHeader` first), exactly once each, and a header the
 * handler sets itself wins over the boundary's header of that name. Read from the raw response
 * head (`rawHeaders`), so a duplicated line would show.
 */
import { createServer, get, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { addToHead } from "../../src/http/NodeResponseHead.ts"

const OURS = ["x-request-id", "req-1", "X-Stage-Docs", "https://docs.example/stages", "Link", "<https://docs.example/stages>; rel=\"deprecation\""]

const handlers: Record<string, (res: ServerResponse) => void> = {
  "/object": (res) => res.writeHead(201, { "content-type": "text/plain", "x-app": "1" }).end("ok"),
  "/message": (res) => res.writeHead(202, "Fine", { "content-type": "text/plain" }).end("ok"),
  "/flat": (res) => res.writeHead(200, ["content-type", "text/plain", "x-app", "1"]).end("ok"),
  "/pairs": (res) => res.writeHead(200, [["content-type", "text/plain"], ["x-app", "1"]] as unknown as Array<string>).end("ok"),
  "/none": (res) => res.writeHead(204).end(),
  "/implicit": (res) => {
    res.statusCode = 200
    res.end("ok")
  },
  "/set-first": (res) => {
    res.setHeader("content-type", "text/plain")
    res.end("ok")
  },
  "/own-link-object": (res) => res.writeHead(200, { link: "<https://app.example/>; rel=\"help\"" }).end("ok"),
  "/own-id-flat": (res) => res.writeHead(200, ["X-Request-Id", "handler-id"]).end("ok"),
  "/own-link-set": (res) => {
    res.setHeader("LINK", "<https://app.example/>; rel=\"help\"")
    res.writeHead(200, { "content-type": "text/plain" }).end("ok")
  },
  "/twice": (res) => {
    res.writeHead(200)
    assert.throws(() => res.writeHead(200))
    res.end("ok")
  }
}

let server: Server
let base: string
beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    addToHead(res, [...OURS])
    handlers[req.url ?? ""]!(res)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

/** Status, status message and the raw head as [lower-case name, value] lines. */
const head = (path: string) =>
  new Promise<{ status: number; message: string; lines: Array<[string, string]> }>((resolve, reject) => {
    get(base + path, (res) => {
      const lines: Array<[string, string]> = []
      for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!])
      res.resume()
      res.on("end", () => resolve({ status: res.statusCode!, message: res.statusMessage!, lines }))
    }).on("error", reject)
  })

const valuesOf = (lines: ReadonlyArray<[string, string]>, name: string) => lines.filter(([n]) => n === name).map(([, v]) => v)

describe("addToHead", () => {
  for (const path of ["/object", "/message", "/flat", "/pairs", "/none", "/implicit", "/set-first", "/twice"]) {
    it(`${path}: the boundary's headers once each, beside the handler's`, async () => {
      const { lines } = await head(path)
      assert.deepStrictEqual(valuesOf(lines, "x-request-id"), ["req-1"])
      assert.deepStrictEqual(valuesOf(lines, "x-stage-docs"), ["https://docs.example/stages"])
      assert.deepStrictEqual(valuesOf(lines, "link"), ["<https://docs.example/stages>; rel=\"deprecation\""])
      if (path !== "/none" && path !== "/implicit" && path !== "/twice") assert.deepStrictEqual(valuesOf(lines, "content-type"), ["text/plain"])
      if (["/object", "/flat", "/pairs"].includes(path)) assert.deepStrictEqual(valuesOf(lines, "x-app"), ["1"])
    })
  }

  it("keeps the status and status message", async () => {
    assert.include(await head("/object"), { status: 201 })
    assert.include(await head("/message"), { status: 202, message: "Fine" })
    assert.include(await head("/none"), { status: 204 })
  })

  it("a header the handler sets itself wins, in each form", async () => {
    for (const path of ["/own-link-object", "/own-link-set"]) {
      const { lines } = await head(path)
      assert.deepStrictEqual(valuesOf(lines, "link"), ["<https://app.example/>; rel=\"help\""], path)
      assert.deepStrictEqual(valuesOf(lines, "x-request-id"), ["req-1"], path)
      assert.deepStrictEqual(valuesOf(lines, "x-stage-docs"), ["https://docs.example/stages"], path)
    }
    const { lines } = await head("/own-id-flat")
    assert.deepStrictEqual(valuesOf(lines, "x-request-id"), ["handler-id"])
    assert.deepStrictEqual(valuesOf(lines, "x-stage-docs"), ["https://docs.example/stages"])
  })

  it("a response that is not node:http's (HTTP/2 compatibility, a double) gets them through setHeader at once", () => {
    const set: Array<[string, string]> = []
    const double = { setHeader: (name: string, value: string) => void set.push([name, value]) } as unknown as ServerResponse
    addToHead(double, [...OURS])
    assert.deepStrictEqual(set, [["x-request-id", "req-1"], ["X-Stage-Docs", "https://docs.example/stages"], ["Link", "<https://docs.example/stages>; rel=\"deprecation\""]])
  })
})
