/**
 * The look of the rollout timeline (`TimelineSvg.ts`): colours of the runbook phases, the gate
 * verdicts, the downgrade and the series; the marker shapes and the legend that names them; and
 * the locale-free formatting of times (UTC) and numbers its labels use.
 *
 * @since 0.3.0
 */
import type { RolloutPhase } from "./RolloutPhase.ts"
import { el, type SvgNode } from "./SvgMarkup.ts"

/**
 * Fonts, in the order a renderer should try them.
 *
 * @since 0.3.0
 * @category constants
 */
export const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
/** @since 0.3.0 @category constants */
export const GRID = "#e3e3e3"
/** @since 0.3.0 @category constants */
export const INK = "#333333"
/** @since 0.3.0 @category constants */
export const DOWNGRADE_COLOR = "#b71c1c"
/** @since 0.3.0 @category constants */
export const STEP_COLOR = "#1f4e9c"
/** @since 0.3.0 @category constants */
export const REJECT_COLOR = "#d84315"
/** @since 0.3.0 @category constants */
export const P99_COLOR = "#6a1b9a"

/**
 * Band colour and short label per runbook phase.
 *
 * @since 0.3.0
 * @category constants
 */
export const PHASE_STYLE: Readonly<Record<RolloutPhase["id"], { readonly fill: string; readonly label: string }>> = {
  off: { fill: "#ececec", label: "off" },
  "2.1": { fill: "#fbf0c2", label: "warn" },
  "2.5": { fill: "#fbdcb4", label: "write-only" },
  "2.7": { fill: "#e5dbf5", label: "shadow" },
  "3": { fill: "#d4e6f6", label: "ramp" },
  "4": { fill: "#d2ead7", label: "full enforce" },
  downgraded: { fill: "#f6d2d2", label: "downgraded: warn" }
}

/**
 * Colour and legend label per gate verdict.
 *
 * @since 0.3.0
 * @category constants
 */
export const VERDICT_STYLE = {
  pass: { color: "#2e7d32", label: "gate pass" },
  fail: { color: "#c62828", label: "gate fail" },
  inconclusive: { color: "#e0a100", label: "gate inconclusive" }
} as const

/**
 * Formatting without a locale: ISO time in UTC, the clock part, date and clock, a number with 3
 * significant digits, a ratio in %.
 *
 * @example
 * ```ts
 * import { format } from "./TimelineStyle.ts" // internal: not part of the package's API
 * format.stamp(0) // => "1970-01-01 00:00:00"
 * format.percentOf(0.00334) // => "0.334 %"
 * ```
 * @since 0.3.0
 * @category formatting
 */
export const format = {
  iso: (ms: number): string => new Date(ms).toISOString(),
  clock: (ms: number): string => new Date(ms).toISOString().slice(11, 19),
  stamp: (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace("T", " "),
  num: (n: number): string => String(+n.toPrecision(3)),
  percentOf: (ratio: number): string => `${String(+(ratio * 100).toPrecision(3))} %`
}

/**
 * An estimate of a label's width in pixels (no font metrics on a server; generous for DejaVu Sans).
 *
 * @since 0.3.0
 * @category formatting
 */
export const textWidth = (content: string, size = 11): number => content.length * size * 0.58

/**
 * A `<text>` element in the picture's ink, 11 px unless `attributes` say otherwise.
 *
 * @since 0.3.0
 * @category constructors
 */
export const text = (x: number, y: number, content: string, attributes: Readonly<Record<string, string | number | undefined>> = {}) =>
  el("text", { x, y, "font-size": 11, fill: INK, ...attributes }, [content])

/**
 * A `<title>`: the tooltip of its parent element.
 *
 * @since 0.3.0
 * @category constructors
 */
export const tooltip = (content: string): SvgNode => el("title", {}, [content])

/**
 * The marker of a gate verdict (circle pass, square fail, diamond inconclusive) or of a downgrade
 * (a downward triangle), centred on `cx`, `cy`.
 *
 * @since 0.3.0
 * @category constructors
 */
export const markerShape = (kind: keyof typeof VERDICT_STYLE | "downgrade", cx: number, cy: number): SvgNode => {
  switch (kind) {
    case "pass":
      return el("circle", { cx, cy, r: 5, fill: VERDICT_STYLE.pass.color })
    case "fail":
      return el("rect", { x: cx - 4.5, y: cy - 4.5, width: 9, height: 9, fill: VERDICT_STYLE.fail.color })
    case "inconclusive":
      return el("path", { d: `M${cx} ${cy - 6}L${cx + 6} ${cy}L${cx} ${cy + 6}L${cx - 6} ${cy}Z`, fill: VERDICT_STYLE.inconclusive.color })
    case "downgrade":
      return el("path", { d: `M${cx - 6} ${cy - 5}L${cx + 6} ${cy - 5}L${cx} ${cy + 6}Z`, fill: DOWNGRADE_COLOR })
  }
}

const swatch = (x: number, y: number, color: string, width: number) =>
  el("line", { x1: x - 4, x2: x + 8, y1: y, y2: y, stroke: color, "stroke-width": width })

/**
 * The legend: one row from `left` at `y`, naming the step line, the markers and (with metric
 * panels) the two series.
 *
 * @since 0.3.0
 * @category constructors
 */
export const legend = (left: number, y: number, withMetrics: boolean): SvgNode => {
  const items: Array<readonly [(x: number) => SvgNode, string]> = [
    [(x) => swatch(x, y, STEP_COLOR, 2.5), "enforced % (step)"],
    ...(["pass", "fail", "inconclusive"] as const).map((v) => [(x: number) => markerShape(v, x + 2, y), VERDICT_STYLE[v].label] as const),
    [(x) => markerShape("downgrade", x + 2, y), "downgrade"],
    ...(withMetrics
      ? [[(x: number) => swatch(x, y, REJECT_COLOR, 2), "reject ratio"] as const, [(x: number) => swatch(x, y, P99_COLOR, 2), "validator p99"] as const]
      : [])
  ]
  let x = left
  return el("g", { class: "legend" }, items.map(([shape, label]) => {
    const node = el("g", { class: "legend-item" }, [shape(x), text(x + 12, y + 4, label, { "font-size": 10 })])
    x += 30 + textWidth(label, 10)
    return node
  }))
}
