/**
 * Boundary overhead benchmark: what the stage boundary costs a server, for the Effect HTTP
 * middleware (the reference service's `POST /api/monte-carlo/simulate` with `withStageValidation`
 * vs the same handler behind `withStageParsingOnly` on a second route of the same process) and the plain-Node adapter (one raw `node:http`
 * server, the adapter's route vs a route doing the same read-parse-normalise-answer work without
 * it). See `bench/http-boundary/` for the hosts, the load and the scenarios.
 *
 *   npm run bench:http                      # measure, print, write baselines/http-boundary.json
 *   node bench/http-boundary.ts [--hosts effect,node] [--scenarios canonical,one-alias,…]
 *        [--rate 2000] [--seconds 1] [--rounds 20] [--warmup 1] [--connections 8]
 *        [--sat-scenarios canonical,one-alias] [--sat-rounds 3] [--sat-seconds 3] [--sat-connections 32]
 *        [--runs 10] [--out baselines/http-boundary.json] [--no-write] [--gate] [--profile <dir>] [--null]
 *        [--baseline-headers] [--headers-only]
 *
 * 1. **Server CPU per request, paired** (the figure that settles): two identical server
 *    processes, both serving the route without the boundary (A) and the route with it (B). In
 *    each round one serves A and the other B, and each scenario is sent at a fixed rate below
 *    saturation (`--rate` req/s to each for `--seconds`), one request to each in turn; the next
 *    round swaps which process serves B. A server's own CPU time (`process.cpuUsage()` over
 *    the IPC channel, user + system, microseconds) divided by the requests it answered is one
 *    sample; B / A of one round is a paired ratio, and the geometric mean of a round and the
 *    next (roles swapped) is one pair's ratio, in which any difference between the two processes
 *    cancels. The machine's moments hit A and B request by request, so the pairs' median
 *    settles (identical routes, `--null`, measure within ±1–2 % here, where one server
 *    alternating A and B windows measured ±6 %). With `taskset` (Linux) both servers share the
 *    last CPU and the load runs on the others, so each server sees the caches the other leaves,
 *    as a server among other work does, and neither competes with the load generator.
 * 2. **Saturation throughput, paired**: both servers at once for `--sat-seconds`, one serving A
 *    and the other B, each driven at saturation by its own autocannon (`--sat-connections`);
 *    sharing one CPU, each gets half of it, so B / A of their throughputs is the inverse of their
 *    CPU per request at saturation, and the machine's moments hit both alike. Roles swap every
 *    round; the loss of a pair is 1 − √(B/A · B/A), median and range over `--sat-rounds` pairs.
 *    Each window records the server's own CPU time too: together the two should be busy ≈ 100 %
 *    of the shared CPU (less: the load generator, which shares the machine, was the bottleneck,
 *    and the loss then includes the client's cost of reading the larger responses). Measured one
 *    server at a time, in A B / B A windows, the loss moved by ±20 points between runs here.
 *
 * Goals (issue 17): extra CPU per request ≤ 3 % canonical, ≤ 5 % one alias, ≤ 10 % five aliases
 * and the 400 path; saturation loss ≤ 5 %. The exit code is 0 whatever the figures (a shared
 * machine reports, it does not gate) unless `--gate` is given. `--profile <dir>` instead writes a
 * CPU profile of one paced window per host, variant and scenario and prints the self-time
 * frames where B spends more than A (µs per request). `--null` measures A against A (B's
 * requests go to the baseline too): the method's noise floor on this machine, nothing written.
 * `--baseline-headers` (nothing written): A is the route without the boundary answering with the
 * same headers the boundary sends for the payload (the stage headers of its rollout state — on the
 * Effect host, those of a warn state — and an `x-request-id` of the same length), so B − A is the
 * boundary's work without the cost of writing the contract's headers. `--headers-only` (nothing
 * written) is the other half: A is the route without the boundary, B that route with those
 * headers and no boundary at all, so B − A is what sending the contract's headers costs a server
 * by itself — the floor under any implementation of that contract.
 *
 * Child mode (internal): `node bench/http-boundary.ts --serve effect|node`.
 */
