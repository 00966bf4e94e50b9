/**
 * The rollout timeline as an SVG picture: the runbook phase as coloured bands and the share of
 * requests in the enforced set as a step line, every gate verdict of the audit history and every
 * applied downgrade as a marker with a guide line, and — when metric series are given — the reject
 * ratio and the validator p99 in two panels below on the same time axis. Without them the picture
 * says why they are missing.
 *
 * A pure function of its input: no clock, no locale (times in UTC, numbers formatted by hand), so
 * the same history draws the same bytes and the picture can be committed. Scales, ticks and paths
 * come from d3-scale and d3-shape (docs/adr/ADR-006-timeline-pictures.md); every label is escaped.
 * Each gate verdict is one `<g class="gate-verdict" data-verdict="…">`, each downgrade one
 * `<g class="downgrade">`, each applied change one `<circle class="mode-change">`.
 *
 * @since 0.3.0
 */
import { scaleLinear, scaleUtc } from "d3-scale"
import { curveStepAfter, line } from "d3-shape"
import type { AuditEntry } from "../rollout/AuditLog.ts"
import { escapeAuditText } from "../rollout/AuditText.ts"
import { el, renderSvg, type SvgNode } from "./SvgMarkup.ts"
import { type TimelineGate, type TimelineModel, timelineModel } from "./TimelineModel.ts"
import {
  DOWNGRADE_COLOR,
  FONT,
  format,
  GRID,
  legend,
  markerShape,
  P99_COLOR,
  PHASE_STYLE,
  REJECT_COLOR,
  STEP_COLOR,
  text,
  textWidth,
  tooltip,
  VERDICT_STYLE
} from "./TimelineStyle.ts"

const WIDTH = 960
const LEFT = 72
const RIGHT = 40
const LANE_TOP = 64
const LANE_ROW = 15
const LANE_ROWS = 3
const ROLLOUT_TOP = LANE_TOP + LANE_ROW * LANE_ROWS + 6
const ROLLOUT_HEIGHT = 170
const METRIC_HEIGHT = 96
const METRIC_GAP = 34
/** the reject ratio StageValidationBlastRadius fires above, and the validator's p99 budget */
const BLAST_RADIUS = 0.005
const P99_BUDGET_SECONDS = 0.001
const { iso, clock, stamp, num, percentOf } = format

/**
 * A metric series: `[epoch milliseconds, value]`, NaN or missing values leave a gap.
 *
 * @since 0.3.0
 * @category models
 */
export type TimelineSeries = ReadonlyArray<readonly [number, number]>

/**
 * The metric panels' data, or why there is none.
 *
 * @since 0.3.0
 * @category models
 */
export type TimelineMetrics =
  | { readonly _tag: "Available"; readonly rejectRatio: TimelineSeries; readonly p99Seconds: TimelineSeries; readonly source: string }
  | { readonly _tag: "Unavailable"; readonly reason: string }

/**
 * What to draw.
 *
 * @since 0.3.0
 * @category models
 */
export interface TimelineInput {
  readonly entries: ReadonlyArray<AuditEntry>
  readonly metrics: TimelineMetrics
  readonly title?: string | undefined
  /** widen the time range to here (epoch ms), e.g. to now */
  readonly until?: number | undefined
  readonly since?: number | undefined
}

/** Time ticks with labels: HH:MM:SS within a day and a half (HH:MM when every tick is on the minute), else MM-DD HH:MM. */
const timeTicks = (x: ReturnType<typeof scaleUtc<number>>, span: number) => {
  const ticks = x.ticks(8).map((d) => d.getTime())
  const long = span > 36 * 3_600_000
  const onMinute = ticks.every((t) => t % 60_000 === 0)
  return ticks.map((t) => ({ t, label: long ? iso(t).slice(5, 16).replace("T", " ") : onMinute ? clock(t).slice(0, 5) : clock(t) }))
}

