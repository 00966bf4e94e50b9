/**
 * The rehearsal's result: one row per phase (what was done, what was measured, the gate, pass or
 * fail) rendered as a Markdown table, and pasted into docs/runbook.md between the rehearsal
 * markers (`npm run rehearsal -- --write-runbook`). The phase names are fixed here so that the
 * runbook test can check the pasted table has every one of them.
 */
import { readFileSync, writeFileSync } from "node:fs"

/** The phases, in order, as the table names them. */
export const REHEARSAL_PHASES = [
  "2.1 warn baseline",
  "2.4 indexes",
  "2.5 backup, migration, write enforcement",
  "2.7 shadow",
  "3 ramp 10 → 25 %",
  "3 ramp 25 → 50 %",
  "3 ramp 50 → 100 %",
  "4 full enforcement",
  "4 invalid spike → auto-downgrade (RTO)",
  "rollback drill",
  "timeline picture"
] as const

export type PhaseName = (typeof REHEARSAL_PHASES)[number]

export interface PhaseRow {
  readonly phase: PhaseName
  readonly done: string
  readonly measured: string
  readonly gate: string
  readonly passed: boolean
  readonly seconds: number
}

export const BEGIN_MARKER = "<!-- rehearsal:begin -->"
export const END_MARKER = "<!-- rehearsal:end -->"

const cell = (s: string): string => s.replaceAll("|", "\\|").replaceAll("\n", " ")

export const renderPhaseTable = (rows: ReadonlyArray<PhaseRow>): string =>
  [
    "| phase | done | measured | gate | result | s |",
    "| --- | --- | --- | --- | --- | ---: |",
    ...rows.map((r) => `| ${cell(r.phase)} | ${cell(r.done)} | ${cell(r.measured)} | ${cell(r.gate)} | ${r.passed ? "pass" : "**FAIL**"} | ${r.seconds.toFixed(1)} |`)
  ].join("\n")

/** Replaces what lies between the markers of `path` with `section`; throws when they are missing. */
export const pasteIntoRunbook = (path: string, section: string): void => {
  const text = readFileSync(path, "utf8")
  const begin = text.indexOf(BEGIN_MARKER)
  const end = text.indexOf(END_MARKER)
  if (begin < 0 || end < begin) throw new Error(`${path} has no ${BEGIN_MARKER} … ${END_MARKER} section`)
  writeFileSync(path, `${text.slice(0, begin + BEGIN_MARKER.length)}\n${section}\n${text.slice(end)}`)
}

const RTO_QUOTE = /\*\*[\d.]+ s\*\* in the \[rehearsal\]\(#rehearsal\)([^|]*?)\*\*[\d.]+ min\*\* with production's/

/** The line of the rehearsal's output (and the runbook section) that states the measured RTO. */
export const rtoLine = (compressedSeconds: number, productionSeconds: number): string =>
  `Measured RTO (enforce → warn through Alertmanager): ${compressedSeconds.toFixed(1)} s on compressed timers; ` +
  `${(productionSeconds / 60).toFixed(1)} min with production's.`

/** Updates the figures the runbook's RTO table quotes from the rehearsal. */
export const quoteRtoInRunbook = (path: string, compressedSeconds: number, productionSeconds: number): void => {
  const text = readFileSync(path, "utf8")
  if (!RTO_QUOTE.test(text)) throw new Error(`${path}: the RTO table does not quote the rehearsal`)
  writeFileSync(
    path,
    text.replace(
      RTO_QUOTE,
      (_, between: string) =>
        `**${compressedSeconds.toFixed(1)} s** in the [rehearsal](#rehearsal)${between}**${(productionSeconds / 60).toFixed(1)} min** with production's`
    )
  )
}