import { writeFileSync, mkdirSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { type Child, pinning, startChild } from "./http-boundary/children.ts"
import { EFFECT_PATHS, NODE_PATHS, type Route, serveChild } from "./http-boundary/hosts.ts"
import { closeAgents, paced, pacedPair, saturate, type SaturationResult } from "./http-boundary/load.ts"
import { printProfileDiff } from "./http-boundary/profile.ts"
import { bodyOf, SCENARIOS, type Scenario } from "./http-boundary/scenarios.ts"
import { formatPercentSpread, round, spread, type Spread } from "./http-boundary/stats.ts"

const argv = process.argv.slice(2)
const flag = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : fallback
}
const has = (name: string): boolean => argv.includes(`--${name}`)
const list = (name: string, fallback: string) => flag(name, fallback).split(",").filter((x) => x.length > 0)
const log = (line: string) => process.stdout.write(line + "\n")

type HostName = "effect" | "node"
type Variant = "baseline" | "boundary"
interface Host {
  readonly name: HostName
  /** two identical server processes */
  readonly children: readonly [Child, Child]
  readonly paths: Readonly<Record<Route, string>>
}

const HOST_DESCRIPTIONS: Readonly<Record<HostName, string>> = {
  effect: "reference service (Effect HTTP, NodeHttpServer; two identical processes): A = the simulate handler behind withStageParsingOnly, B = the same behind withStageValidation (POST /api/monte-carlo/simulate)",
  node: "raw node:http server (two identical processes); A = a route that reads, parses, normalises and answers; B = createStageValidationHandler, then the same answer"
}

/**
 * The routes A and B are: the boundary against the same server without it, unless a diagnostic
 * flag says otherwise (see the notes): `--null` A against A, `--baseline-headers` the boundary
 * against a server sending its headers, `--headers-only` the headers alone. Only the default
 * comparison is written to the baseline file.
 */
const COMPARISON: Readonly<Record<Variant, Route>> & { readonly label: string | undefined } = has("null")
  ? { baseline: "baseline", boundary: "baseline", label: "--null: A and B both without the boundary" }
  : has("baseline-headers")
  ? { baseline: "headers", boundary: "boundary", label: "--baseline-headers: A without the boundary but with its headers, B the boundary" }
  : has("headers-only")
  ? { baseline: "baseline", boundary: "headers", label: "--headers-only: A without the boundary, B without it but with its headers" }
  : { baseline: "baseline", boundary: "boundary", label: undefined }

const startHost = async (name: HostName, serverCpu: number | undefined): Promise<Host> => {
  const children = [await startChild(name, { cpu: serverCpu }), await startChild(name, { cpu: serverCpu })] as const
  return { name, children, paths: name === "node" ? NODE_PATHS : EFFECT_PATHS }
}

/** The URL of a variant's route on one of a host's servers (see {@link COMPARISON}). */
const urlOf = (host: Host, child: Child, variant: Variant): string => child.url + host.paths[COMPARISON[variant]]

/** What a variant's route answers: the scenario's status from the boundary, a 200 from the others. */
const statusOf = (scenario: Scenario, variant: Variant): number =>
  COMPARISON[variant] === "boundary" ? scenario.boundaryStatus : 200

/** Whether a variant's route sends the scenario's header (the headers route: warn-state headers). */
const sendsHeaders = (scenario: Scenario, variant: Variant): boolean =>
  COMPARISON[variant] === "boundary" || (COMPARISON[variant] === "headers" && scenario.mode === "warn")

