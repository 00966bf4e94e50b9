/**
 * Boundary overhead benchmark: the reference service's `POST /api/monte-carlo/simulate` (small
 * `runs`) with the stage boundary (`withStageValidation`: decision, normalisation, headers,
 * metrics, request id) and without it (`withStageParsingOnly`: the same body parsing and stage
 * normalisation a host would need anyway), each in its own child process on loopback, driven at
 * saturation by autocannon from this process, alternating (A B, then B A, …) so drift hits both.
 *
 *   node bench/http-boundary.ts [--duration 20] [--rounds 2] [--warmup 3] [--connections 32]
 *                               [--runs 10] [--mode warn] [--payloads canonical,aliases]
 *                               [--out baselines/http-boundary.json] [--no-write] [--gate]
 *
 * Two request payloads, each measured separately: `canonical` (a 4-stage distribution in
 * canonical spelling: the steady state once clients are migrated; the boundary adds only
 * `x-request-id`) and `aliases` (one entry spelt "Series A": the boundary also normalises it and
 * emits the six deprecation headers).
 *
 * A second, noise-resistant figure follows each payload: both services driven **at the same
 * time** at a fixed moderate rate (`--paired-rate`, default 1,000 req/s each, `--paired-rounds`
 * × `--paired-seconds`), comparing the server CPU each spends per request (from /proc on Linux).
 * On a small shared machine the saturation throughput also measures the load generator and the
 * neighbours; paired CPU per request under identical conditions isolates the boundary's cost.
 *
 * Goal (issue 4): throughput loss ≤ 5 %. The figures are written to the baseline file (with the
 * Node version, CPU, load average and date) and printed; the exit code is 0 whatever the ratio
 * (a shared, noisy machine reports, it does not gate), unless --gate is given.
 *
 * Child mode (internal): `node bench/http-boundary.ts --serve boundary|baseline` starts the
 * service on an ephemeral port and prints `READY <url>`.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { cpus, loadavg } from "node:os"
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { HttpServer } from "effect/http"
import { DEFAULT_DOCUMENT, type Mode } from "../src/rollout/Config.ts"
import { referenceServiceLayer } from "../src/service/ReferenceService.ts"

interface AutocannonResult {
  readonly requests: { readonly average: number; readonly total: number }
  readonly latency: { readonly p50: number; readonly p99: number; readonly average: number }
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
}
type Autocannon = (options: {
  readonly url: string
  readonly method: string
  readonly headers: Record<string, string>
  readonly body: string
  readonly connections: number
  readonly duration: number
  readonly pipelining?: number
  readonly overallRate?: number
}) => Promise<AutocannonResult>

const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon

const argv = process.argv.slice(2)
const flag = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : fallback
}
const has = (name: string): boolean => argv.includes(`--${name}`)

// ---------------------------------------------------------------------------------------------
// child: one service
// ---------------------------------------------------------------------------------------------

const serveChild = (variant: string, mode: Mode) => {
  const ready = Layer.effectDiscard(Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    yield* Effect.sync(() => process.stdout.write(`READY ${HttpServer.formatAddress(server.address)}\n`))
  }))
  return Layer.launch(ready.pipe(Layer.provide(referenceServiceLayer({
    port: 0,
    host: "127.0.0.1",
    boundary: variant === "boundary",
    initial: { ...DEFAULT_DOCUMENT, defaultMode: mode },
    ops: {
      credentials: { bearerTokens: ["bench-ops-token-bench-ops-token-bench"], signingSecrets: [] },
      alertName: "StageValidationBlastRadius",
      deduplicationTtlSeconds: 600,
      toleranceSeconds: 300,
      production: false
    },
    offenderSamplePercent: 0,
    disableHttpLogger: true
  }))))
}

// ---------------------------------------------------------------------------------------------
// parent: alternate, measure, record
// ---------------------------------------------------------------------------------------------

const start = (variant: "boundary" | "baseline", mode: string): Promise<{ child: ChildProcess; url: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL(import.meta.url).pathname, "--serve", variant, "--mode", mode], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    const timer = setTimeout(() => reject(new Error(`${variant} did not start`)), 60_000)
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const m = /READY (\S+)/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolve({ child, url: m[1]! })
      }
    })
    child.on("exit", (code) => reject(new Error(`${variant} exited with ${code}`)))
  })

const round2 = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Clock ticks per second of /proc/<pid>/stat (usually 100). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100
  } catch {
    return 100
  }
})()

/**
 * CPU seconds (user + system) a child has used so far, from /proc (Linux); undefined elsewhere.
 * On a small machine the load generator shares the cores with the server, so throughput partly
 * measures the client; server CPU per request is the figure that isolates the boundary's cost.
 */
const cpuSeconds = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return undefined
  }
}