interface Frame {
  readonly x: ReturnType<typeof scaleUtc<number>>
  readonly ticks: ReadonlyArray<{ readonly t: number; readonly label: string }>
  readonly right: number
}

const panelFrame = (frame: Frame, top: number, height: number, y: ReturnType<typeof scaleLinear<number>>, yLabel: (v: number) => string) =>
  el("g", { class: "panel-frame" }, [
    ...frame.ticks.map(({ t }) => el("line", { x1: frame.x(t), x2: frame.x(t), y1: top, y2: top + height, stroke: GRID })),
    ...y.ticks(4).flatMap((v) => [
      el("line", { x1: LEFT, x2: frame.right, y1: y(v), y2: y(v), stroke: GRID }),
      text(LEFT - 6, y(v) + 4, yLabel(v), { "text-anchor": "end", "font-size": 10 })
    ]),
    el("rect", { x: LEFT, y: top, width: frame.right - LEFT, height, fill: "none", stroke: "#9e9e9e" })
  ])

/** Lane rows for the markers' labels: the first row where the label does not overlap the previous one. */
const laneRows = (spans: ReadonlyArray<{ readonly from: number; readonly to: number }>): ReadonlyArray<number> => {
  const ends: Array<number> = Array.from({ length: LANE_ROWS }, () => -Infinity)
  return spans.map(({ from, to }) => {
    let row = ends.findIndex((end) => from >= end + 4)
    if (row < 0) row = ends.indexOf(Math.min(...ends))
    ends[row] = to
    return row
  })
}

/** A marker's label goes to its left near the right edge. */
const labelsLeftward = (x: number, label: string): boolean => x + 8 + textWidth(label, 10) * 1.15 > WIDTH - 6

const gateLabel = (g: TimelineGate): string =>
  `${g.gate.fromPercent}→${g.gate.toPercent} %${g.gate.decision === "hold" ? " held" : g.gate.decision === "force" ? " forced" : ""}`

const describeGate = (g: TimelineGate): string =>
  `${stamp(g.at)} UTC — gate ${g.gate.verdict}, ${g.gate.decision} ${g.gate.fromPercent} → ${g.gate.toPercent} % ` +
  `(audit outcome ${g.entry.outcome}; by ${escapeAuditText(g.entry.actor)}: ${escapeAuditText(g.entry.reason)})` +
  (g.gate.reasons.length > 0 ? `\n${g.gate.reasons.join("; ")}` : "")

/** The marker lane above the rollout panel, and the guide lines through every panel. */
const markers = (model: TimelineModel, frame: Frame, bottom: number): ReadonlyArray<SvgNode> => {
  const items = [
    ...model.gates.map((g) => ({ at: g.at, kind: g.gate.verdict, label: gateLabel(g), gate: g, downgrade: undefined })),
    ...model.downgrades.map((d) => ({ at: d.at, kind: "downgrade" as const, label: "downgrade", gate: undefined, downgrade: d }))
  ].sort((a, b) => a.at - b.at)
  const rows = laneRows(items.map((i) => {
    const x = frame.x(i.at)
    const width = textWidth(i.label, 10)
    return labelsLeftward(x, i.label) ? { from: x - 8 - width, to: x + 6 } : { from: x - 6, to: x + 8 + width }
  }))
  return items.map((item, i) => {
    const x = frame.x(item.at)
    const y = LANE_TOP + LANE_ROW * rows[i]! + 6
    const color = item.kind === "downgrade" ? DOWNGRADE_COLOR : VERDICT_STYLE[item.kind].color
    const guide = el("line", {
      x1: x, x2: x, y1: y + 6, y2: bottom, stroke: color,
      "stroke-width": item.kind === "downgrade" ? 2 : 1.2,
      "stroke-dasharray": item.kind === "downgrade" ? undefined : "4 3",
      "stroke-opacity": "0.8"
    })
    const leftward = labelsLeftward(x, item.label)
    const label = text(leftward ? x - 8 : x + 8, y + 4, item.label, {
      "font-size": 10,
      fill: color,
      "font-weight": item.kind === "downgrade" ? "bold" : undefined,
      "text-anchor": leftward ? "end" : undefined
    })
    if (item.gate !== undefined) {
      const g = item.gate
      return el("g", { class: "gate-verdict", "data-verdict": g.gate.verdict, "data-decision": g.gate.decision, "data-at": g.entry.at }, [
        tooltip(describeGate(g)), guide, markerShape(item.kind as keyof typeof VERDICT_STYLE, x, y), label
      ])
    }
    const d = item.downgrade!
    return el("g", { class: "downgrade", "data-at": d.entry.at, "data-source": d.entry.source }, [
      tooltip(`${stamp(d.at)} UTC — downgrade to warn by ${escapeAuditText(d.entry.actor)} (${d.entry.source}): ${escapeAuditText(d.entry.reason)}`),
      guide, markerShape("downgrade", x, y), label
    ])
  })
}

