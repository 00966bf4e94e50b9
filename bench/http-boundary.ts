/**
 * Boundary overhead benchmark: what the stage boundary costs a server, for the Effect HTTP
 * middleware (the reference service's `POST /api/monte-carlo/simulate` with `withStageValidation`
 * vs the same handler behind `withStageParsingOnly` on a second route of the same process) and the plain-Node adapter (one raw `node:http`
 * server, the adapter's route vs a route doing the same read-parse-normalise-answer work without
 * it). See `bench/http-boundary/` for the hosts, the load and the scenarios.
 *
 *   npm run bench:http                      # measure, print, write baselines/http-boundary.json
 *   node bench/http-boundary.ts [--hosts effect,node] [--scenarios canonical,one-alias,…]
 *        [--rate 2000] [--seconds 0.5] [--rounds 16] [--warmup 1] [--connections 8]
 *        [--sat-scenarios canonical,one-alias] [--sat-rounds 3] [--sat-seconds 3] [--sat-connections 32]
 *        [--runs 10] [--out baselines/http-boundary.json] [--no-write] [--gate] [--profile <dir>] [--null]
 *
 * 1. **Server CPU per request, paired** (the figure that settles): each scenario is sent at a
 *    fixed rate below saturation (`--rate` req/s for `--seconds`) to the server without the
 *    boundary (A) and with it (B), alternating A B / B A over `--rounds` rounds, every scenario of
 *    a rollout state inside each round. The server's own CPU time (`process.cpuUsage()` over the
 *    IPC channel, user + system, microseconds) divided by the requests answered is one sample;
 *    B / A of one round is one paired ratio. Drift and neighbours hit both halves of a round, so
 *    the ratio's median settles where single throughput runs do not; the quartiles and range of
 *    the rounds show whether a difference is real.
 * 2. **Saturation throughput**: autocannon at saturation (`--sat-connections`), A B / B A rounds
 *    of `--sat-seconds`; the loss is 1 − B / A per round, median and range. On a small machine the
 *    load generator shares the cores with the server, so this figure is noisier.
 *
 * Goals (issue 17): extra CPU per request ≤ 3 % canonical, ≤ 5 % one alias, ≤ 10 % five aliases
 * and the 400 path; saturation loss ≤ 5 %. The exit code is 0 whatever the figures (a shared
 * machine reports, it does not gate) unless `--gate` is given. `--profile <dir>` instead writes a
 * CPU profile of one paced window per host, variant and scenario and prints the self-time
 * frames where B spends more than A (µs per request). `--null` measures A against A (B's
 * requests go to the baseline too): the method's noise floor on this machine, nothing written.
 *
 * Child mode (internal): `node bench/http-boundary.ts --serve effect|node`.
 */
