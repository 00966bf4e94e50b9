/**
 * Reads the PromQL our observability files use, without a YAML dependency: the `expr:` values of
 * the rules file (inline or block scalars), every `expr` / `query` / `definition` string of the
 * Grafana dashboard, and the identifiers in them that name series (metrics, recording rules).
 */
import { readFileSync } from "node:fs"

export const RULES_FILE = new URL("../../observability/prometheus/stage-validation.rules.yml", import.meta.url)
export const DASHBOARD_FILE = new URL("../../observability/grafana/stage-validation.json", import.meta.url)

/** The `expr:` values of a Prometheus rules file, in order (block scalars joined with newlines). */
export const ruleExpressions = (yaml: string): ReadonlyArray<string> => {
  const lines = yaml.split("\n")
  const out: Array<string> = []
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:- )?expr:\s*(.*)$/.exec(lines[i]!)
    if (m === null) continue
    const indent = m[1]!.length
    const rest = m[2]!.trim()
    if (rest !== "" && !/^[|>][-+]?$/.test(rest)) {
      out.push(rest.replace(/^(['"])(.*)\1$/, "$2"))
      continue
    }
    const block: Array<string> = []
    while (i + 1 < lines.length) {
      const next = lines[i + 1]!
      if (next.trim() !== "" && next.length - next.trimStart().length <= indent) break
      block.push(next.trim())
      i++
    }
    out.push(block.join("\n").trim())
  }
  return out
}

/** Names defined by `record:` in a rules file. */
export const recordedNames = (yaml: string): ReadonlySet<string> =>
  new Set([...yaml.matchAll(/^\s*- record:\s*(\S+)\s*$/gm)].map((m) => m[1]!))

/** Alert names defined by `alert:` in a rules file. */
export const alertNames = (yaml: string): ReadonlyArray<string> =>
  [...yaml.matchAll(/^\s*- alert:\s*(\S+)\s*$/gm)].map((m) => m[1]!)

/** Every PromQL string in a Grafana dashboard (targets, variables, annotations). */
export const dashboardExpressions = (dashboard: unknown): ReadonlyArray<string> => {
  const out: Array<string> = []
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item)
    } else if (typeof node === "object" && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if ((key === "expr" || key === "query" || key === "definition") && typeof value === "string") {
          if (key !== "query" || value !== "prometheus") out.push(value) // the datasource variable's query is a type
        } else {
          walk(value)
        }
      }
    }
  }
  walk(dashboard)
  return out
}

const KEYWORDS = new Set([
  "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
  "inf", "nan", "Inf", "NaN", "atan2"
])

/**
 * The identifiers of a PromQL expression that select series: metric names and recording-rule
 * names. Strings, label matchers, grouping clauses, durations, numbers, functions, aggregations
 * and keywords are removed first. Grafana's `$variables` and `label_values(m, l)` are understood.
 */
export const seriesNames = (expr: string): ReadonlyArray<string> => {
  let s = expr
    .replace(/\$__\w+/g, "5m") // Grafana interval variables
    .replace(/\$\w+/g, "x")
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\boffset\s+-?[0-9a-z]+/g, " ")
  // label_values(metric, label): the second argument is a label name
  s = s.replace(/label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)/g, "$1")
  const names: Array<string> = []
  for (const m of s.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const name = m[0]
    const before = s[m.index - 1]
    if (before !== undefined && /[\d.]/.test(before)) continue // 1e-3, 0.5
    const after = s.slice(m.index + name.length)
    if (/^\s*\(/.test(after)) continue // a function or aggregation
    if (KEYWORDS.has(name)) continue
    names.push(name)
  }
  return names
}

export const readRules = (): string => readFileSync(RULES_FILE, "utf8")
export const readDashboard = (): unknown => JSON.parse(readFileSync(DASHBOARD_FILE, "utf8"))
