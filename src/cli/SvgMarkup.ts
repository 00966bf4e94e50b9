/**
 * A minimal SVG serializer for the CLI's pictures: elements as plain data, attribute values and
 * text escaped for XML (and characters XML 1.0 cannot carry at all written as a visible `\uXXXX`), numbers
 * printed with at most one decimal so that the same input always gives the same bytes.
 *
 * The geometry (scales, ticks, step and line paths) comes from d3-scale and d3-shape
 * (docs/adr/ADR-006-timeline-pictures.md); this module only writes the markup they describe.
 *
 * @since 0.3.0
 */

/**
 * One SVG element: its name, attributes (`undefined` values are left out) and children (nested
 * elements or text, escaped when written).
 *
 * @since 0.3.0
 * @category models
 */
export interface SvgNode {
  readonly name: string
  readonly attributes: Readonly<Record<string, string | number | undefined>>
  readonly children: ReadonlyArray<SvgNode | string>
}

/** Anything XML 1.0 cannot hold even escaped: C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F (and U+FFFD, which parsers take for an encoding error). */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFC\u{10000}-\u{10FFFF}]/gu

const ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }

/**
 * Escapes text for an XML attribute value or text node.
 *
 * @example
 * ```ts
 * import { escapeXml } from "./SvgMarkup.ts" // internal: not part of the package's API
 * escapeXml(`<script>"x" & 'y'</script>`) // => "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
 * escapeXml("a\u0000b") // => "a\\u0000b" (the six characters \u0000: XML cannot hold NUL at all)
 * ```
 * @since 0.3.0
 * @category rendering
 */
export const escapeXml = (text: string): string =>
  text
    .replace(NOT_XML, (c) => `\\u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`)
    .replace(/[&<>"']/g, (c) => ENTITIES[c]!)

/**
 * A number as SVG coordinates want it: at most one decimal, no `-0`, no exponent.
 *
 * @example
 * ```ts
 * import { coordinate } from "./SvgMarkup.ts" // internal: not part of the package's API
 * coordinate(12.345) // => "12.3"
 * coordinate(-0.01) // => "0"
 * ```
 * @since 0.3.0
 * @category rendering
 */
export const coordinate = (n: number): string => {
  if (!Number.isFinite(n)) return "0"
  const rounded = Math.round(n * 10) / 10
  return Object.is(rounded, -0) || rounded === 0 ? "0" : String(rounded)
}

/**
 * Builds an element.
 *
 * @example
 * ```ts
 * import { el, renderSvg } from "./SvgMarkup.ts" // internal: not part of the package's API
 * renderSvg(el("text", { x: 1.25, class: "label" }, ["a < b"])) // => '<text x="1.3" class="label">a &lt; b</text>'
 * ```
 * @since 0.3.0
 * @category constructors
 */
export const el = (
  name: string,
  attributes: Readonly<Record<string, string | number | undefined>> = {},
  children: ReadonlyArray<SvgNode | string | undefined | false> = []
): SvgNode => ({
  name,
  attributes,
  children: children.filter((c): c is SvgNode | string => c !== undefined && c !== false)
})

/**
 * Writes an element and its children as markup, one element per line for the structural ones
 * (groups and the root), so that a committed picture diffs readably.
 *
 * @example
 * ```ts
 * import { el, renderSvg } from "./SvgMarkup.ts" // internal: not part of the package's API
 * renderSvg(el("g", { class: "x" }, [el("rect", { width: 2 })])) // => '<g class="x">\n<rect width="2"/>\n</g>'
 * ```
 * @since 0.3.0
 * @category rendering
 */
export const renderSvg = (node: SvgNode): string => {
  const attributes = Object.entries(node.attributes)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => ` ${key}="${escapeXml(typeof value === "number" ? coordinate(value) : value)}"`)
    .join("")
  if (node.children.length === 0) return `<${node.name}${attributes}/>`
  const block = node.name === "svg" || node.name === "g"
  const inner = node.children.map((c) => (typeof c === "string" ? escapeXml(c) : renderSvg(c)))
  return block
    ? `<${node.name}${attributes}>\n${inner.join("\n")}\n</${node.name}>`
    : `<${node.name}${attributes}>${inner.join("")}</${node.name}>`
}
