/**
 * Every series our observability files name must exist: each metric in an alert/recording rule
 * or the Grafana dashboard appears in the reference service's `/metrics` after a few requests
 * (a renamed metric fails here instead of silently never firing), each recording rule the
 * dashboard uses is recorded by the rules file, and `promtool check metrics` finds nothing wrong
 * with the exposition.
 *
 * The service runs as a child process (`node src/cli/bin.ts serve`, embedded PostgreSQL, enforce
 * at 100 %). promtool comes from `scripts/install-prometheus-tools.sh`; without it the promtool
 * check fails in CI and is skipped, loudly, elsewhere.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { type ReferenceService, startReferenceService } from "../../scripts/e2e/referenceService.ts"
import { METRIC_NAMES } from "../../src/observability/MetricCatalogue.ts"
import { alertNames, dashboardExpressions, readDashboard, readRules, recordedNames, ruleExpressions, seriesNames } from "./promql.ts"

const OPS_TOKEN = "metric-names-test-token-0123456789abcdef"
const hasPromtool = spawnSync("promtool", ["--version"], { encoding: "utf8" }).status === 0

/** Names (recording rules excluded) that PromQL in our files selects, with where each is used. */
const usedMetricNames = (): ReadonlyMap<string, ReadonlyArray<string>> => {
  const rules = readRules()
  const used = new Map<string, Array<string>>()
  const add = (name: string, where: string) => used.set(name, [...(used.get(name) ?? []), where])
  const recorded = recordedNames(rules)
  for (const expr of ruleExpressions(rules)) {
    for (const name of seriesNames(expr)) if (!recorded.has(name)) add(name, "rules")
  }
  for (const expr of dashboardExpressions(readDashboard())) {
    for (const name of seriesNames(expr)) if (!name.includes(":")) add(name, "dashboard")
  }
  return used
}

/** Families (`# TYPE`) and sample names (`name{…} v`) of a Prometheus text exposition. */
const exposedNames = (text: string): ReadonlySet<string> => {
  const names = new Set<string>()
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) /.exec(line)
    if (type !== null) names.add(type[1]!)
    const sample = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line)
    if (sample !== null) names.add(sample[1]!)
  }
  return names
}

describe("PromQL in the rules and the dashboard", () => {
  it("reads every rule expression and finds the series they select", () => {
    const rules = readRules()
    const exprs = ruleExpressions(rules)
    assert.strictEqual(exprs.length, recordedNames(rules).size + alertNames(rules).length)
    assert.deepStrictEqual(
      [...seriesNames(`sum by (job, le) (rate(stage_validation_duration_seconds_bucket{le="+Inf"}[5m])) > bool 1e-3`)],
      ["stage_validation_duration_seconds_bucket"]
    )
    assert.deepStrictEqual(
      [...seriesNames(`clamp_min(2 * job:x:baseline24h offset 30m, 0.01) or 0 * job:x:rate5m + 0.01`)],
      ["job:x:baseline24h", "job:x:rate5m"]
    )
    const used = usedMetricNames()
    for (const name of [
      "stage_validation_validations_total",
      "stage_validation_errors_total",
      "stage_validation_duration_seconds_bucket",
      "stage_warn_unknown_total",
      "stage_validation_mode_fetch_failures_total"
    ]) assert.isTrue(used.has(name), `${name} is used by a rule`)
  })

  it("the dashboard is valid JSON and every recording rule it uses is recorded", () => {
    const dashboard = readDashboard() as {
      readonly title: string
      readonly uid: string
      readonly schemaVersion: number
      readonly panels: ReadonlyArray<{ readonly id: number; readonly type: string; readonly title: string }>
    }
    assert.strictEqual(dashboard.uid, "stage-validation")
    assert.isAbove(dashboard.schemaVersion, 30)
    const ids = dashboard.panels.map((p) => p.id)
    assert.strictEqual(new Set(ids).size, ids.length, "panel ids are unique")
    const titles = dashboard.panels.map((p) => p.title).join(" | ")
    for (const wanted of ["Validations by result", "Would-reject ratio", "1 ms budget", "Current mode", "webhook", "Migration", "Gate verdicts", "Last gate verdict"]) {
      assert.include(titles, wanted)
    }
    const recorded = recordedNames(readRules())
    const missing = dashboardExpressions(dashboard)
      .flatMap((e) => seriesNames(e))
      .filter((n) => n.includes(":") && !recorded.has(n))
    assert.deepStrictEqual(missing, [], "recording rules the dashboard uses but the rules file does not record")
  })
})

/** The series names of some PromQL expressions, sorted, once each. */
const names = (exprs: ReadonlyArray<string>) => [...new Set(exprs.flatMap((e) => seriesNames(e)))].sort()

