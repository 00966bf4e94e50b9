/**
 * A bounded load driver for the reference service on loopback: small batches of valid and invalid
 * stage requests at a steady pace — reads (a GET with a query parameter, a read-classified
 * Monte-Carlo POST) and, for a `writeShare` of them, allocation writes — every response recorded
 * (time, kind, operation, status), stopped by the caller, a request budget or a deadline,
 * whichever comes first.
 */
import { sleep } from "./processes.ts"

export type RequestKind = "valid" | "invalid"

export type Operation = "read" | "write"

export interface Sent {
  readonly at: number
  readonly kind: RequestKind
  readonly operation: Operation
  readonly status: number
}

export interface TrafficOptions {
  readonly baseUrl: string
  /** requests per batch */
  readonly batch: number
  /** pause between batches */
  readonly intervalMs: number
  /** share of invalid requests in each batch, 0..1 (may be changed while running) */
  invalidShare: number
  /** share of writes (`POST /api/allocations`), 0..1, default 0 (may be changed while running) */
  writeShare?: number
  readonly maxRequests: number
  readonly deadline: number
}

export interface Traffic {
  readonly options: TrafficOptions
  readonly log: ReadonlyArray<Sent>
  /** Holds new batches and resolves once the batch in flight has been answered. */
  readonly pause: () => Promise<void>
  readonly resume: () => void
  readonly stop: () => Promise<void>
  readonly done: Promise<void>
}

const VALID_STAGES = ["seed", "series-a", "Series B", "pre-seed"]

const request = (baseUrl: string, kind: RequestKind, operation: Operation, i: number): Promise<Response> => {
  const stage = kind === "valid" ? VALID_STAGES[i % VALID_STAGES.length]! : `not-a-stage-${i % 7}`
  if (operation === "write") {
    return fetch(`${baseUrl}/api/allocations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ fundId: 1 + (i % 3), amount: 1_000 + (i % 100), stage }),
      signal: AbortSignal.timeout(5_000)
    })
  }
  // a read (GET with a query parameter) and a read-classified POST (Monte-Carlo), alternately
  return i % 2 === 0
    ? fetch(`${baseUrl}/api/funds/1/companies?stage=${encodeURIComponent(stage)}`, { signal: AbortSignal.timeout(5_000) })
    : fetch(`${baseUrl}/api/monte-carlo/simulate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ fundId: 1, runs: 10, stageDistribution: [{ stage, weight: 1 }] }),
      signal: AbortSignal.timeout(5_000)
    })
}

/** Starts sending; `invalidShare` can be changed on the returned options while it runs. */
export const startTraffic = (options: TrafficOptions): Traffic => {
  const log: Array<Sent> = []
  const state = { running: true, paused: false }
  let inFlight: Promise<unknown> = Promise.resolve()
  let n = 0
  let invalidDebt = 0
  let writeDebt = 0
  const done = (async () => {
    while (state.running && n < options.maxRequests && Date.now() < options.deadline) {
      if (state.paused) {
        await sleep(10)
        continue
      }
      const batch: Array<Promise<void>> = []
      for (let b = 0; b < options.batch && n < options.maxRequests; b++, n++) {
        invalidDebt += options.invalidShare
        const kind: RequestKind = invalidDebt >= 1 ? "invalid" : "valid"
        if (kind === "invalid") invalidDebt -= 1
        writeDebt += options.writeShare ?? 0
        const operation: Operation = writeDebt >= 1 ? "write" : "read"
        if (operation === "write") writeDebt -= 1
        const i = n
        batch.push(
          request(options.baseUrl, kind, operation, i).then(
            async (r) => {
              await r.arrayBuffer()
              log.push({ at: Date.now(), kind, operation, status: r.status })
            },
            () => {
              log.push({ at: Date.now(), kind, operation, status: 0 })
            }
          )
        )
      }
      inFlight = Promise.all(batch)
      await inFlight
      await sleep(options.intervalMs)
    }
  })()
  return {
    options,
    log,
    done,
    pause: async () => {
      state.paused = true
      await inFlight
    },
    resume: () => {
      state.paused = false
    },
    stop: async () => {
      state.running = false
      await done
    }
  }
}

/**
 * The first time at or after `from` at which the share of rejected (400) responses over the
 * trailing `windowMs` exceeded `threshold`, as the clients saw it; `undefined` if it never did.
 * The window looks back across `from` (the traffic before it counts), and a window of fewer than
 * `minSamples` responses never counts as a crossing — one 400 alone is not "0.5 % of traffic".
 */
export const firstCrossing = (
  log: ReadonlyArray<Sent>,
  windowMs: number,
  threshold: number,
  options: { readonly from?: number; readonly minSamples?: number } = {}
): number | undefined => {
  const from = options.from ?? 0
  const minSamples = options.minSamples ?? 1
  const sorted = [...log].sort((a, b) => a.at - b.at)
  let start = 0
  let rejected = 0
  for (let end = 0; end < sorted.length; end++) {
    const s = sorted[end]!
    if (s.status === 400) rejected++
    while (sorted[start]!.at < s.at - windowMs) {
      if (sorted[start]!.status === 400) rejected--
      start++
    }
    const size = end - start + 1
    if (s.at >= from && size >= minSamples && rejected / size > threshold) return s.at
  }
  return undefined
}

/** `"1200 requests (1150× 200, 50× 400)"`: what the load got back, for the run's last lines. */
export const describeLoad = (log: ReadonlyArray<Sent>): string => {
  const statuses = new Map<number, number>()
  for (const s of log) statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1)
  return `${log.length} requests (${[...statuses].map(([status, count]) => `${count}× ${status}`).join(", ")})`
}
