/**
 * Benchmark runner: every suite in bench/suites/, peers and floors measured in the same process
 * and run with tinybench.
 *
 *   node bench/run.ts [suite-name…]            measure and print
 *   node bench/run.ts --update [suite-name…]   measure and rewrite baselines/<suite>.json
 *   node bench/run.ts --compare [suite-name…]  measure and fail on a regression against the baselines
 *
 * Regression rules (`--compare`): a task fails when its p99 exceeds 3× its baseline p99 (the
 * seeds' rule), scaled by how much slower this machine is than the baseline's (see
 * `machineSpeed`), or its mean ratio to the suite's floor worsens by more than 25 %. Only our own
 * tasks are gated: the floor and the peers (tasks named "peer: …") are measured for the ratios,
 * but a slower peer is not our regression. Shared
 * machines are noisy, so a failing suite is measured once more and only a task that fails
 * both times fails the run; the report says which figure moved by how much.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync, mkdirSync } from "node:fs"
import { cpus } from "node:os"
import { Bench } from "tinybench"
import type { BenchSuite } from "./suite.ts"

interface TaskFigures {
  readonly mean: number // ms per operation
  readonly p50: number
  readonly p99: number
  readonly ratioToFloor: number // mean / floor mean
  readonly p99RatioToFloor: number
  readonly samples: number
}
interface SuiteFigures {
  readonly suite: string
  readonly description: string
  readonly node: string
  readonly cpu: string
  readonly date: string
  readonly tasks: Readonly<Record<string, TaskFigures>>
  readonly goals: ReadonlyArray<{ readonly description: string; readonly ratio: number; readonly met: boolean }>
  readonly budgets: ReadonlyArray<{ readonly task: string; readonly budgetMs: number; readonly p99Ms: number; readonly margin: number }>
}

const P99_FACTOR = 3
const RATIO_WORSENING = 1.25
const root = new URL("../", import.meta.url)
const args = process.argv.slice(2)
const mode = args.includes("--update") ? "update" : args.includes("--compare") ? "compare" : "run"
const only = args.filter((a) => !a.startsWith("--"))

const loadSuites = async (): Promise<ReadonlyArray<BenchSuite>> => {
  const dir = new URL("suites/", import.meta.url)
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts")).sort()
  const suites: Array<BenchSuite> = []
  for (const file of files) {
    const mod = (await import(new URL(file, dir).href)) as { suite?: BenchSuite; suites?: ReadonlyArray<BenchSuite> }
    if (mod.suite) suites.push(mod.suite)
    if (mod.suites) suites.push(...mod.suites)
  }
  return only.length === 0 ? suites : suites.filter((s) => only.includes(s.name))
}

// Each suite is measured in ROUNDS rounds (all its tasks per round) and each task keeps its
// quietest round (lowest mean): a GC pause or a burst from another process on a shared 2-core
// machine inflates one round's mean, not every round's.
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 2)

const measure = (suite: BenchSuite, rounds = ROUNDS): SuiteFigures => {
  const time = (suite.timeMs ?? 300) * 0.6
  const raw = new Map<string, { mean: number; p50: number; p99: number; samples: number }>()
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ name: suite.name, time, warmupTime: Math.min(60, time / 3), timestampProvider: "hrtimeNow" })
    for (const task of suite.tasks) bench.add(task.name, task.fn)
    const results = bench.runSync()
    suite.tasks.forEach((task, i) => {
      const r = results[i]!.result
      if (r.state !== "completed") throw new Error(`${suite.name} / ${task.name}: ${r.state}${"error" in r ? `: ${String(r.error)}` : ""}`)
      const per = task.batch ?? 1
      const figures = { mean: r.latency.mean / per, p50: r.latency.p50 / per, p99: r.latency.p99 / per, samples: r.latency.samplesCount }
      const best = raw.get(task.name)
      if (best === undefined || figures.mean < best.mean) raw.set(task.name, figures)
    })
  }
  const floorTask = suite.tasks.find((t) => t.floor) ?? suite.tasks[0]!
  const floor = raw.get(floorTask.name)!
  const tasks: Record<string, TaskFigures> = {}
  for (const [name, f] of raw) tasks[name] = { ...f, ratioToFloor: f.mean / floor.mean, p99RatioToFloor: f.p99 / floor.p99 }
  const figureOf = (name: string) => (name === "floor" ? floor : raw.get(name))
  const goals = (suite.goals ?? []).map((goal) => {
    const a = figureOf(goal.task)
    const b = figureOf(goal.against)
    if (!a || !b) throw new Error(`${suite.name}: goal names unknown task ${goal.task} / ${goal.against}`)
    const ratio = a[goal.metric] / b[goal.metric]
    return { description: `${goal.task} ${goal.metric} vs ${goal.against}: ${goal.description}`, ratio, met: ratio <= goal.maxRatio }
  })
  const budgets = Object.entries(suite.budgetsMs ?? {}).map(([task, budgetMs]) => {
    const p99Ms = raw.get(task)!.p99
    return { task, budgetMs, p99Ms, margin: budgetMs / p99Ms }
  })
  return {
    suite: suite.name,
    description: suite.description,
    node: process.version,
    cpu: cpus()[0]?.model ?? "unknown",
    date: new Date().toISOString(),
    tasks,
    goals,
    budgets
  }
}

const fmt = (ms: number) => (ms < 0.001 ? `${(ms * 1e6).toFixed(0)} ns` : ms < 1 ? `${(ms * 1e3).toFixed(2)} µs` : `${ms.toFixed(3)} ms`)

const print = (f: SuiteFigures) => {
  console.log(`\n## ${f.suite} — ${f.description}`)
  const rows = Object.entries(f.tasks).map(([name, t]) => [name, fmt(t.mean), fmt(t.p50), fmt(t.p99), `${t.ratioToFloor.toFixed(2)}×`, `${t.p99RatioToFloor.toFixed(2)}×`])
  const header = ["task", "mean", "p50", "p99", "mean/floor", "p99/floor"]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  "))
  for (const g of f.goals) console.log(`goal ${g.met ? "met" : "MISSED"}: ${g.description} (${g.ratio.toFixed(2)}×)`)
  for (const b of f.budgets) console.log(`budget: ${b.task} p99 ${fmt(b.p99Ms)} vs ${b.budgetMs} ms (${b.margin.toFixed(0)}× margin)`)
}

const baselinePath = (name: string) => new URL(`baselines/${name}.json`, root)

interface Regression { readonly task: string; readonly detail: string }
let gated = new Set<string>()
// How much slower this machine runs than the one that wrote the baseline: the median, over the
// tasks that are not ours (the floor and the peers, which our changes cannot slow down), of
// current mean / baseline mean, and never below 1. The p99 limit scales with it, so a CI runner
// 2.5× slower than the laptop that recorded the baseline does not fail every suite, while a
// change that slows our own code still moves our p99 against the floor's. The mean/floor rule
// needs no such factor: it is a ratio measured in one run.
const machineSpeed = (current: SuiteFigures, baseline: SuiteFigures): number => {
  const factors = Object.entries(baseline.tasks)
    .filter(([name]) => gated.has(name) === false && current.tasks[name] !== undefined)
    .map(([name, b]) => current.tasks[name]!.mean / b.mean)
    .sort((x, y) => x - y)
  if (factors.length === 0) return 1
  const mid = factors.length >> 1
  const median = factors.length % 2 === 1 ? factors[mid]! : (factors[mid - 1]! + factors[mid]!) / 2
  return Math.max(1, median)
}

const regressions = (current: SuiteFigures, baseline: SuiteFigures): ReadonlyArray<Regression> => {
  const out: Array<Regression> = []
  const speed = machineSpeed(current, baseline)
  for (const [name, b] of Object.entries(baseline.tasks)) {
    if (gated.has(name) === false) continue
    const c = current.tasks[name]
    if (!c) {
      out.push({ task: name, detail: "task missing from the current run" })
      continue
    }
    const limit = P99_FACTOR * speed
    if (c.p99 > limit * b.p99) {
      out.push({
        task: name,
        detail: `p99 ${fmt(b.p99)} → ${fmt(c.p99)} (${(c.p99 / b.p99).toFixed(2)}× baseline, limit ${P99_FACTOR}× × machine ${speed.toFixed(2)} = ${limit.toFixed(2)}×)`
      })
    }
    if (c.ratioToFloor > RATIO_WORSENING * b.ratioToFloor) {
      out.push({
        task: name,
        detail: `mean/floor ${b.ratioToFloor.toFixed(2)}× → ${c.ratioToFloor.toFixed(2)}× (+${((c.ratioToFloor / b.ratioToFloor - 1) * 100).toFixed(0)} %, limit +25 %)`
      })
    }
  }
  return out
}

const main = async () => {
  const started = performance.now()
  const suites = await loadSuites()
  if (suites.length === 0) throw new Error(`no suites match ${only.join(", ")}`)
  let failed = 0
  for (const suite of suites) {
    let figures = measure(suite)
    print(figures)
    if (mode === "update") {
      mkdirSync(new URL("baselines/", root), { recursive: true })
      writeFileSync(baselinePath(suite.name), JSON.stringify(figures, null, 2) + "\n")
      console.log(`baseline written: baselines/${suite.name}.json`)
    } else if (mode === "compare") {
      if (!existsSync(baselinePath(suite.name))) {
        console.log(`FAIL ${suite.name}: no baseline (run npm run bench:update)`)
        failed++
        continue
      }
      const baseline = JSON.parse(readFileSync(baselinePath(suite.name), "utf8")) as SuiteFigures
      gated = new Set(suite.tasks.filter((t) => !t.floor && !t.name.startsWith("peer:")).map((t) => t.name))
      let found = regressions(figures, baseline)
      if (found.length > 0) {
        console.log(`re-measuring ${suite.name}: ${found.map((r) => `${r.task}: ${r.detail}`).join("; ")}`)
        // The re-measurement takes twice the rounds: more chances to catch a quiet one.
        figures = measure(suite, ROUNDS * 2)
        const again = new Set(regressions(figures, baseline).map((r) => r.task))
        found = regressions(figures, baseline).filter((r) => again.has(r.task) && found.some((f) => f.task === r.task))
      }
      if (found.length === 0) console.log(`ok ${suite.name}: within 3× p99 and +25 % mean/floor of the baseline`)
      for (const r of found) {
        console.log(`FAIL ${suite.name} / ${r.task}: ${r.detail}`)
        failed++
      }
    }
  }
  console.log(`\n${suites.length} suites in ${((performance.now() - started) / 1000).toFixed(1)} s` + (mode === "compare" ? `, ${failed} regressions` : ""))
  if (failed > 0) process.exitCode = 1
}

await main()
