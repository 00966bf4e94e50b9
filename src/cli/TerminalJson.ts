/**
 * JSON for a terminal: `JSON.stringify` escapes C0 control characters inside strings but writes
 * DEL, C1 controls (U+009B is a CSI on some terminals), bidi overrides, line separators and
 * zero-width characters as they are. {@link terminalJson} writes those as `\uXXXX` too — the same
 * JSON values, nothing a terminal acts on. For the `--json` output of commands that print audited
 * text (`mode`, `status`).
 *
 * @since 0.3.0
 */

// What JSON.stringify leaves raw and a terminal may act on (C0 inside strings it escapes itself;
// outside strings, only the formatting newlines remain).
const UNESCAPED = /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu

/**
 * `JSON.stringify(value, null, indent)` with the characters above escaped.
 *
 * @example
 * ```ts
 * import { terminalJson } from "./TerminalJson.ts" // internal: not part of the package's API
 * terminalJson({ reason: "a\u009b31mb" }) // => '{"reason":"a\\u009b31mb"}'
 * JSON.parse(terminalJson({ reason: "a\u009b31mb" })).reason === "a\u009b31mb" // => true
 * ```
 * @since 0.3.0
 * @category rendering
 */
export const terminalJson = (value: unknown, indent?: number): string =>
  JSON.stringify(value, null, indent).replace(UNESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
