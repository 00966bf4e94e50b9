/**
 * The rollout timeline picture (src/cli/TimelineSvg.ts): it parses as SVG, holds one
 * `gate-verdict` marker per decision record of the history (with its verdict) and one distinct
 * `downgrade` marker per applied downgrade, escapes hostile actor and reason text, draws the metric
 * panels or says why they are missing, and is the same bytes for the same input in any order.
 */
import { assert, describe, it } from "@effect/vitest"
import { parseTimeline } from "../../scripts/rehearsal/timelineCheck.ts"
import { coordinate, escapeXml } from "../../src/cli/SvgMarkup.ts"
import { enforcedPercent, gateVerdictEntries, timelineModel } from "../../src/cli/TimelineModel.ts"
import { renderTimelineSvg, type TimelineMetrics } from "../../src/cli/TimelineSvg.ts"
import { DEFAULT_DOCUMENT } from "../../src/rollout/index.ts"
import { rehearsalHistory, rehearsalMetrics, T0 } from "./timelineFixture.ts"

const available = (): TimelineMetrics => ({ _tag: "Available", ...rehearsalMetrics(), source: "Prometheus (test)" })

describe("renderTimelineSvg", () => {
  it("parses as SVG with one marker per gate verdict, in time order, and one downgrade marker", () => {
    const entries = rehearsalHistory()
    const marks = parseTimeline(renderTimelineSvg({ entries, metrics: available(), until: T0 + 200_000 }))
    assert.deepStrictEqual(marks.verdicts, ["fail", "pass", "pass", "inconclusive", "pass"])
    assert.strictEqual(marks.verdicts.length, gateVerdictEntries(entries).length)
    // the duplicate downgrade changed nothing: one marker, for the applied one
    assert.strictEqual(marks.downgrades, 1)
    assert.strictEqual(marks.modeChanges, entries.filter((e) => e.outcome === "applied").length)
    assert.isFalse(marks.metricsUnavailable)
    assert.include(marks.texts, "reject ratio")
    assert.include(marks.texts, "validator p99")
    assert.include(marks.texts, "gate verdicts: 3 pass, 1 fail, 1 inconclusive · 1 downgrade")
  })

  it("marks the downgrade distinctly from the verdicts", () => {
    const marks = parseTimeline(renderTimelineSvg({ entries: rehearsalHistory(), metrics: available() }))
    const groups = Array.from(marks.root.getElementsByTagName("g"))
    const downgrade = groups.find((g) => g.getAttribute("class") === "downgrade")!
    assert.strictEqual(downgrade.getAttribute("data-source"), "webhook")
    assert.strictEqual(downgrade.getElementsByTagName("text")[0]?.textContent, "downgrade")
    assert.isNull(downgrade.getAttribute("data-verdict"))
    const held = groups.filter((g) => g.getAttribute("class") === "gate-verdict" && g.getAttribute("data-decision") === "hold")
    assert.deepStrictEqual(held.map((g) => g.getAttribute("data-verdict")), ["fail", "inconclusive"])
  })

  it("escapes hostile actor and reason text: it stays text, never markup", () => {
    const entries = rehearsalHistory({ hostile: true })
    const svg = renderTimelineSvg({ entries, metrics: available(), title: `<b>"rollout" & co</b>` })
    assert.notInclude(svg, "<script")
    assert.notInclude(svg, "\u0000")
    const marks = parseTimeline(svg)
    // the actor tried to open a gate-verdict group of its own
    assert.strictEqual(marks.verdicts.length, 5)
    const tooltips = Array.from(marks.root.getElementsByTagName("title")).map((t) => t.textContent ?? "")
    assert.isTrue(tooltips.some((t) => t.includes(`</text><script>alert("x")</script> & \\u0000 ]]>`)), "the reason, as text")
    assert.isTrue(tooltips.some((t) => t.includes(`"><g class="gate-verdict">`)), "the actor, as text")
    assert.include(marks.texts, `<b>"rollout" & co</b>`)
  })

  it("without metric series it still draws the rollout and says why the panels are missing", () => {
    const marks = parseTimeline(renderTimelineSvg({
      entries: rehearsalHistory(),
      metrics: { _tag: "Unavailable", reason: "Prometheus unreachable: http://127.0.0.1:1" }
    }))
    assert.isTrue(marks.metricsUnavailable)
    assert.include(marks.texts, "metric series unavailable (reject ratio, p99): Prometheus unreachable: http://127.0.0.1:1")
    assert.strictEqual(marks.verdicts.length, 5)
    assert.notInclude(marks.texts, "validator p99\n")
  })

  it("is deterministic: the same history in another order draws the same bytes", () => {
    const entries = rehearsalHistory()
    const a = renderTimelineSvg({ entries, metrics: available(), until: T0 + 200_000 })
    const b = renderTimelineSvg({ entries: entries.toReversed(), metrics: available(), until: T0 + 200_000 })
    assert.strictEqual(a, b)
    assert.notMatch(a, /NaN|Infinity|undefined/)
  })

  it("a lone outlier (a cold start's first p99) is cut off at the top and named, not flattening the rest", () => {
    const m = rehearsalMetrics()
    const p99Seconds = m.p99Seconds.map(([t, v], i) => [t, i === 3 ? 0.037 : v] as const)
    const marks = parseTimeline(renderTimelineSvg({ entries: rehearsalHistory(), metrics: { _tag: "Available", rejectRatio: m.rejectRatio, p99Seconds, source: "x" } }))
    assert.include(marks.texts, "validator p99 — 1 ms budget is above the scale; peak 37 ms at 10:00:06 cut off")
    // the reject ratio's spike is most of the picture's story: a sustained 20 %, not an outlier
    assert.include(marks.texts, "0.5 % blast radius")
    assert.notInclude(marks.texts, "reject ratio (answered 400 / validations) —")
  })

  it("draws an empty history and a single entry without failing", () => {
    const empty = parseTimeline(renderTimelineSvg({ entries: [], metrics: { _tag: "Unavailable", reason: "none" } }))
    assert.deepStrictEqual(empty.verdicts, [])
    assert.include(empty.texts, "no audit history")
    const one = renderTimelineSvg({ entries: rehearsalHistory().slice(0, 1), metrics: { _tag: "Available", rejectRatio: [], p99Seconds: [], source: "x" } })
    assert.include(parseTimeline(one).texts, "no samples in this range")
    assert.notMatch(one, /NaN|Infinity/)
  })
})