const rolloutPanel = (model: TimelineModel, frame: Frame): SvgNode => {
  const top = ROLLOUT_TOP
  const y = scaleLinear([0, 100], [top + ROLLOUT_HEIGHT, top + 8])
  const bands = model.segments.map((s) => {
    const x0 = frame.x(s.from)
    const width = Math.max(0, frame.x(s.to) - x0)
    const style = PHASE_STYLE[s.phase]
    return el("g", { class: "phase", "data-phase": s.phase }, [
      tooltip(`${s.title}: ${stamp(s.from)} → ${stamp(s.to)} UTC`),
      el("rect", { x: x0, y: top, width, height: ROLLOUT_HEIGHT, fill: style.fill }),
      width >= textWidth(style.label, 10) + 8 ? text(x0 + 4, top + ROLLOUT_HEIGHT - 6, style.label, { "font-size": 10, fill: "#555555" }) : undefined
    ])
  })
  const path = line<readonly [number, number]>().x((d) => frame.x(d[0])).y((d) => y(d[1])).curve(curveStepAfter).digits(1)
  return el("g", { class: "rollout" }, [
    ...bands,
    panelFrame(frame, top, ROLLOUT_HEIGHT, y, (v) => `${v} %`),
    text(LEFT, top - 4 - LANE_ROW * LANE_ROWS - 6, "gate verdicts and downgrades", { "font-size": 10, fill: "#777777" }),
    el("path", { class: "enforced-percent", d: path(model.steps) ?? "", fill: "none", stroke: STEP_COLOR, "stroke-width": 2.5 }),
    ...model.changes.map((c) =>
      el("circle", {
        class: "mode-change", "data-action": c.entry.action, "data-at": c.entry.at, cx: frame.x(c.at), cy: y(c.enforcedPercent), r: 3,
        fill: "#ffffff", stroke: STEP_COLOR, "stroke-width": 1.5
      }, [tooltip(`${stamp(c.at)} UTC — ${c.entry.action} by ${escapeAuditText(c.entry.actor)} (${c.entry.source}), version ${c.entry.version}: ${escapeAuditText(c.entry.reason)}`)])
    ),
    text(18, top + ROLLOUT_HEIGHT / 2, "enforced %", { transform: `rotate(-90 18 ${top + ROLLOUT_HEIGHT / 2})`, "text-anchor": "middle" })
  ])
}

const finitePoints = (series: TimelineSeries): TimelineSeries => series.filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v))

/**
 * The top of a value axis: the data's maximum, unless a few outliers (a cold start's first p99)
 * would flatten everything else — then 1.5 × the 98th percentile, and the outliers are cut off at
 * the top. The threshold line is drawn when it falls near the data's range.
 */
