/**
 * The rehearsal's last phase: its rollout as a picture. The audit history (from the service's
 * mode API, so the same for the Redis and the in-memory store) and the reject ratio and p99 from
 * Prometheus (`query_range` at 1 s, rates over 10 s: the compressed scrape) are drawn by the CLI's
 * own renderer (`status --svg` uses the same), then read back: the SVG must parse, hold one
 * gate-verdict marker per decision record in the history and one downgrade marker per applied
 * downgrade — and with the shared store every ramp step's gate evaluation must be in the history
 * with its values. `--write-runbook` puts the picture into docs/rollout-timeline.svg.
 */
import { Effect, Schema } from "effect"
import { fetchTimelineMetrics } from "../../src/cli/TimelineMetrics.ts"
import { gateVerdictEntries } from "../../src/cli/TimelineModel.ts"
import { renderTimelineSvg } from "../../src/cli/TimelineSvg.ts"
import { AuditEntry } from "../../src/rollout/AuditLog.ts"
import { fetchWithTimeout } from "../e2e/processes.ts"
import type { Rig } from "./phases.ts"
import type { PhaseRow } from "./phaseTable.ts"
import { parseTimeline } from "./timelineCheck.ts"

const decodeHistory = Schema.decodeUnknownSync(Schema.Array(AuditEntry))

/** The ramp steps the rehearsal promotes through (3 steps: 10 → 25 → 50 → 100). */
const RAMP_STEPS = 3

/** Draws and checks the picture; returns its row and the SVG. */
export const timelinePicture = async (rig: Rig, title: string): Promise<{ readonly row: PhaseRow; readonly svg: string }> => {
  const started = Date.now()
  const r = await fetchWithTimeout(`${rig.serviceUrl}/_ops/stage-validation/mode?history=1000`, {
    headers: { authorization: `Bearer ${rig.token}` }
  })
  if (r.status !== 200) throw new Error(`GET mode?history=1000: HTTP ${r.status}`)
  const entries = decodeHistory(((await r.json()) as { history?: unknown }).history ?? [])
  const now = Date.now()
  const from = Math.min(now, ...entries.map((e) => Date.parse(e.at)))
  const metrics = await Effect.runPromise(
    fetchTimelineMetrics({ url: rig.promUrl, job: rig.job, from, to: now, stepSeconds: 1, rateWindowSeconds: 10 })
  )
  const svg = renderTimelineSvg({ entries, metrics, until: now, title })
  const marks = parseTimeline(svg)
  const records = gateVerdictEntries(entries)
  const withValues = records.filter((e) => e.gate.windows.some((w) => w.rows.some((row) => typeof row.measured === "number")))
  const downgrades = entries.filter((e) => e.action === "downgrade" && e.outcome === "applied").length
  const shared = rig.store.kind === "redis"
  const verdicts = (["pass", "fail", "inconclusive"] as const).map((v) => `${marks.verdicts.filter((m) => m === v).length} ${v}`).join(", ")
  rig.log(`timeline: ${entries.length} audit entries, ${records.length} decision records, ${marks.verdicts.length} markers (${verdicts}); ` +
    (metrics._tag === "Available" ? metrics.source : `metrics unavailable: ${metrics.reason}`))
  return {
    svg,
    row: {
      phase: "timeline picture",
      done: "SVG of the audit history (phases, enforced %, gate verdicts, downgrade) and Prometheus `query_range` (reject ratio, p99), " +
        "drawn by the renderer of `status --svg`, parsed back",
      measured: `${entries.length} audit entries; ${records.length} gate decision records (${withValues.length} with measured values), ` +
        `${marks.verdicts.length} verdict markers (${verdicts}); ${downgrades} applied downgrade, ${marks.downgrades} downgrade marker; ` +
        `metric series ${metrics._tag === "Available" ? `${metrics.rejectRatio.length} + ${metrics.p99Seconds.length} samples` : `unavailable (${metrics.reason})`}` +
        (shared ? "" : "; gate judged with `promote --dry-run` (memory store: applied through the mode API, not recorded)"),
      gate: "parses as SVG; one verdict marker per decision record, one downgrade marker per applied downgrade; metric series read" +
        (shared ? `; every one of the ${RAMP_STEPS} ramp steps' gate evaluations recorded with its values` : ""),
      passed: marks.verdicts.length === records.length && marks.downgrades === downgrades && downgrades >= 1 &&
        metrics._tag === "Available" && !marks.metricsUnavailable &&
        (!shared || (records.length >= RAMP_STEPS && withValues.length === records.length)),
      seconds: (Date.now() - started) / 1000
    }
  }
}
