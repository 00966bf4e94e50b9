/**
 * Redis test harness: a reachability check that fails loudly (never skips), unique key prefixes,
 * and a TCP proxy that can forward, black-hole (reads time out) or drop (connection refused) the
 * traffic of one store instance, to simulate a Redis outage without touching the shared server.
 */
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { createConnection, createServer, type Server, type Socket } from "node:net"

export const REDIS_HOST = "127.0.0.1"
export const REDIS_PORT = 6379
export const REDIS_URL = `redis://${REDIS_HOST}:${REDIS_PORT}`

/** Resolves when Redis answers PING; rejects with an actionable message otherwise. */
export const assertRedisReachable = (): Promise<void> =>
  new Promise((resolve, reject) => {
    const socket = createConnection({ host: REDIS_HOST, port: REDIS_PORT })
    const fail = (why: string) => {
      socket.destroy()
      reject(
        new Error(
          `Redis is required on ${REDIS_HOST}:${REDIS_PORT} for the ModeStore tests (${why}); start it with ` +
            `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no` +
            (process.env["CI"] === "true" ? " — CI=true: failing, not skipping" : "")
        )
      )
    }
    socket.setTimeout(2_000, () => fail("timeout"))
    socket.once("error", (e) => fail(e.message))
    socket.once("connect", () => socket.write("PING\r\n"))
    socket.once("data", (data) => {
      socket.destroy()
      if (data.toString().startsWith("+PONG")) resolve()
      else fail(`unexpected reply ${JSON.stringify(data.toString())}`)
    })
  })

/** A key prefix no other test (or test run) uses. */
export const uniquePrefix = (name: string): string => `stage-validation-test:${name}:${randomUUID()}`

/** Sends one raw command on a fresh connection (for setup and inspection outside the stores). */
export const rawCommand = (...args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = createConnection({ host: REDIS_HOST, port: REDIS_PORT })
    let buffer = ""
    socket.once("error", reject)
    socket.once("connect", () => {
      socket.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(""))
    })
    socket.on("data", (data) => {
      buffer += data.toString()
      // integer, simple string or error replies are one line; that is all the tests use
      if (buffer.endsWith("\r\n")) {
        socket.destroy()
        resolve(buffer.trimEnd())
      }
    })
  })

export type ProxyMode = "forward" | "blackhole" | "down" | "delay"

interface Pair {
  readonly client: Socket
  upstream: Socket | undefined
  blackholed: boolean
}

/** A TCP proxy in front of Redis whose behaviour can be switched at runtime. */
export class RedisProxy {
  private server: Server | undefined
  private mode: ProxyMode = "forward"
  /** `delay` mode: how long every reply from Redis is held back (commands still reach Redis at once). */
  delayMs = 1_500
  private readonly pairs = new Set<Pair>()
  port = 0

  get url(): string {
    return `redis://${REDIS_HOST}:${this.port}`
  }

  start(mode: ProxyMode = "forward"): Promise<void> {
    this.mode = mode
    return new Promise((resolve) => {
      this.server = createServer((client) => this.accept(client))
      this.server.listen(0, REDIS_HOST, () => {
        const address = this.server!.address()
        this.port = typeof address === "object" && address !== null ? address.port : 0
        resolve()
      })
    })
  }

  private accept(client: Socket): void {
    if (this.mode === "down") {
      client.destroy()
      return
    }
    const pair: Pair = { client, upstream: undefined, blackholed: this.mode === "blackhole" }
    this.pairs.add(pair)
    client.on("error", () => undefined)
    client.on("close", () => {
      pair.upstream?.destroy()
      this.pairs.delete(pair)
    })
    if (pair.blackholed) return // accept and never answer
    const upstream = createConnection({ host: REDIS_HOST, port: REDIS_PORT })
    pair.upstream = upstream
    upstream.on("error", () => client.destroy())
    upstream.on("close", () => client.destroy())
    upstream.on("data", (data) => {
      if (pair.blackholed) return
      // a slow Redis: the command runs now, its reply arrives `delayMs` later (in order)
      if (this.mode === "delay") setTimeout(() => void (pair.blackholed || client.write(data)), this.delayMs)
      else client.write(data)
    })
    client.on("data", (data) => {
      if (!pair.blackholed) upstream.write(data)
    })
  }

  /**
   * `forward`: relay traffic (existing black-holed connections are reset, as a healed partition
   * would); `blackhole`: stop answering on every connection, accept new ones silently;
   * `down`: reset every connection and refuse new ones; `delay`: relay, every reply from Redis
   * held back `delayMs` (a slow Redis).
   */
  setMode(mode: ProxyMode): void {
    this.mode = mode
    for (const pair of this.pairs) {
      if (mode === "blackhole") {
        pair.blackholed = true
      } else if (mode === "down" || pair.blackholed) {
        pair.client.destroy()
        pair.upstream?.destroy()
      }
    }
  }

  stop(): Promise<void> {
    this.setMode("down")
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }
}

/** Polls `predicate` every 10 ms; succeeds with the elapsed milliseconds, fails after `timeoutMs`. */
export const waitUntil = (predicate: () => boolean, timeoutMs: number, what: string): Effect.Effect<number, Error> =>
  Effect.gen(function*() {
    const start = Date.now()
    while (!predicate()) {
      if (Date.now() - start > timeoutMs) return yield* Effect.fail(new Error(`timed out after ${timeoutMs} ms: ${what}`))
      yield* Effect.sleep("10 millis")
    }
    return Date.now() - start
  })
