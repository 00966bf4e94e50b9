/**
 * Audited text is text: the `actor` and `reason` of a rollout change are checked before they reach
 * the audit history, and every printer of the history escapes what it shows. Refused: blank values,
 * values over {@link AUDIT_TEXT_MAX_LENGTH} characters, and control characters — C0 (U+0000–U+001F,
 * tab, CR and LF included), DEL, C1 (U+0080–U+009F) — and the invisible format characters that
 * reorder or hide text on a terminal: the bidi marks, embeddings, overrides and isolates (U+061C,
 * U+200E/F, U+202A–U+202E, U+2066–U+2069), the line and paragraph separators (U+2028/9), zero-width
 * characters (U+200B–U+200D, U+2060–U+2064) and the byte-order mark (U+FEFF). With them a
 * `reason` could forge lines of `mode history` or recolour the operator's terminal.
 *
 * The check is one pure function ({@link auditTextProblem}); {@link escapeAuditText} writes those
 * characters as visible `\uXXXX` escapes, for entries stored before the check existed.
 *
 * @since 0.3.0
 */
import { Schema } from "effect"

/**
 * The longest `actor` or `reason` the audit history accepts, in UTF-16 code units (the mode API's
 * bound since 0.1.0).
 *
 * @example
 * ```ts
 * import { AUDIT_TEXT_MAX_LENGTH } from "stage-normalization/rollout"
 * AUDIT_TEXT_MAX_LENGTH // => 500
 * ```
 * @since 0.3.0
 * @category constants
 */
export const AUDIT_TEXT_MAX_LENGTH = 500

// One character class, written with escapes so the source itself carries none of them.
// oxlint-disable-next-line no-control-regex -- matching control characters is this module's job
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u
const UNSAFE_ALL = new RegExp(UNSAFE.source, "gu")

const hex = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`

/**
 * Whether a text holds a character the audit history refuses (see the module's comment).
 *
 * @example
 * ```ts
 * import { hasUnsafeAuditCharacter } from "stage-normalization/rollout"
 * hasUnsafeAuditCharacter("ramp to 25 %") // => false
 * hasUnsafeAuditCharacter("ok\nforged line") // => true
 * hasUnsafeAuditCharacter("\u001b[31mred") // => true
 * ```
 * @since 0.3.0
 * @category checks
 */
export const hasUnsafeAuditCharacter = (text: string): boolean => UNSAFE.test(text)

/**
 * What is wrong with an `actor` or `reason` value, naming the field; `undefined` when it is fine:
 * 1–{@link AUDIT_TEXT_MAX_LENGTH} characters, not blank, no control or invisible format characters.
 *
 * @example
 * ```ts
 * import { auditTextProblem } from "stage-normalization/rollout"
 * auditTextProblem("reason", "ramp to 25 %") // => undefined
 * auditTextProblem("actor", "  ") // => "actor must be 1–500 characters and not blank"
 * auditTextProblem("reason", "ok\r\nx") // => 'reason must not contain control characters (found \\u000d at position 3)'
 * ```
 * @since 0.3.0
 * @category checks
 */
export const auditTextProblem = (field: string, value: string): string | undefined => {
  if (value.trim().length === 0 || value.length > AUDIT_TEXT_MAX_LENGTH) {
    return `${field} must be 1–${AUDIT_TEXT_MAX_LENGTH} characters and not blank`
  }
  const found = UNSAFE.exec(value)
  return found === null
    ? undefined
    : `${field} must not contain control characters (found ${hex(found[0])} at position ${found.index + 1})`
}

/**
 * Writes every character {@link hasUnsafeAuditCharacter} refuses as a visible `\uXXXX` escape, so a
 * printed entry is one line of plain text whatever was stored.
 *
 * @example
 * ```ts
 * import { escapeAuditText } from "stage-normalization/rollout"
 * escapeAuditText("ok\u001b[2Kforged") // => "ok\\u001b[2Kforged"
 * escapeAuditText("plain") // => "plain"
 * ```
 * @since 0.3.0
 * @category rendering
 */
export const escapeAuditText = (text: string): string => (UNSAFE.test(text) ? text.replace(UNSAFE_ALL, hex) : text)

/**
 * An `actor` or `reason` the audit history refuses: which field, and why.
 *
 * @example
 * ```ts
 * import { AuditTextError } from "stage-normalization/rollout"
 * const e = new AuditTextError({ field: "reason", message: "reason must not contain control characters" })
 * e.field // => "reason"
 * ```
 * @since 0.3.0
 * @category errors
 */
export class AuditTextError extends Schema.TaggedError<AuditTextError>("stage-normalization/rollout/AuditTextError")(
  "AuditTextError",
  { field: Schema.Literals(["actor", "reason"]), message: Schema.String }
) {}

/**
 * Checks a change's `actor` and `reason`: the first problem as an {@link AuditTextError}, else
 * `undefined`.
 *
 * @example
 * ```ts
 * import { checkAuditText } from "stage-normalization/rollout"
 * checkAuditText({ actor: "ops", reason: "ramp" }) // => undefined
 * checkAuditText({ actor: "ops", reason: "a\u0000b" })?.field // => "reason"
 * ```
 * @since 0.3.0
 * @category checks
 */
export const checkAuditText = (meta: { readonly actor: string; readonly reason: string }): AuditTextError | undefined => {
  for (const field of ["actor", "reason"] as const) {
    const message = auditTextProblem(field, meta[field])
    if (message !== undefined) return new AuditTextError({ field, message })
  }
  return undefined
}