const valueScale = (values: ReadonlyArray<number>, threshold: number, floor: number) => {
  const sorted = values.toSorted((a, b) => a - b)
  const max = sorted.at(-1) ?? 0
  const robust = Math.max((sorted[Math.floor(0.98 * (sorted.length - 1))] ?? 0) * 1.5, floor)
  const dataTop = max > robust * 1.5 ? robust : Math.max(max * 1.15, floor)
  const thresholdShown = threshold <= dataTop * 1.1
  return { top: thresholdShown ? Math.max(dataTop, threshold * 1.2) : dataTop, thresholdShown }
}

const metricPanel = (options: {
  readonly frame: Frame
  readonly top: number
  readonly series: TimelineSeries
  readonly title: string
  readonly unit: (v: number) => string
  readonly color: string
  readonly className: string
  readonly threshold: { readonly value: number; readonly label: string }
  readonly floor: number
}): SvgNode => {
  const { frame, top, series } = options
  const points = finitePoints(series)
  const scale = valueScale(points.map(([, v]) => v), options.threshold.value, options.floor)
  const y = scaleLinear([0, scale.top], [top + METRIC_HEIGHT, top]).nice(4)
  const ceiling = y.domain()[1]!
  const path = line<readonly [number, number]>()
    .defined((d) => Number.isFinite(d[1]))
    .x((d) => frame.x(d[0]))
    .y((d) => y(Math.min(d[1], ceiling)))
    .digits(1)
  const peak = points.reduce<readonly [number, number] | undefined>((best, p) => (best === undefined || p[1] > best[1] ? p : best), undefined)
  const notes = [
    scale.thresholdShown ? undefined : `${options.threshold.label} is above the scale`,
    peak !== undefined && peak[1] > ceiling ? `peak ${options.unit(peak[1])} at ${clock(peak[0])} cut off` : undefined
  ].filter((n) => n !== undefined)
  const title = `${options.title}${notes.length === 0 ? "" : ` — ${notes.join("; ")}`}`
  const shown = scale.thresholdShown
  return el("g", { class: options.className }, [
    text(LEFT, top - 6, title, { "font-size": 11, "font-weight": "bold" }),
    panelFrame(frame, top, METRIC_HEIGHT, y, options.unit),
    shown
      ? el("g", { class: "threshold" }, [
        el("line", { x1: LEFT, x2: frame.right, y1: y(options.threshold.value), y2: y(options.threshold.value), stroke: "#757575", "stroke-dasharray": "6 4" }),
        text(frame.right - 4, y(options.threshold.value) - 4, options.threshold.label, { "font-size": 10, "text-anchor": "end", fill: "#616161" })
      ])
      : undefined,
    points.length === 0
      ? text(LEFT + 8, top + METRIC_HEIGHT / 2, "no samples in this range", { fill: "#757575" })
      : el("path", { class: "series", d: path(series) ?? "", fill: "none", stroke: options.color, "stroke-width": 1.8 })
  ])
}

/**
 * Draws the timeline.
 *
 * @example
 * ```ts
 * import { renderTimelineSvg } from "./TimelineSvg.ts" // internal: not part of the package's API
 * renderTimelineSvg({ entries: [], metrics: { _tag: "Unavailable", reason: "no Prometheus given" } }).startsWith("<svg") // => true
 * ```
 * @since 0.3.0
 * @category rendering
 */