const settings = {
  rate: Number(flag("rate", "2000")),
  seconds: Number(flag("seconds", "1")),
  rounds: Number(flag("rounds", "20")),
  warmup: Number(flag("warmup", "1")),
  connections: Number(flag("connections", "8")),
  satRounds: Number(flag("sat-rounds", "3")),
  satSeconds: Number(flag("sat-seconds", "3")),
  satConnections: Number(flag("sat-connections", "32")),
  runs: Number(flag("runs", "10"))
}

/** One window for a pair: `a` serves the baseline route, `b` the boundary route, requests interleaved. */
const pairWindow = async (host: Host, scenario: Scenario, a: Child, b: Child, seconds: number): Promise<CpuRound> => {
  const before = [await a.cpu(), await b.cpu()]
  const results = await pacedPair({
    targets: [
      { url: urlOf(host, a, "baseline"), expectStatus: statusOf(scenario, "baseline") },
      { url: urlOf(host, b, "boundary"), expectStatus: statusOf(scenario, "boundary") }
    ],
    body: bodyOf(scenario, settings.runs),
    rate: settings.rate,
    seconds,
    connections: settings.connections
  })
  const after = [await a.cpu(), await b.cpu()]
  results.forEach((result, i) => {
    if (result.errors > 0 || result.unexpected > 0) {
      const variant = i === 0 ? "baseline" : "boundary"
      throw new Error(`${host.name} ${variant} ${scenario.name}: ${result.errors} errors, ${result.unexpected} answers other than ${statusOf(scenario, variant)}`)
    }
  })
  return { baseline: (after[0]! - before[0]!) / results[0].completed, boundary: (after[1]! - before[1]!) / results[1].completed }
}

/** The boundary answers what the scenario says (status and its header), the baseline a 200; on both servers. */
const probe = async (host: Host, scenario: Scenario): Promise<void> => {
  for (const child of host.children) {
    for (const variant of ["baseline", "boundary"] as const) {
      const response = await fetch(urlOf(host, child, variant), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: bodyOf(scenario, settings.runs)
      })
      await response.arrayBuffer()
      const status = statusOf(scenario, variant)
      if (response.status !== status) throw new Error(`${host.name} ${variant} ${scenario.name}: ${response.status}, expected ${status}`)
      if (sendsHeaders(scenario, variant) && response.headers.get(scenario.mustHave) === null) {
        throw new Error(`${host.name} ${COMPARISON[variant]} ${scenario.name}: no ${scenario.mustHave} header`)
      }
    }
  }
}

const setMode = async (host: Host, mode: Scenario["mode"]) => {
  for (const child of host.children) await child.setMode(mode)
}

interface CpuRound {
  readonly baseline: number
  readonly boundary: number
}

/** Per pair of rounds (roles swapped), the geometric mean of their B / A ratios, as percent overhead. */
const pairOverheads = (rounds: ReadonlyArray<CpuRound>): Array<number> => {
  const out: Array<number> = []
  for (let i = 0; i + 1 < rounds.length; i += 2) {
    const ratio = Math.sqrt((rounds[i]!.boundary / rounds[i]!.baseline) * (rounds[i + 1]!.boundary / rounds[i + 1]!.baseline))
    out.push((ratio - 1) * 100)
  }
  return out
}

const summariseCpu = (host: HostName, scenario: Scenario, rounds: ReadonlyArray<CpuRound>) => {
  const overhead = spread(pairOverheads(rounds))
  const met = scenario.goalPercent === null ? null : overhead.median <= scenario.goalPercent
  log(
    `[${host}] ${scenario.name.padEnd(15)} A ${spread(rounds.map((r) => r.baseline), 1).median.toFixed(1).padStart(6)} µs  ` +
      `B ${spread(rounds.map((r) => r.boundary), 1).median.toFixed(1).padStart(6)} µs  extra CPU ${formatPercentSpread(overhead)}` +
      (met === null ? "" : `  goal ≤ ${scenario.goalPercent} %: ${met ? "met" : "NOT met"}`)
  )
  return {
    scenario: scenario.name,
    mode: scenario.mode,
    description: scenario.description,
    boundaryStatus: scenario.boundaryStatus,
    rounds: rounds.map((r, i) => ({
      boundaryServer: i % 2,
      baseline: round(r.baseline, 1),
      boundary: round(r.boundary, 1),
      ratio: round(r.boundary / r.baseline, 4)
    })),
    baselineMicrosPerRequest: spread(rounds.map((r) => r.baseline), 1),
    boundaryMicrosPerRequest: spread(rounds.map((r) => r.boundary), 1),
    extraMicrosPerRequest: spread(rounds.map((r) => r.boundary - r.baseline), 1),
    overheadPercent: overhead,
    goalPercent: scenario.goalPercent,
    goalMet: met
  }
}