import { writeFileSync, mkdirSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { type Child, startChild } from "./http-boundary/children.ts"
import { EFFECT_PATHS, NODE_PATHS, serveChild } from "./http-boundary/hosts.ts"
import { closeAgents, paced, saturate, type SaturationResult } from "./http-boundary/load.ts"
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
interface Target {
  readonly child: Child
  readonly url: string
}
type Host = Readonly<Record<Variant, Target>> & { readonly name: HostName; readonly children: ReadonlyArray<Child> }

const HOST_DESCRIPTIONS: Readonly<Record<HostName, string>> = {
  effect: "reference service (Effect HTTP, NodeHttpServer, one process): A = the simulate handler behind withStageParsingOnly, B = the same behind withStageValidation (POST /api/monte-carlo/simulate)",
  node: "raw node:http server, one process; A = a route that reads, parses, normalises and answers; B = createStageValidationHandler, then the same answer"
}

/** `--null`: B is the baseline too (A against A), which shows the method's own noise floor. */
const NULL_RUN = has("null")

const startHost = async (name: HostName): Promise<Host> => {
  const child = await startChild(name)
  const paths = name === "node" ? NODE_PATHS : EFFECT_PATHS
  return {
    name,
    children: [child],
    baseline: { child, url: child.url + paths.baseline },
    boundary: { child, url: child.url + (NULL_RUN ? paths.baseline : paths.boundary) }
  }
}

const statusOf = (scenario: Scenario, variant: Variant): number =>
  variant === "boundary" && !NULL_RUN ? scenario.boundaryStatus : 200

const settings = {
  rate: Number(flag("rate", "2000")),
  seconds: Number(flag("seconds", "0.5")),
  rounds: Number(flag("rounds", "16")),
  warmup: Number(flag("warmup", "1")),
  connections: Number(flag("connections", "8")),
  satRounds: Number(flag("sat-rounds", "3")),
  satSeconds: Number(flag("sat-seconds", "3")),
  satConnections: Number(flag("sat-connections", "32")),
  runs: Number(flag("runs", "10"))
}

/** Server CPU µs per request of one paced window. */
const cpuWindow = async (target: Target, scenario: Scenario, variant: Variant, seconds: number): Promise<number> => {
  const expectStatus = statusOf(scenario, variant)
  const before = await target.child.cpu()
  const result = await paced({
    url: target.url,
    body: bodyOf(scenario, settings.runs),
    rate: settings.rate,
    seconds,
    connections: settings.connections,
    expectStatus
  })
  const after = await target.child.cpu()
  if (result.errors > 0 || result.unexpected > 0) {
    throw new Error(`${target.url} ${scenario.name}: ${result.errors} errors, ${result.unexpected} answers other than ${expectStatus}`)
  }
  return (after - before) / result.completed
}

/** The boundary answers what the scenario says (status and its header), the baseline a 200. */
const probe = async (host: Host, scenario: Scenario): Promise<void> => {
  for (const variant of ["baseline", "boundary"] as const) {
    const response = await fetch(host[variant].url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bodyOf(scenario, settings.runs)
    })
    await response.arrayBuffer()
    const status = statusOf(scenario, variant)
    if (response.status !== status) throw new Error(`${host.name} ${variant} ${scenario.name}: ${response.status}, expected ${status}`)
    if (variant === "boundary" && !NULL_RUN && response.headers.get(scenario.mustHave) === null) {
      throw new Error(`${host.name} boundary ${scenario.name}: no ${scenario.mustHave} header`)
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

const summariseCpu = (host: HostName, scenario: Scenario, rounds: ReadonlyArray<CpuRound>) => {
  const overhead = spread(rounds.map((r) => (r.boundary / r.baseline - 1) * 100))
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
    rounds: rounds.map((r) => ({ baseline: round(r.baseline, 1), boundary: round(r.boundary, 1), ratio: round(r.boundary / r.baseline, 4) })),
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
  for (const mode of ["warn", "shadow", "enforce"] as const) {
    const group = scenarios.filter((s) => s.mode === mode)
    if (group.length === 0) continue
    await setMode(host, mode)
    for (const scenario of group) {
      await probe(host, scenario)
      await cpuWindow(host.baseline, scenario, "baseline", settings.warmup)
      await cpuWindow(host.boundary, scenario, "boundary", settings.warmup)
    }
    const rounds = new Map(group.map((s) => [s.name, [] as Array<CpuRound>]))
    for (let r = 0; r < settings.rounds; r++) {
      for (const scenario of group) {
        const order: ReadonlyArray<Variant> = r % 2 === 0 ? ["baseline", "boundary"] : ["boundary", "baseline"]
        const figures: Partial<Record<Variant, number>> = {}
        for (const variant of order) figures[variant] = await cpuWindow(host[variant], scenario, variant, settings.seconds)
        rounds.get(scenario.name)!.push({ baseline: figures.baseline!, boundary: figures.boundary! })
      }
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
    const window = (variant: Variant, seconds: number) =>
      saturate({ url: host[variant].url, body, seconds, connections: settings.satConnections })
    await window("baseline", 1)
    await window("boundary", 1)
    const samples: Array<{ round: number; variant: Variant } & SaturationResult> = []
    const losses: Array<number> = []
    for (let r = 0; r < settings.satRounds; r++) {
      const order: ReadonlyArray<Variant> = r % 2 === 0 ? ["baseline", "boundary"] : ["boundary", "baseline"]
      const figures: Partial<Record<Variant, SaturationResult>> = {}
      for (const variant of order) {
        figures[variant] = await window(variant, settings.satSeconds)
        samples.push({ round: r + 1, variant, ...figures[variant]! })
      }
      losses.push((1 - figures.boundary!.requestsPerSecond / figures.baseline!.requestsPerSecond) * 100)
    }
    const loss: Spread = spread(losses)
    const median = (variant: Variant) => spread(samples.filter((s) => s.variant === variant).map((s) => s.requestsPerSecond), 0).median
    log(
      `[${host.name}] saturation ${scenario.name.padEnd(12)} A ${median("baseline")} req/s  B ${median("boundary")} req/s  ` +
        `loss ${formatPercentSpread(loss)}  goal ≤ 5 %: ${loss.median <= 5 ? "met" : "NOT met"}`
    )
    results.push({
      scenario: scenario.name,
      samples,
      medianRequestsPerSecond: { baseline: median("baseline"), boundary: median("boundary") },
      lossPercent: loss,
      goalPercent: 5,
      goalMet: loss.median <= 5
    })
  }
  return results
}

/** One profiled window per host, variant and scenario; prints where B spends more than A. */
const profileAll = async (hosts: ReadonlyArray<Host>, scenarios: ReadonlyArray<Scenario>, dir: string) => {
  mkdirSync(dir, { recursive: true })
  for (const host of hosts) {
    for (const scenario of scenarios) {
      await setMode(host, scenario.mode)
      const files: Partial<Record<Variant, { file: string; requests: number }>> = {}
      for (const variant of ["baseline", "boundary"] as const) {
        const target = host[variant]
        await cpuWindow(target, scenario, variant, 2)
        const file = `${dir}/${host.name}-${scenario.name}-${variant}.cpuprofile`
        await target.child.profile("start", file)
        const seconds = 3
        await cpuWindow(target, scenario, variant, seconds)
        await target.child.profile("stop", file)
        files[variant] = { file, requests: Math.round(settings.rate * seconds) }
      }
      log(`\n[${host.name}] ${scenario.name}: self time per request, B − A (profiled, so inflated)`)
      printProfileDiff(files.baseline!, files.boundary!, 25, log)
    }
  }
}

const main = async () => {
  const hostNames = list("hosts", "effect,node").filter((h): h is HostName => h === "effect" || h === "node")
  const wanted = list("scenarios", SCENARIOS.map((s) => s.name).join(","))
  const scenarios = SCENARIOS.filter((s) => wanted.includes(s.name))
  const satWanted = list("sat-scenarios", "canonical,one-alias")
  const loadBefore = loadavg()
  const started = Date.now()
  const hosts: Array<Host> = []
  try {
    for (const name of hostNames) hosts.push(await startHost(name))
    if (has("profile")) return await profileAll(hosts, scenarios, flag("profile", "/tmp/http-boundary-profiles"))
    const report: Record<string, unknown> = {}
    for (const host of hosts) {
      log(`\n[${host.name}] server CPU per request, ${settings.rounds} paired rounds at ${settings.rate} req/s × ${settings.seconds} s`)
      const cpu = await measureCpu(host, scenarios)
      const saturation = settings.satRounds > 0 ? await measureSaturation(host, SCENARIOS.filter((s) => satWanted.includes(s.name))) : []
      report[host.name] = { description: HOST_DESCRIPTIONS[host.name], cpu, saturation }
    }
    const out = {
      suite: "http-boundary",
      description: "server CPU per request (paired fixed-rate rounds) and saturation throughput, with the stage boundary (B) vs without it (A), Effect HTTP and plain-Node hosts, loopback",
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      loadAverage: { before: loadBefore.map((x) => round(x)), after: loadavg().map((x) => round(x)) },
      wallSeconds: Math.round((Date.now() - started) / 1000),
      parameters: settings,
      notes: [
        "overheadPercent: per round (B / A − 1) × 100 of server CPU µs per request; median, quartiles (q1, q3) and range (min, max) over the rounds",
        "A and B of a round run back to back at the same fixed rate, alternating which goes first; CPU is the server process's own user + system time",
        "invalid-enforce: the boundary answers the contract's 400 without running the handler; the baseline, which has no boundary, runs it",
        "saturation shares the 2 cores with the load generator (autocannon, same machine): compare it with the load average"
      ],
      hosts: report
    }
    log(`\nwall time ${out.wallSeconds} s, load average ${out.loadAverage.before.join(" ")} → ${out.loadAverage.after.join(" ")}`)
    if (!has("no-write") && !NULL_RUN) {
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
    for (const host of hosts) for (const child of host.children) child.stop()
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