export const renderTimelineSvg = (input: TimelineInput): string => {
  const metrics = input.metrics
  const points = metrics._tag === "Available" ? [...metrics.rejectRatio, ...metrics.p99Seconds].map(([t]) => t).filter(Number.isFinite) : []
  const since = Math.min(input.since ?? Infinity, ...points)
  const until = Math.max(input.until ?? -Infinity, ...points)
  const model = timelineModel(input.entries, {
    since: Number.isFinite(since) ? since : undefined,
    until: Number.isFinite(until) ? until : undefined
  })
  const empty = model.start === model.end
  const start = empty ? model.start - 60_000 : model.start
  const end = empty ? model.end + 60_000 : model.end
  const pad = (end - start) * 0.01
  const right = WIDTH - RIGHT
  const x = scaleUtc([start - pad, end + pad], [LEFT, right])
  const frame: Frame = { x, ticks: timeTicks(x, end - start), right }

  const rolloutBottom = ROLLOUT_TOP + ROLLOUT_HEIGHT
  const rejectTop = rolloutBottom + METRIC_GAP
  const p99Top = rejectTop + METRIC_HEIGHT + METRIC_GAP
  const bottom = metrics._tag === "Available" ? p99Top + METRIC_HEIGHT : rolloutBottom + 46
  const height = bottom + 62

  const counts = (["pass", "fail", "inconclusive"] as const).map((v) => `${model.gates.filter((g) => g.gate.verdict === v).length} ${v}`)
  const subtitle = input.entries.length === 0
    ? "no audit history"
    : `${stamp(model.start)} → ${stamp(model.end)} UTC · ${model.changes.length} applied changes · gate verdicts: ${counts.join(", ")} · ` +
      `${model.downgrades.length} downgrade${model.downgrades.length === 1 ? "" : "s"}`
  const title = input.title ?? "Rollout timeline"

  const metricNodes = metrics._tag === "Available"
    ? [
      metricPanel({
        frame, top: rejectTop, series: metrics.rejectRatio, title: "reject ratio (answered 400 / validations)", unit: percentOf,
        color: REJECT_COLOR, className: "reject-ratio", threshold: { value: BLAST_RADIUS, label: "0.5 % blast radius" }, floor: 0.001
      }),
      metricPanel({
        frame, top: p99Top, series: metrics.p99Seconds, title: "validator p99", unit: (v) => `${num(v * 1000)} ms`,
        color: P99_COLOR, className: "p99", threshold: { value: P99_BUDGET_SECONDS, label: "1 ms budget" }, floor: 0.0001
      })
    ]
    : [
      el("g", { class: "metrics-unavailable" }, [
        el("rect", { x: LEFT, y: rolloutBottom + 14, width: right - LEFT, height: 26, fill: "#fafafa", stroke: "#bdbdbd", "stroke-dasharray": "4 3" }),
        text(LEFT + 8, rolloutBottom + 31, `metric series unavailable (reject ratio, p99): ${metrics.reason}`, { fill: "#616161" })
      ])
    ]

  const svg = el("svg", {
    xmlns: "http://www.w3.org/2000/svg",
    width: WIDTH,
    height,
    viewBox: `0 0 ${WIDTH} ${height}`,
    role: "img",
    "font-family": FONT
  }, [
    tooltip(`${title}: ${subtitle}`),
    el("desc", {}, [
      "Enforced share of requests and runbook phase over time from the audit history, each gate verdict and downgrade marked; " +
      (metrics._tag === "Available" ? `reject ratio and validator p99 from ${metrics.source}.` : `metric series unavailable: ${metrics.reason}.`)
    ]),
    el("rect", { x: 0, y: 0, width: WIDTH, height, fill: "#ffffff" }),
    text(LEFT, 24, title, { "font-size": 16, "font-weight": "bold" }),
    text(LEFT, 42, subtitle, { "font-size": 11, fill: "#555555" }),
    rolloutPanel(model, frame),
    ...metricNodes,
    el("g", { class: "time-axis" }, [
      ...frame.ticks.map(({ t, label }) => text(x(t), bottom + 15, label, { "text-anchor": "middle", "font-size": 10 })),
      text(right, bottom + 30, `time (UTC, ${iso(start).slice(0, 10)})`, { "text-anchor": "end", "font-size": 10, fill: "#616161" })
    ]),
    ...markers(model, frame, metrics._tag === "Available" ? bottom : rolloutBottom),
    legend(LEFT, height - 14, metrics._tag === "Available")
  ])
  return `${renderSvg(svg)}\n`
}