/** Paired rounds for every scenario of one host, grouped by rollout state. */
const measureCpu = async (host: Host, scenarios: ReadonlyArray<Scenario>) => {
  const results: Array<ReturnType<typeof summariseCpu>> = []
  const [first, second] = host.children
  for (const mode of ["warn", "shadow", "enforce"] as const) {
    const group = scenarios.filter((s) => s.mode === mode)
    if (group.length === 0) continue
    await setMode(host, mode)
    for (const scenario of group) {
      await probe(host, scenario)
      await pairWindow(host, scenario, first, second, settings.warmup)
      await pairWindow(host, scenario, second, first, settings.warmup)
    }
    const rounds = new Map(group.map((s) => [s.name, [] as Array<CpuRound>]))
    for (let r = 0; r < settings.rounds; r++) {
      // even rounds: the second server runs the boundary; odd rounds: the first
      const [a, b] = r % 2 === 0 ? [first, second] : [second, first]
      for (const scenario of group) rounds.get(scenario.name)!.push(await pairWindow(host, scenario, a, b, settings.seconds))
    }
    for (const scenario of group) results.push(summariseCpu(host.name, scenario, rounds.get(scenario.name)!))
  }
  return results
}

/** Saturation rounds (warn) for the given scenarios of one host. */
const measureSaturation = async (host: Host, scenarios: ReadonlyArray<Scenario>) => {
  await setMode(host, "warn")
  const results = []
  for (const scenario of scenarios.filter((s) => s.mode === "warn")) {
    const body = bodyOf(scenario, settings.runs)
    // Both servers at once, one serving A and the other B, each driven at saturation by its own
    // autocannon; sharing one CPU (pinned), each gets half of it, so B / A of their throughputs
    // is the inverse of their CPU per request at saturation, and the machine's moments hit both.
    // The next round swaps the roles (a difference between the processes cancels in the pair).
    const one = async (child: Child, variant: Variant, seconds: number): Promise<SaturationWindow> => {
      const cpuBefore = await child.cpu()
      const started = performance.now()
      const result = await saturate({ url: urlOf(host, child, variant), body, seconds, connections: settings.satConnections })
      const wallMicros = (performance.now() - started) * 1000
      const cpu = (await child.cpu()) - cpuBefore
      return { ...result, serverBusyPercent: round(cpu / wallMicros * 100, 1), serverCpuMicrosPerRequest: round(cpu / result.total, 1) }
    }
    const round2 = async (boundaryServer: 0 | 1, seconds: number): Promise<SaturationRound> => {
      const [a, b] = boundaryServer === 1 ? host.children : [host.children[1], host.children[0]]
      const [baseline, boundary] = await Promise.all([one(a, "baseline", seconds), one(b, "boundary", seconds)])
      return { boundaryServer, baseline, boundary, ratio: boundary.requestsPerSecond / baseline.requestsPerSecond }
    }
    await round2(0, 1)
    await round2(1, 1)
    const rounds: Array<SaturationRound> = []
    for (let r = 0; r < settings.satRounds * 2; r++) rounds.push(await round2(r % 2 === 0 ? 1 : 0, settings.satSeconds))
    const losses: Array<number> = []
    for (let k = 0; k + 1 < rounds.length; k += 2) losses.push((1 - Math.sqrt(rounds[k]!.ratio * rounds[k + 1]!.ratio)) * 100)
    const loss: Spread = spread(losses)
    const median = (of: (r: SaturationRound) => number, digits = 0) => spread(rounds.map(of), digits).median
    const rps = { baseline: median((r) => r.baseline.requestsPerSecond), boundary: median((r) => r.boundary.requestsPerSecond) }
    const busy = { baseline: median((r) => r.baseline.serverBusyPercent, 1), boundary: median((r) => r.boundary.serverBusyPercent, 1) }
    log(
      `[${host.name}] saturation ${scenario.name.padEnd(12)} A ${rps.baseline} req/s  B ${rps.boundary} req/s  ` +
        `loss ${formatPercentSpread(loss)}  goal ≤ 5 %: ${loss.median <= 5 ? "met" : "NOT met"}  ` +
        `(server busy A ${busy.baseline} %, B ${busy.boundary} % of the shared CPU)`
    )
    results.push({
      scenario: scenario.name,
      rounds,
      medianRequestsPerSecond: rps,
      medianServerBusyPercent: busy,
      lossPercent: loss,
      goalPercent: 5,
      goalMet: loss.median <= 5
    })
  }
  return results
}

