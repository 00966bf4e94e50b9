/**
 * Load for the boundary benchmark, from the parent process, loopback only:
 *
 * - `paced`: a fixed request rate below saturation, spread evenly over time (a request is sent
 *   every `1 / rate` seconds, checked every millisecond, over keep-alive connections), so the
 *   server does the same work per second in every round and its CPU time per request compares
 *   across rounds. (autocannon's `overallRate` sends each second's quota in a burst at the start
 *   of the second, which is saturation for part of every second.)
 * - `saturate`: autocannon at saturation (throughput).
 *
 * Internal to the benchmark.
 */
import { Agent, request } from "node:http"
import { createRequire } from "node:module"

interface AutocannonResult {
  readonly requests: { readonly average: number; readonly total: number }
  readonly latency: { readonly p50: number; readonly p99: number }
  readonly non2xx: number
  readonly errors: number
}
type Autocannon = (options: {
  readonly url: string
  readonly method: string
  readonly headers: Record<string, string>
  readonly body: string
  readonly connections: number
  readonly duration: number
}) => Promise<AutocannonResult>

const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon

const HEADERS = { "content-type": "application/json", "user-agent": "bench/http-boundary" } as const

/** What a paced window did. */
export interface PacedResult {
  readonly completed: number
  /** answers whose status was not the expected one */
  readonly unexpected: number
  readonly errors: number
  /** the rate actually achieved, requests per second */
  readonly achievedRate: number
}

const agents = new Map<number, Agent>()
const agentFor = (connections: number): Agent => {
  let agent = agents.get(connections)
  if (agent === undefined) {
    agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections })
    agents.set(connections, agent)
  }
  return agent
}

/**
 * Sends `rate × seconds` requests at a fixed rate and resolves once every answer is in.
 */
export const paced = (options: {
  readonly url: string
  readonly body: string
  readonly rate: number
  readonly seconds: number
  readonly connections: number
  readonly expectStatus: number
}): Promise<PacedResult> =>
  new Promise((resolve) => {
    const url = new URL(options.url)
    const agent = agentFor(options.connections)
    const payload = Buffer.from(options.body)
    const headers = { ...HEADERS, "content-length": String(payload.length) }
    const total = Math.round(options.rate * options.seconds)
    let sent = 0
    let done = 0
    let unexpected = 0
    let errors = 0
    const start = performance.now()
    let last = start
    const finish = () => {
      done++
      if (done === total) {
        resolve({ completed: total - errors, unexpected, errors, achievedRate: total / ((last - start) / 1000 || 1) })
      }
    }
    const send = () => {
      const req = request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        agent,
        headers
      }, (res) => {
        if (res.statusCode !== options.expectStatus) unexpected++
        res.resume()
        res.on("end", () => {
          last = performance.now()
          finish()
        })
      })
      req.on("error", () => {
        errors++
        finish()
      })
      req.end(payload)
    }
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * options.rate) + 1)
      while (sent < due) {
        sent++
        send()
      }
      if (sent < total) setTimeout(tick, 1)
    }
    tick()
  })

/** One saturation window. */
export interface SaturationResult {
  readonly requestsPerSecond: number
  readonly total: number
  readonly latencyP50Ms: number
  readonly latencyP99Ms: number
}

/** autocannon at saturation for `seconds`; throws on any non-2xx answer or error. */
export const saturate = async (options: {
  readonly url: string
  readonly body: string
  readonly seconds: number
  readonly connections: number
}): Promise<SaturationResult> => {
  const result = await autocannon({
    url: options.url,
    method: "POST",
    headers: HEADERS,
    body: options.body,
    connections: options.connections,
    duration: options.seconds
  })
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${options.url}: ${result.non2xx} non-2xx answers, ${result.errors} errors at saturation`)
  }
  return {
    requestsPerSecond: Math.round(result.requests.average * 10) / 10,
    total: result.requests.total,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99
  }
}

/** Closes the paced agents' idle connections. */
export const closeAgents = (): void => {
  for (const agent of agents.values()) agent.destroy()
  agents.clear()
}
