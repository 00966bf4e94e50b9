/**
 * Regenerates the performance table in README.md (between the perf-table markers) from the
 * committed baselines, so the README always quotes measured figures.
 *
 *   node bench/report.ts
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs"

interface Figures {
  readonly suite: string
  readonly description: string
  readonly node: string
  readonly cpu: string
  readonly date: string
  readonly tasks: Readonly<Record<string, { mean: number; p50: number; p99: number; ratioToFloor: number; p99RatioToFloor: number }>>
  readonly goals?: ReadonlyArray<{ description: string; ratio: number; met: boolean }>
  readonly budgets?: ReadonlyArray<{ task: string; budgetMs: number; p99Ms: number; margin: number }>
}

const root = new URL("../", import.meta.url)
const fmt = (ms: number) => (ms < 0.001 ? `${(ms * 1e6).toFixed(0)} ns` : ms < 1 ? `${(ms * 1e3).toFixed(2)} µs` : `${ms.toFixed(2)} ms`)
const files = readdirSync(new URL("baselines/", root)).filter((f) => f.endsWith(".json")).sort()
const suites = files
  .map((f) => JSON.parse(readFileSync(new URL(`baselines/${f}`, root), "utf8")) as Figures)
  .filter((f) => f.tasks !== undefined && f.goals !== undefined)
  .sort((a, b) => a.suite.localeCompare(b.suite, "en", { numeric: true }))

const lines: Array<string> = []
// One line per machine the baselines were measured on (a suite re-baselined later names its own).
const machines = new Map<string, Array<string>>()
for (const s of suites) {
  const machine = `${s.cpu}, Node ${s.node}, ${s.date.slice(0, 10)}`
  machines.set(machine, [...(machines.get(machine) ?? []), s.suite])
}
if (machines.size === 1) lines.push(`Baselines measured on ${[...machines.keys()][0]}.`, "")
if (machines.size > 1) {
  lines.push(`Baselines measured on ${[...machines].map(([machine, names]) => `${machine} (${names.join(", ")})`).join("; ")}.`, "")
}
lines.push("| suite | task | mean | p99 | mean / floor | p99 / floor |", "| --- | --- | --- | --- | --- | --- |")
for (const s of suites) {
  for (const [name, t] of Object.entries(s.tasks)) {
    lines.push(`| ${s.suite} | ${name} | ${fmt(t.mean)} | ${fmt(t.p99)} | ${t.ratioToFloor.toFixed(2)}× | ${t.p99RatioToFloor.toFixed(2)}× |`)
  }
}
const notes = suites.flatMap((s) => [
  ...(s.goals ?? []).map((g) => `- ${s.suite}: ${g.description} — **${g.ratio.toFixed(2)}×**, ${g.met ? "met" : "missed"}`),
  ...(s.budgets ?? []).map((b) => `- ${s.suite}: seeds' budget p99 < ${b.budgetMs} ms — measured ${fmt(b.p99Ms)}, **${b.margin.toFixed(0)}× margin**`)
])
if (notes.length > 0) lines.push("", "Goals and budgets:", "", ...notes)

const readmeUrl = new URL("README.md", root)
const readme = readFileSync(readmeUrl, "utf8")
const start = "<!-- perf-table:start -->"
const end = "<!-- perf-table:end -->"
const before = readme.slice(0, readme.indexOf(start) + start.length)
const after = readme.slice(readme.indexOf(end))
writeFileSync(readmeUrl, `${before}\n${lines.join("\n")}\n${after}`)
console.log(`README.md: ${suites.length} suites`)
