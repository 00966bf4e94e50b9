/**
 * `stage-normalization status` as text: one screen, a block per section, each either its data or
 * `could not read: …`, then the list of what could not be read.
 *
 * @since 0.2.0
 */
import type { BackfillProgress } from "../migration/verify/BackfillProgress.ts"
import { escapeAuditText } from "../rollout/AuditText.ts"
import { renderGateRows } from "./GateReport.ts"
import { formatValue, summariseDiff } from "./RolloutReport.ts"
import type { EntrySummary, GateRecord, Section, StatusReport } from "./StatusSections.ts"

const indent = (text: string): string => text.split("\n").map((l) => (l === "" ? l : `  ${l}`)).join("\n")

const block = <A>(title: string, section: Section<A>, body: (ok: A) => ReadonlyArray<string>): string =>
  [title, ...(section.state === "ok" ? body(section) : [`could not read: ${section.error}`]).map(indent)].join("\n")

const onOff = (v: unknown): string => (v === true ? "on" : v === false ? "off" : formatValue(v))

const change = (e: EntrySummary): string =>
  `${e.at} by ${escapeAuditText(e.actor)} (${e.source} ${e.action}${e.forced ? ", forced" : ""}): ${summariseDiff(e.changes, 80)} — ${
    escapeAuditText(JSON.stringify(e.reason))
  }`

const rolloutLines = (r: Extract<StatusReport["rollout"], { state: "ok" }>): ReadonlyArray<string> => {
  const d = r.document
  const overrides = typeof d["endpointMode"] === "object" && d["endpointMode"] !== null ? Object.entries(d["endpointMode"]) : []
  return [
    `source: ${r.source}`,
    `version ${r.version} · mode ${formatValue(d["defaultMode"])} · ${formatValue(d["enforcementPercent"])} % enforced · ` +
    `dry-run ${onOff(d["dryRun"])} · enforce-write-only ${onOff(d["enforceWriteOnly"])}`,
    `endpoint overrides: ${overrides.length === 0 ? "none" : overrides.map(([t, m]) => `${t} ${formatValue(m)}`).join(", ")}`,
    `last change: ${r.lastChange === null ? "none in the history" : change(r.lastChange)}`
  ]
}

const gateLines = (last: GateRecord | null): ReadonlyArray<string> => {
  if (last === null) return ["no promote attempt in the history"]
  const lines = [
    `${last.at} by ${escapeAuditText(last.actor)}: ${last.decision} (audit outcome ${last.outcome}${last.forced ? ", forced" : ""}), verdict ${last.verdict}` +
    (last.reasons.length > 0 ? ` — ${last.reasons.join("; ")}` : "")
  ]
  const record = last.record
  if (record === null) return [...lines, "(no decision record: written before promote recorded its inputs)"]
  lines.push(`promotion ${record.fromPercent} → ${record.toPercent} %, ${record.requiredPasses} window(s) of ${record.windowSeconds} s`)
  if (record.metricsError !== undefined) lines.push(`metrics unreadable: ${record.metricsError}`)
  const newest = record.windows[0]
  if (newest !== undefined) {
    lines.push(`newest window${newest.windowEnd !== undefined ? ` (ending ${newest.windowEnd})` : ""}:`, ...renderGateRows(newest.rows).split("\n"))
  }
  const queries = Object.entries(record.queries)
  if (queries.length > 0) lines.push("queries:", ...queries.map(([k, q]) => `  ${k}: ${q}`))
  return lines
}

const gateNowLines = (g: Extract<StatusReport["gateNow"], { state: "ok" }>): ReadonlyArray<string> => [
  `${g.prometheus}: verdict ${g.verdict} over ${g.windows} window(s) of ${g.windowSeconds} s` +
  (g.verdict === "pass" ? "" : ` — ${g.reasons.join("; ")}`),
  ...(g.table.length > 0 ? renderGateRows(g.table).split("\n") : [])
]

const webhookLines = (w: Extract<StatusReport["webhook"], { state: "ok" }>): ReadonlyArray<string> => [
  w.downgradedRecently
    ? `DOWNGRADED since ${w.since}: ${w.recent.filter((e) => e.action === "downgrade" && e.outcome === "applied").length} downgrade(s)`
    : w.firedRecently
    ? `fired since ${w.since} (repeats only, nothing to downgrade)`
    : `no downgrade since ${w.since}`,
  `last downgrade: ${w.lastDowngrade === null ? "never (in the history)" : change(w.lastDowngrade)}`,
  ...w.recent.map((e) => `${e.at} ${e.action} ${e.outcome}: ${escapeAuditText(e.reason)}`)
]

const backfillLines = (b: { readonly database: string } & BackfillProgress): ReadonlyArray<string> => {
  const run = b.latestRun
  const v = b.verification
  return [
    `${b.target} in ${b.database}`,
    run === null
      ? "latest run: none (no applied migration run of this target)"
      : `latest run ${run.runId} (${run.operation}): ${run.status}, ${run.percentComplete ?? 0} % — ${run.rowsScanned}/${run.rowsTotal ?? "?"} rows scanned, ` +
        `${run.rowsUpdated} updated, ${run.rowsFailed} failed; batches ${run.batchesSucceeded}/${run.batchesTotal} ok, ${run.batchesFailed} failed` +
        (run.eta !== null ? `; ETA ${run.eta}` : "") + (run.finishedAt !== null ? `; finished ${run.finishedAt}` : ""),
    v === null
      ? "last verify: none for this run"
      : `last verify: ${v.ok ? "passed" : "FAILED"}${v.at !== null ? ` at ${v.at}` : ""} (${v.passed ?? "?"} passed, ${v.warnings ?? "?"} warnings, ` +
        `${v.failed ?? "?"} failed${v.strict === true ? ", strict" : ""})`,
    `guard: ${b.guard.migrated ? "migrated" : "not migrated"}, ${b.guard.verified ? "verified" : "not verified"} — ${b.guard.detail}`
  ]
}

/**
 * The report as text.
 *
 * @example
 * ```ts
 * import { renderStatus } from "./StatusReport.ts" // internal: not part of the package's API
 * // renderStatus(report) => "stage validation status at 2026-…\n\nROLLOUT\n  source: redis://…"
 * ```
 * @since 0.2.0
 * @category rendering
 */
export const renderStatus = (report: StatusReport): string =>
  [
    `stage validation status at ${report.generatedAt}`,
    block("ROLLOUT", report.rollout, rolloutLines),
    block("GATE (last decision in the history)", report.gate, (g) => gateLines(g.last)),
    block("GATE NOW (Prometheus)", report.gateNow, gateNowLines),
    block("DOWNGRADE WEBHOOK", report.webhook, webhookLines),
    block("BACKFILL (PostgreSQL)", report.backfill, backfillLines),
    block("NEXT STEP", report.next, (n) => [
      `phase ${n.title}: ${n.step}`,
      ...(n.note !== null ? [n.note] : []),
      `runbook: ${n.runbook}`
    ]),
    report.unreadable.length === 0
      ? "every section was read"
      : ["could not read:", ...report.unreadable.map((u) => `  - ${u}`)].join("\n")
  ].join("\n\n")
