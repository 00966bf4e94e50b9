/**
 * What `stage-normalization migrate` prints: the dry run's preview and the applied run's summary
 * (tables of values, counts, the backup verdict, what to run next).
 *
 * @since 0.4.0
 */
import type { UnknownValue } from "../migration/MigrationEvent.ts"
import { visibleValue } from "../migration/run/ForceUnknown.ts"
import type { PreviewReport } from "../migration/run/Preview.ts"
import { formatDuration } from "../migration/run/ProgressReporter.ts"
import type { RunSummary } from "../migration/run/Runner.ts"
import { lookAlikeSection } from "./ForceUnknownConfirmation.ts"
import { renderTable } from "./Table.ts"

const int = new Intl.NumberFormat("en-US")

const printable = (s: string): string => visibleValue(s.length > 60 ? `${s.slice(0, 57)}…` : s)

const unknownTable = (unknowns: ReadonlyArray<UnknownValue>): string =>
  renderTable(
    ["value", "rows", "why", "suggestions"],
    unknowns.map((u) => [
      u.kind === "unknown-stage" ? printable(u.value) : u.value,
      int.format(u.rows),
      u.kind,
      u.suggestions.length > 0 ? u.suggestions.join(", ") : "—"
    ])
  )

/** The dry run's report. */
export const renderPreview = (r: PreviewReport, forcing: boolean): string => {
  const lines = [
    `Dry run — nothing was written. ${r.target}.${r.column} (${r.kind})${r.fundId === null ? "" : `, fund ${r.fundId}`}: ` +
    `${int.format(r.rowsScanned)} rows scanned${r.stopped ? " (stopped early)" : ""}`,
    ""
  ]
  const known = r.values.filter((v) => v.action !== "unknown")
  if (known.length > 0) {
    lines.push(renderTable(
      [r.kind === "scalar" ? "value" : "stage in distributions", "→ stage", "rows", "action"],
      known.map((v) => [
        printable(v.value),
        v.stage ?? "",
        int.format(v.rows),
        v.action === "update" ? "update" : v.action === "forced" ? `FORCED (${v.reason ?? "forced"})` : "already canonical"
      ])
    ), "")
  }
  if (r.unknowns.length > 0) {
    lines.push(`Left unchanged by --apply (reported, never guessed):`, unknownTable(r.unknowns), "")
    if (forcing) lines.push(...lookAlikeSection(r.unknowns.filter((u) => u.kind === "unknown-stage")))
  }
  lines.push(
    `${int.format(r.rowsToUpdate)} row(s) would be updated${r.rowsForced > 0 ? ` (${int.format(r.rowsForced)} forced)` : ""}, ${int.format(r.rowsUnchanged)} already canonical, ` +
      `${int.format(r.rowsSkipped)} left unchanged (unknown or invalid), ${int.format(r.rowsNull)} NULL.` +
      (r.truncated ? " (More distinct values than listed; counts are exact.)" : ""),
    "Run again with --apply to write (every changed row is audited in stage_normalization_log)."
  )
  return lines.join("\n")
}

/** The report of an applied run (the summary of `migrate`). */
export const renderSummary = (s: RunSummary): string => {
  const lines = [
    `Run ${s.runId} ${s.status}${s.resumed ? " (resumed)" : ""}: ${s.target}.${s.column} (${s.kind}, batches by ${s.batchBy}` +
    `${s.fundId === null ? "" : `, fund ${s.fundId}`})`,
    `  ${int.format(s.totals.scanned)} of ${int.format(s.rowsTotal)} rows scanned, ${int.format(s.totals.updated)} updated, ` +
    `${int.format(s.totals.skipped)} left unchanged (unknown/invalid), ${int.format(s.totals.failed)} not updated (concurrent writes); ` +
    `${int.format(s.batches)} batch(es) in ${formatDuration(s.durationMs / 1000)}`
  ]
  if (s.interruptedBatches.length > 0) {
    lines.push(`  batches ${s.interruptedBatches.join(", ")} had been interrupted; their ranges were redone`)
  }
  if (s.error !== null) lines.push(`  error: ${s.error}`)
  if (s.backup !== null) {
    // a resumed or joined run reports the verdict recorded when it started (it is not gated again)
    const when = s.resumed ? ` when run ${s.runId} started` : ""
    lines.push("skipped" in s.backup
      ? `  backup check skipped${when} (${s.backup.skipped}); recorded in the run's parameters`
      : `  backup: ${s.backup.manifest} (${formatDuration(s.backup.ageSeconds)} old${when}, restore-tested ${s.backup.restoreTestedAt})`)
  }
  if (s.forced.length > 0) {
    lines.push("", "Forced by --force-unknown (audited with their reason; `rollback` undoes them):", renderTable(
      ["value", "→ stage", "rows", "reason"],
      s.forced.map((f) => [printable(f.value), f.stage.length > 60 ? `${f.stage.slice(0, 57)}…` : f.stage, int.format(f.rows), f.reason])
    ))
  }
  if (s.unknowns.length > 0) lines.push("", "Left unchanged (see stage_migration_unknowns):", unknownTable(s.unknowns))
  lines.push("", `Progress and audit: SELECT * FROM stage_migration_progress WHERE run_id = ${s.runId};`)
  if (s.status === "succeeded") lines.push(`Verify it: stage-normalization verify --run ${s.runId} (undo: stage-normalization rollback --run ${s.runId})`)
  if (s.status === "paused" || s.status === "failed") {
    lines.push(`Continue with: stage-normalization migrate --apply --resume (same --table/--column/--fund-id)`)
  }
  return lines.join("\n")
}
