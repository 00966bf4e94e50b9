/**
 * Reads a timeline picture back as XML (strictly: any parser error or warning throws) and counts
 * what it marks, so that the rehearsal and the tests can check that the SVG parses and holds one
 * gate-verdict marker per decision record in the audit history (and a downgrade marker per
 * applied downgrade).
 */
import { DOMParser, type Element } from "@xmldom/xmldom"

export interface TimelineMarks {
  readonly root: Element
  /** `data-verdict` of every `<g class="gate-verdict">`, in document order */
  readonly verdicts: ReadonlyArray<string>
  readonly downgrades: number
  readonly modeChanges: number
  readonly metricsUnavailable: boolean
  /** every text node's content, joined by newlines */
  readonly texts: string
}

const classOf = (e: Element): ReadonlyArray<string> => (e.getAttribute("class") ?? "").split(/\s+/).filter(Boolean)

/** Parses an SVG document; throws on anything the XML parser reports. */
export const parseTimeline = (svg: string): TimelineMarks => {
  const parser = new DOMParser({
    onError: (level, message) => {
      throw new Error(`the SVG is not well-formed XML (${level}): ${message}`)
    }
  })
  const doc = parser.parseFromString(svg, "image/svg+xml")
  const root = doc.documentElement
  if (root === null || root.nodeName !== "svg" || root.getAttribute("xmlns") !== "http://www.w3.org/2000/svg") {
    throw new Error(`not an SVG document: root ${root?.nodeName ?? "missing"}`)
  }
  const all = Array.from(root.getElementsByTagName("*"))
  const having = (c: string) => all.filter((e) => classOf(e).includes(c))
  return {
    root,
    verdicts: having("gate-verdict").map((e) => e.getAttribute("data-verdict") ?? ""),
    downgrades: having("downgrade").length,
    modeChanges: having("mode-change").length,
    metricsUnavailable: having("metrics-unavailable").length > 0,
    texts: Array.from(root.getElementsByTagName("text")).map((t) => t.textContent ?? "").join("\n")
  }
}
