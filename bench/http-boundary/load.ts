/**
 * Load for the boundary benchmark, from the parent process, loopback only:
 *
 * - `paced`: a fixed request rate below saturation, spread evenly over time (a request is sent
 *   every `1 / rate` seconds, checked every millisecond, over keep-alive connections), so the
 *   server does the same work per second in every round and its CPU time per request compares
 *   across rounds. (autocannon's `overallRate` sends each second's quota in a burst at the start
 *   of the second, which is saturation for part of every second.)
 * - `pacedPair`: the same to two servers at once, one request to each in turn (the paired CPU
 *   measurement: two identical server processes, one serving the route with the boundary and the
 *   other the route without it).
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

/** What one target of a paired window answered. */
export interface PairedTarget {
  readonly url: string
  readonly expectStatus: number
}

/**
 * Sends `rate × seconds` requests to each of two targets at a fixed rate, one to each in turn
 * (which goes first alternates), and resolves once every answer is in: the two servers see the
 * same moments of the machine, request by request.
 */
export const pacedPair = (options: {
  readonly targets: readonly [PairedTarget, PairedTarget]
  readonly body: string
  readonly rate: number
  readonly seconds: number
  readonly connections: number
}): Promise<readonly [PacedResult, PacedResult]> =>
  new Promise((resolve) => {
    const payload = Buffer.from(options.body)
    const headers = { ...HEADERS, "content-length": String(payload.length) }
    const total = Math.round(options.rate * options.seconds)
    const state = options.targets.map((target) => ({
      url: new URL(target.url),
      agent: pairAgent(target.url, options.connections),
      expect: target.expectStatus,
      done: 0,
      unexpected: 0,
      errors: 0
    }))
    const start = performance.now()
    let sent = 0
    let finished = 0
    const finish = () => {
      finished++
      if (finished === total * 2) {
        const seconds = (performance.now() - start) / 1000 || 1
        const result = (k: number): PacedResult => ({
          completed: total - state[k]!.errors,
          unexpected: state[k]!.unexpected,
          errors: state[k]!.errors,
          achievedRate: total / seconds
        })
        resolve([result(0), result(1)])
      }
    }
    const send = (k: number) => {
      const s = state[k]!
      const req = request({ host: s.url.hostname, port: s.url.port, path: s.url.pathname, method: "POST", agent: s.agent, headers }, (res) => {
        if (res.statusCode !== s.expect) s.unexpected++
        res.resume()
        res.on("end", finish)
      })
      req.on("error", () => {
        s.errors++
        finish()
      })
      req.end(payload)
    }
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * options.rate) + 1)
      while (sent < due) {
        const first = sent % 2
        sent++
        send(first)
        send(1 - first)
      }
      if (sent < total) setTimeout(tick, 1)
    }
    tick()
  })

// One keep-alive agent per server (origin) and connection count, so the two servers of a pair
// never share sockets.
const pairAgents = new Map<string, Agent>()
const pairAgent = (url: string, connections: number): Agent => {
  const key = `${new URL(url).origin} ${connections}`
  let agent = pairAgents.get(key)
  if (agent === undefined) {
    agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections })
    pairAgents.set(key, agent)
  }
  return agent
}

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
  for (const agent of [...agents.values(), ...pairAgents.values()]) agent.destroy()
  agents.clear()
  pairAgents.clear()
}