describe("the dashboard's gate verdicts and rollout changes", () => {
  const dashboard = readDashboard() as {
    readonly panels: ReadonlyArray<{ readonly title: string; readonly targets?: ReadonlyArray<{ readonly expr: string }> }>
    readonly annotations: { readonly list: ReadonlyArray<{ readonly name: string; readonly expr?: string; readonly titleFormat?: string }> }
  }
  const catalogue = new Set<string>(METRIC_NAMES)

  it("a panel of gate verdicts by verdict and applied changes by source, from catalogue metrics only", () => {
    const panel = dashboard.panels.find((p) => p.title === "Gate verdicts and rollout changes")
    assert.isDefined(panel)
    const exprs = (panel!.targets ?? []).map((t) => t.expr)
    assert.deepStrictEqual(names(exprs), ["stage_validation_gate_evaluations_total", "stage_validation_mode_changes_total"])
    assert.isTrue(exprs.some((e) => e.startsWith("sum by (verdict)")), exprs.join("\n"))
    const last = dashboard.panels.find((p) => p.title === "Last gate verdict")
    assert.deepStrictEqual(names((last?.targets ?? []).map((t) => t.expr)), ["stage_validation_gate_last_verdict"])
  })

  it("annotations mark each gate verdict, applied change, mode switch and percent change; every name is in the catalogue", () => {
    const byName = new Map(dashboard.annotations.list.map((a) => [a.name, a] as const))
    const expected: ReadonlyArray<readonly [string, string]> = [
      ["Gate verdicts", "stage_validation_gate_evaluations_total"],
      ["Rollout changes", "stage_validation_mode_changes_total"],
      ["Mode switches", "stage_validation_mode"],
      ["Enforcement percent changes", "stage_validation_enforcement_percent"]
    ]
    for (const [name, metric] of expected) {
      const annotation = byName.get(name)
      assert.isDefined(annotation, name)
      assert.deepStrictEqual(names([annotation!.expr ?? ""]), [metric], name)
    }
    assert.include(byName.get("Gate verdicts")!.titleFormat, "{{verdict}}")
    assert.match(byName.get("Mode switches")!.expr ?? "", /changes\(stage_validation_mode\{/)
    const outside = dashboardExpressions(dashboard)
      .flatMap((e) => seriesNames(e))
      .filter((n) => !n.includes(":") && n !== "ALERTS" && !catalogue.has(n.replace(/_bucket$/, "")))
    assert.deepStrictEqual(outside, [], "metrics the dashboard names that METRIC_NAMES does not list")
  })
})

describe("the reference service exposes every metric the rules and the dashboard use", () => {
  let service: ReferenceService | undefined
  let exposition = ""

  beforeAll(async () => {
    service = await startReferenceService({
      env: {
        STAGE_VALIDATION_MODE: "enforce",
        ENFORCEMENT_PERCENT: "100",
        STAGE_VALIDATION_OPS_TOKEN: OPS_TOKEN,
        DATABASE_URL: undefined,
        REDIS_URL: undefined
      }
    })
    const post = (path: string, body: unknown) =>
      fetch(`${service!.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000)
      }).then((r) => r.arrayBuffer())
    // a few requests: canonical, alias, unknown; a read; an unauthenticated webhook call
    for (const stage of ["seed", "Series A", "not-a-stage"]) {
      await post("/api/monte-carlo/simulate", { fundId: 1, runs: 100, stageDistribution: [{ stage, weight: 1 }] })
      await post("/api/portfolio/strategies", { fundId: 1, name: "e2e", stageDistribution: [{ stage, weight: 1 }] })
      await fetch(`${service.url}/api/funds/1/companies?stage=${encodeURIComponent(stage)}`).then((r) => r.arrayBuffer())
    }
    await post("/_ops/stage-validation/auto-downgrade", { alerts: [] })
    const response = await fetch(`${service.url}/metrics`, { signal: AbortSignal.timeout(10_000) })
    assert.strictEqual(response.status, 200)
    exposition = await response.text()
  }, 90_000)

  afterAll(async () => {
    await service?.process.stop()
  })

  it("every metric named by a rule or the dashboard is in /metrics", () => {
    const exposed = exposedNames(exposition)
    const missing = [...usedMetricNames()]
      .filter(([name]) => name !== "ALERTS" && !exposed.has(name))
      .map(([name, where]) => `${name} (used by ${[...new Set(where)].join(" and ")})`)
    assert.deepStrictEqual(missing, [], `not exposed by the reference service's /metrics:\n  ${missing.join("\n  ")}`)
  })

  it.skipIf(!hasPromtool && process.env["CI"] !== "true")("promtool check metrics reports nothing", () => {
    assert.isTrue(hasPromtool, "promtool is missing: run bash scripts/install-prometheus-tools.sh")
    const check = spawnSync("promtool", ["check", "metrics"], { input: exposition, encoding: "utf8" })
    assert.strictEqual(`${check.stdout}${check.stderr}`.trim(), "", "promtool check metrics output")
    assert.strictEqual(check.status, 0)
  })
})

// The runbook anchors every alert links to (scripts/test-rules.sh checks the same from bash).
describe("runbook links", () => {
  it("every alert has summary, description and a runbook_url whose anchor exists in docs/runbook.md", () => {
    const rules = readRules()
    const alerts = alertNames(rules)
    const urls = [...rules.matchAll(/^\s*runbook_url:\s*"?([^"\n]+)"?\s*$/gm)].map((m) => m[1]!)
    assert.strictEqual(urls.length, alerts.length)
    assert.strictEqual([...rules.matchAll(/^\s*summary:/gm)].length, alerts.length)
    assert.strictEqual([...rules.matchAll(/^\s*description:/gm)].length, alerts.length)
    // headings only: `# …` lines inside fenced code blocks (shell comments) are not anchors
    const runbook = readFileSync(new URL("../../docs/runbook.md", import.meta.url), "utf8").replace(/^```[\s\S]*?^```/gm, "")
    const anchors = new Set(
      [...runbook.matchAll(/^#{1,6} +(.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, "").replace(/ /g, "-"))
    )
    for (const [i, url] of urls.entries()) {
      assert.match(url, /^docs\/runbook\.md#/)
      const anchor = url.slice("docs/runbook.md#".length)
      assert.isTrue(anchors.has(anchor), `#${anchor} (${alerts[i]}) is a heading of docs/runbook.md`)
      assert.strictEqual(anchor, alerts[i]!.toLowerCase(), "each alert links to its own section")
    }
  })
})
