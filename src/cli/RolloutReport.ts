/**
 * Plain-text views of the rollout state for `mode` and `status`: the document as a field / value
 * table (record fields one entry per line), the field-level difference between two documents,
 * and the audit history as a table (newest first, the reason last so it may run long).
 *
 * @since 0.2.0
 */
import type { AuditEntry, DiffEntry } from "../rollout/AuditLog.ts"
import { escapeAuditText } from "../rollout/AuditText.ts"
import type { RolloutView } from "./RolloutSource.ts"
import { renderTable } from "./Table.ts"

/** The fields an operator reads first, in this order; any other field follows, sorted. */
const FIELD_ORDER = [
  "defaultMode",
  "endpointMode",
  "enforcementPercent",
  "dryRun",
  "enforceWriteOnly",
  "operationOverrides",
  "stickinessHeader",
  "bucketAlgorithm",
  "enforcementSalt",
  "samplingSalt",
  "deprecationDate",
  "sunsetDate",
  "docsUrl"
]

/**
 * One value as a table cell: strings as they are, `null` / absent as `—`, anything else as JSON.
 *
 * @example
 * ```ts
 * import { formatValue } from "./RolloutReport.ts" // internal: not part of the package's API
 * formatValue("warn") // => "warn"
 * formatValue(null) // => "—"
 * formatValue({ "/api/x": "enforce" }) // => '{"/api/x":"enforce"}'
 * ```
 * @since 0.2.0
 * @category rendering
 */
export const formatValue = (value: unknown): string =>
  value === null || value === undefined ? "—" : escapeAuditText(typeof value === "string" ? value : JSON.stringify(value))

/**
 * One side of a change: {@link formatValue}, with an absent value as `(unset)`.
 *
 * @example
 * ```ts
 * import { formatChange } from "./RolloutReport.ts" // internal: not part of the package's API
 * formatChange(null) // => "(unset)"
 * ```
 * @since 0.2.0
 * @category rendering
 */
export const formatChange = (value: unknown): string => (value === null || value === undefined ? "(unset)" : formatValue(value))

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * The document's fields in reading order (version excluded).
 *
 * @example
 * ```ts
 * import { documentFields } from "./RolloutReport.ts" // internal: not part of the package's API
 * documentFields({ version: 3, dryRun: false, defaultMode: "warn" }) // => ["defaultMode", "dryRun"]
 * ```
 * @since 0.2.0
 * @category rendering
 */
export const documentFields = (document: Readonly<Record<string, unknown>>): ReadonlyArray<string> => {
  const known = FIELD_ORDER.filter((f) => f in document)
  const others = Object.keys(document).filter((k) => k !== "version" && !FIELD_ORDER.includes(k)).sort()
  return [...known, ...others]
}

/**
 * The document as a `field  value` table; a record field takes one line per entry.
 *
 * @example
 * ```ts
 * import { renderDocument } from "./RolloutReport.ts" // internal: not part of the package's API
 * renderDocument({ version: 4, document: { defaultMode: "warn", endpointMode: { "/api/a": "enforce" } } })
 * // field         value
 * // ------------  ----------------
 * // version       4
 * // defaultMode   warn
 * // endpointMode  /api/a: enforce
 * ```
 * @since 0.2.0
 * @category rendering
 */
export const renderDocument = (view: RolloutView): string => {
  const rows: Array<ReadonlyArray<string>> = [["version", String(view.version)]]
  for (const field of documentFields(view.document)) {
    const value = view.document[field]
    if (isRecord(value)) {
      const entries = Object.entries(value)
      if (entries.length === 0) rows.push([field, "(none)"])
      entries.forEach(([key, v], i) => rows.push([i === 0 ? field : "", `${key}: ${formatValue(v)}`]))
    } else {
      rows.push([field, formatValue(value)])
    }
  }
  return renderTable(["field", "value"], rows)
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/**
 * The field-level difference between two documents (version ignored); record fields per key.
 *
 * @example
 * ```ts
 * import { diffViews } from "./RolloutReport.ts" // internal: not part of the package's API
 * diffViews({ version: 1, document: { enforcementPercent: 10 } }, { version: 2, document: { enforcementPercent: 25 } })
 * // => [{ path: "enforcementPercent", from: 10, to: 25 }]
 * ```
 * @since 0.2.0
 * @category diffing
 */
export const diffViews = (before: RolloutView, after: RolloutView): ReadonlyArray<DiffEntry> => {
  const diff: Array<DiffEntry> = []
  const keys = [...new Set([...Object.keys(before.document), ...Object.keys(after.document)])].filter((k) => k !== "version")
  for (const key of keys.sort()) {
    const a = before.document[key]
    const b = after.document[key]
    if (isRecord(a) && isRecord(b)) {
      for (const sub of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
        if (!same(a[sub], b[sub])) diff.push({ path: `${key}.${sub}`, from: a[sub] ?? null, to: b[sub] ?? null })
      }
    } else if (!same(a, b)) {
      diff.push({ path: key, from: a ?? null, to: b ?? null })
    }
  }
  return diff
}

/**
 * A diff as short text: `path from → to` joined with `; `, cut at `max` characters.
 *
 * @example
 * ```ts
 * import { summariseDiff } from "./RolloutReport.ts" // internal: not part of the package's API
 * summariseDiff([{ path: "dryRun", from: false, to: true }]) // => "dryRun false → true"
 * summariseDiff([]) // => "(no change)"
 * ```
 * @since 0.2.0
 * @category rendering
 */
export const summariseDiff = (diff: ReadonlyArray<DiffEntry>, max = 60): string => {
  if (diff.length === 0) return "(no change)"
  const text = diff.map((d) => `${d.path} ${formatChange(d.from)} → ${formatChange(d.to)}`).join("; ")
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/**
 * What happened, in one word or two: the outcome, `(forced)` when the guard was overridden.
 *
 * @example
 * ```ts
 * import { outcomeOf } from "./RolloutReport.ts" // internal: not part of the package's API
 * outcomeOf({ outcome: "applied", forced: true }) // => "applied (forced)"
 * ```
 * @since 0.2.0
 * @category rendering
 */
export const outcomeOf = (entry: Pick<AuditEntry, "outcome" | "forced">): string =>
  entry.forced ? `${entry.outcome} (forced)` : entry.outcome

/**
 * The audit history as a table, newest first. Control and invisible format characters in what
 * it shows are escaped (`\u001b`): entries stored before they were refused print as one line.
 *
 * @example
 * ```ts
 * import { renderHistory } from "./RolloutReport.ts" // internal: not part of the package's API
 * renderHistory([]) // => "(no audit entries)"
 * ```
 * @since 0.2.0
 * @category rendering
 */
export const renderHistory = (entries: ReadonlyArray<AuditEntry>): string =>
  entries.length === 0
    ? "(no audit entries)"
    : renderTable(
      ["at", "version", "action", "outcome", "source", "actor", "changes", "reason"],
      entries.map((e) => [
        e.at,
        String(e.version),
        e.action,
        outcomeOf(e),
        e.source,
        escapeAuditText(e.actor),
        summariseDiff(e.diff),
        escapeAuditText(e.reason)
      ])
    )