/** A saturation window: autocannon's figures and the server's own CPU over the window. */
interface SaturationWindow extends SaturationResult {
  /** the server's CPU time over the window's wall time, percent of one CPU */
  readonly serverBusyPercent: number
  /** the server's CPU time per answered request, µs */
  readonly serverCpuMicrosPerRequest: number
}

/** One saturation round: A and B at once on the two servers. */
interface SaturationRound {
  /** which server process served B */
  readonly boundaryServer: 0 | 1
  readonly baseline: SaturationWindow
  readonly boundary: SaturationWindow
  /** B / A of requests per second */
  readonly ratio: number
}

/** One paced window to one server's route (the profile's). */
const soloWindow = async (host: Host, scenario: Scenario, variant: Variant, seconds: number): Promise<void> => {
  const expectStatus = statusOf(scenario, variant)
  const result = await paced({
    url: urlOf(host, host.children[0], variant),
    body: bodyOf(scenario, settings.runs),
    rate: settings.rate,
    seconds,
    connections: settings.connections,
    expectStatus
  })
  if (result.errors > 0 || result.unexpected > 0) {
    throw new Error(`${host.name} ${variant} ${scenario.name}: ${result.errors} errors, ${result.unexpected} answers other than ${expectStatus}`)
  }
}

/** One profiled window per variant and scenario on one server; prints where B spends more than A. */
const profileHost = async (host: Host, scenarios: ReadonlyArray<Scenario>, dir: string) => {
  mkdirSync(dir, { recursive: true })
  const child = host.children[0]
  for (const scenario of scenarios) {
    await setMode(host, scenario.mode)
    const files: Partial<Record<Variant, { file: string; requests: number }>> = {}
    for (const variant of ["baseline", "boundary"] as const) {
      await soloWindow(host, scenario, variant, 2)
      const file = `${dir}/${host.name}-${scenario.name}-${variant}.cpuprofile`
      await child.profile("start", file)
      const seconds = 3
      await soloWindow(host, scenario, variant, seconds)
      await child.profile("stop", file)
      files[variant] = { file, requests: Math.round(settings.rate * seconds) }
    }
    log(`\n[${host.name}] ${scenario.name}: self time per request, B − A (profiled, so inflated)`)
    printProfileDiff(files.baseline!, files.boundary!, 25, log)
  }
}