describe("the timeline model and markup", () => {
  it("the enforced share: the percentage while anything enforces outside shadow mode, else 0", () => {
    assert.strictEqual(enforcedPercent({ ...DEFAULT_DOCUMENT, defaultMode: "warn", enforcementPercent: 100 }), 0)
    assert.strictEqual(enforcedPercent({ ...DEFAULT_DOCUMENT, defaultMode: "warn", enforceWriteOnly: true, enforcementPercent: 100 }), 100)
    assert.strictEqual(enforcedPercent({ ...DEFAULT_DOCUMENT, defaultMode: "enforce", dryRun: true, enforcementPercent: 10 }), 0)
    assert.strictEqual(enforcedPercent({ ...DEFAULT_DOCUMENT, defaultMode: "warn", endpointMode: { "/api/x": "enforce" }, enforcementPercent: 25 }), 25)
  })

  it("phases follow the history: write-only, shadow, ramp, full enforcement, downgraded", () => {
    const model = timelineModel(rehearsalHistory())
    assert.deepStrictEqual(model.segments.map((s) => s.phase), ["2.1", "2.5", "2.7", "3", "4", "downgraded"])
    assert.deepStrictEqual(model.steps.map(([, p]) => p), [0, 100, 0, 10, 25, 50, 100, 0, 0])
  })

  it("escapes markup and drops what XML cannot carry; coordinates have one decimal", () => {
    assert.strictEqual(escapeXml(`a<b>&"c'\u0001\uFFFE`), "a&lt;b&gt;&amp;&quot;c&#39;\\u0001\\uFFFE")
    assert.strictEqual(escapeXml("\ud800x\u{1F600}"), "\\uD800x\u{1F600}")
    assert.deepStrictEqual([coordinate(1.26), coordinate(-0.04), coordinate(Number.NaN), coordinate(1e21)], ["1.3", "0", "0", "1e+21"])
  })
})