const PAYLOADS = {
  canonical: [
    { stage: "seed", weight: 0.3 },
    { stage: "series-a", weight: 0.3 },
    { stage: "series-b", weight: 0.2 },
    { stage: "series-c", weight: 0.2 }
  ],
  aliases: [
    { stage: "seed", weight: 0.3 },
    { stage: "Series A", weight: 0.3 },
    { stage: "series-b", weight: 0.2 },
    { stage: "series-c", weight: 0.2 }
  ]
} as const

const main = async () => {
  const duration = Number(flag("duration", "20"))
  const rounds = Number(flag("rounds", "2"))
  const warmup = Number(flag("warmup", "3"))
  const connections = Number(flag("connections", "32"))
  const runs = Number(flag("runs", "10"))
  const mode = flag("mode", "warn")
  const out = flag("out", "baselines/http-boundary.json")
  const payloads = flag("payloads", "canonical,aliases").split(",").filter((p): p is keyof typeof PAYLOADS => p in PAYLOADS)
  const pairedRate = Number(flag("paired-rate", "1000"))
  const pairedRounds = Number(flag("paired-rounds", "3"))
  const pairedSeconds = Number(flag("paired-seconds", "10"))
  const loadBefore = loadavg()
  const variants = {
    boundary: await start("boundary", mode),
    baseline: await start("baseline", mode)
  }
  const measure = async (variant: "boundary" | "baseline", body: string, seconds: number) => {
    const cpuBefore = cpuSeconds(variants[variant].child.pid)
    const result = await autocannon({
      url: `${variants[variant].url}/api/monte-carlo/simulate`,
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "bench/http-boundary" },
      body,
      connections,
      duration: seconds
    })
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`${variant}: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
    }
    const cpuAfter = cpuSeconds(variants[variant].child.pid)
    return {
      requestsPerSecond: round2(result.requests.average),
      total: result.requests.total,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      serverCpuMicrosPerRequest: cpuBefore === undefined || cpuAfter === undefined || result.requests.total === 0
        ? null
        : round2(((cpuAfter - cpuBefore) * 1e6) / result.requests.total, 1)
    }
  }
  /** Both variants at once, at a fixed rate: server CPU µs per request of each. */
  const measurePaired = async (body: string) => {
    const one = async (variant: "boundary" | "baseline") => {
      const before = cpuSeconds(variants[variant].child.pid)
      const result = await autocannon({
        url: `${variants[variant].url}/api/monte-carlo/simulate`,
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "bench/http-boundary" },
        body,
        connections: 8,
        duration: pairedSeconds,
        overallRate: pairedRate
      })
      const after = cpuSeconds(variants[variant].child.pid)
      return before === undefined || after === undefined || result.requests.total === 0
        ? undefined
        : ((after - before) * 1e6) / result.requests.total
    }
    const [boundary, baseline] = await Promise.all([one("boundary"), one("baseline")])
    return boundary === undefined || baseline === undefined ? undefined : { boundary: round2(boundary, 1), baseline: round2(baseline, 1) }
  }
  try {
    const scenarios = []
    for (const payload of payloads) {
      const body = JSON.stringify({ fundId: 1, runs, seed: 42, stageDistribution: PAYLOADS[payload] })
      // sanity: with aliases the boundary variant emits the stage headers
      const probe = await fetch(`${variants.boundary.url}/api/monte-carlo/simulate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body
      })
      if (probe.status !== 200) throw new Error(`probe answered ${probe.status}`)
      if (payload === "aliases" && mode !== "off" && probe.headers.get("x-stage-deprecated-variants") === null) {
        throw new Error("the boundary variant did not emit the stage headers")
      }
      process.stdout.write(`\n[${payload}] warming up (${warmup} s each)…\n`)
      await measure("boundary", body, warmup)
      await measure("baseline", body, warmup)
      const samples: Array<{ round: number; variant: string } & Awaited<ReturnType<typeof measure>>> = []
      for (let r = 0; r < rounds; r++) {
        const order: ReadonlyArray<"boundary" | "baseline"> = r % 2 === 0 ? ["boundary", "baseline"] : ["baseline", "boundary"]
        for (const variant of order) {
          const figures = await measure(variant, body, duration)
          samples.push({ round: r + 1, variant, ...figures })
          process.stdout.write(
            `[${payload}] round ${r + 1} ${variant.padEnd(8)} ${figures.requestsPerSecond.toFixed(0).padStart(7)} req/s  ` +
              `p50 ${figures.latencyP50Ms} ms  p99 ${figures.latencyP99Ms} ms  server CPU ${figures.serverCpuMicrosPerRequest ?? "?"} µs/req\n`
          )
        }
      }
      const mean = (variant: string) => {
        const xs = samples.filter((s) => s.variant === variant).map((s) => s.requestsPerSecond)
        return xs.reduce((a, b) => a + b, 0) / xs.length
      }
      const withBoundary = mean("boundary")
      const without = mean("baseline")
      const loss = 1 - withBoundary / without
      const cpuMean = (variant: string) => {
        const xs = samples.filter((s) => s.variant === variant).map((s) => s.serverCpuMicrosPerRequest)
        return xs.every((x): x is number => x !== null) ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined
      }
      const cpuBoundary = cpuMean("boundary")
      const cpuBaseline = cpuMean("baseline")
      process.stdout.write(
        `[${payload}] with boundary ${withBoundary.toFixed(0)} req/s, without ${without.toFixed(0)} req/s: ` +
          `throughput loss ${(loss * 100).toFixed(2)} % (goal ≤ 5 %: ${loss <= 0.05 ? "met" : "NOT met"})` +
          (cpuBoundary !== undefined && cpuBaseline !== undefined
            ? `; server CPU ${cpuBoundary.toFixed(1)} vs ${cpuBaseline.toFixed(1)} µs/req (+${((cpuBoundary / cpuBaseline - 1) * 100).toFixed(1)} %)`
            : "") + "\n"
      )
      const paired: Array<{ boundary: number; baseline: number }> = []
      if (pairedRounds > 0 && pairedSeconds > 0) {
        for (let r = 0; r < pairedRounds; r++) {
          const figures = await measurePaired(body)
          if (figures === undefined) break
          paired.push(figures)
          process.stdout.write(
            `[${payload}] paired ${pairedRate} req/s each, round ${r + 1}: server CPU boundary ${figures.boundary} µs/req, ` +
              `baseline ${figures.baseline} µs/req (+${(figures.boundary - figures.baseline).toFixed(1)} µs)\n`
          )
        }
      }
      const pairedSummary = paired.length === 0 ? null : {
        ratePerVariant: pairedRate,
        seconds: pairedSeconds,
        rounds: paired,
        medianOverheadMicrosPerRequest: round2(median(paired.map((p) => p.boundary - p.baseline)), 1),
        medianOverheadPercent: round2(median(paired.map((p) => (p.boundary / p.baseline - 1) * 100)))
      }
      if (pairedSummary !== null) {
        process.stdout.write(
          `[${payload}] paired: the boundary costs +${pairedSummary.medianOverheadMicrosPerRequest} µs of server CPU per request ` +
            `(+${pairedSummary.medianOverheadPercent} %, median of ${paired.length})\n`
        )
      }
      scenarios.push({
        payload,
        samples,
        paired: pairedSummary,
        meanRequestsPerSecond: { boundary: round2(withBoundary), baseline: round2(without) },
        throughputLossPercent: round2(loss * 100),
        goalMet: loss <= 0.05,
        serverCpuMicrosPerRequest: cpuBoundary !== undefined && cpuBaseline !== undefined
          ? {
            boundary: round2(cpuBoundary, 1),
            baseline: round2(cpuBaseline, 1),
            overheadPercent: round2((cpuBoundary / cpuBaseline - 1) * 100)
          }
          : null
      })
    }
    const report = {
      suite: "http-boundary",
      description:
        "POST /api/monte-carlo/simulate on the reference service with the stage boundary vs without it (body parsing and normalisation only), autocannon on loopback at saturation, alternating",
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      loadAverage: { before: loadBefore.map((x) => round2(x)), after: loadavg().map((x) => round2(x)) },
      parameters: { durationSeconds: duration, rounds, warmupSeconds: warmup, connections, runs, mode },
      goal: { maxThroughputLossPercent: 5 },
      notes: [
        "baseline = withStageParsingOnly: the same body parsing and stage normalisation without decision, headers, metrics or request id",
        "canonical payload: the boundary adds only x-request-id; aliases payload: it also emits X-Stage-Deprecated-Variants, Deprecation, Link, X-Stage-Recommendation and X-Stage-Docs",
        "saturation throughput on a small machine also measures the load generator (same cores) and any neighbours; compare the paired CPU figures, taken under identical conditions, and the load average"
      ],
      scenarios
    }
    if (!has("no-write")) {
      writeFileSync(out, JSON.stringify(report, null, 2) + "\n")
      process.stdout.write(`wrote ${out}\n`)
    }
    if (has("gate") && scenarios.some((s) => !s.goalMet)) process.exitCode = 1
  } finally {
    variants.boundary.child.kill("SIGTERM")
    variants.baseline.child.kill("SIGTERM")
  }
}

if (has("serve")) {
  serveChild(flag("serve", "boundary"), flag("mode", "warn") as Mode).pipe(NodeRuntime.runMain)
} else {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    process.exitCode = 1
  })
}