const main = async () => {
  const hostNames = list("hosts", "effect,node").filter((h): h is HostName => h === "effect" || h === "node")
  const wanted = list("scenarios", SCENARIOS.map((s) => s.name).join(","))
  const scenarios = SCENARIOS.filter((s) => wanted.includes(s.name))
  const satWanted = list("sat-scenarios", "canonical,one-alias")
  const loadBefore = loadavg()
  const started = Date.now()
  const pins = pinning()
  let running: Host | undefined
  try {
    const report: Record<string, unknown> = {}
    // one host at a time: the other host's servers would be background noise
    for (const name of hostNames) {
      running = await startHost(name, pins?.serverCpu)
      if (COMPARISON.label !== undefined) log(`\n[${name}] ${COMPARISON.label}`)
      if (has("profile")) {
        await profileHost(running, scenarios, flag("profile", "/tmp/http-boundary-profiles"))
      } else {
        log(`\n[${name}] server CPU per request, ${settings.rounds} paired rounds at ${settings.rate} req/s to each of two servers × ${settings.seconds} s${pins === undefined ? " (no CPU pinning)" : ` (servers on CPU ${pins.serverCpu}, load on ${pins.loadCpus})`}`)
        const cpu = await measureCpu(running, scenarios)
        const saturation = settings.satRounds > 0 ? await measureSaturation(running, SCENARIOS.filter((s) => satWanted.includes(s.name))) : []
        report[name] = { description: HOST_DESCRIPTIONS[name], cpu, saturation }
      }
      for (const child of running.children) child.stop()
      running = undefined
    }
    if (has("profile")) return
    const out = {
      suite: "http-boundary",
      description: "server CPU per request (paired fixed-rate rounds) and saturation throughput, with the stage boundary (B) vs without it (A), Effect HTTP and plain-Node hosts, loopback",
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      loadAverage: { before: loadBefore.map((x) => round(x)), after: loadavg().map((x) => round(x)) },
      wallSeconds: Math.round((Date.now() - started) / 1000),
      parameters: { ...settings, pinning: pins ?? null },
      notes: [
        "overheadPercent: per pair of rounds, (√(B/A of round 2k × B/A of round 2k+1) − 1) × 100 of server CPU µs per request; median, quartiles (q1, q3) and range (min, max) over the pairs",
        "two identical server processes; in a round one serves A and the other B at the same fixed rate, requests interleaved one by one; the next round swaps the roles, so a difference between the processes cancels in the pair; CPU is each server process's own user + system time",
        "invalid-enforce: the boundary answers the contract's 400 without running the handler; the baseline, which has no boundary, runs it",
        "saturation shares the 2 cores with the load generator (autocannon, same machine): compare it with the load average",
        "saturation: both servers at once (A on one, B on the other, sharing one CPU), each at saturation; lossPercent per pair of rounds (roles swapped) is (1 − √(B/A × B/A)) × 100 of requests per second; serverBusyPercent is a server's CPU time over the window's wall time (the two together ≈ 100: the servers were the bottleneck)"
      ],
      hosts: report
    }
    log(`\nwall time ${out.wallSeconds} s, load average ${out.loadAverage.before.join(" ")} → ${out.loadAverage.after.join(" ")}`)
    if (!has("no-write") && COMPARISON.label === undefined) {
      const file = flag("out", "baselines/http-boundary.json")
      writeFileSync(file, JSON.stringify(out, null, 2) + "\n")
      log(`wrote ${file}`)
    }
    const missed = Object.values(report).some((h) => {
      const { cpu, saturation } = h as { cpu: ReadonlyArray<{ goalMet: boolean | null }>; saturation: ReadonlyArray<{ goalMet: boolean }> }
      return cpu.some((c) => c.goalMet === false) || saturation.some((s) => !s.goalMet)
    })
    if (has("gate") && missed) process.exitCode = 1
  } finally {
    closeAgents()
    for (const child of running?.children ?? []) child.stop()
  }
}

if (has("serve")) {
  serveChild(flag("serve", "effect"))
} else {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    process.exitCode = 1
  })
}
