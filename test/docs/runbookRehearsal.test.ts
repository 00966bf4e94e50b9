/**
 * The runbook's rehearsal section holds the table `npm run rehearsal -- --write-runbook` pasted:
 * one passing row per phase the rehearsal defines, in order, and the measured RTO that the RTO
 * table quotes; and the picture it wrote (docs/rollout-timeline.svg), which the runbook embeds,
 * parses as SVG with one marker per gate verdict of that run. Also checks the table rendering and
 * the paste itself on a scratch file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import {
  BEGIN_MARKER,
  END_MARKER,
  pasteIntoRunbook,
  quoteRtoInRunbook,
  REHEARSAL_PHASES,
  renderPhaseTable,
  rtoLine
} from "../../scripts/rehearsal/phaseTable.ts"
import { parseTimeline } from "../../scripts/rehearsal/timelineCheck.ts"

const runbook = readFileSync(new URL("../../docs/runbook.md", import.meta.url), "utf8")

const section = (text: string): string => {
  const begin = text.indexOf(BEGIN_MARKER)
  const end = text.indexOf(END_MARKER)
  assert.isAtLeast(begin, 0, "the begin marker is in the runbook")
  assert.isAbove(end, begin, "the end marker follows it")
  return text.slice(begin + BEGIN_MARKER.length, end)
}

describe("docs/runbook.md rehearsal table", () => {
  it("has one passing row per rehearsal phase, in order", () => {
    const rows = section(runbook).split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| phase") && !l.startsWith("| ---"))
    assert.deepStrictEqual(rows.map((r) => r.split(" | ")[0]!.slice(2)), [...REHEARSAL_PHASES])
    for (const r of rows) assert.match(r, /\| pass \| [\d.]+ \|$/, r)
  })

  it("the RTO table quotes the rehearsal's measured time to warn, compressed and with production's timers", () => {
    const m = /Measured RTO \(enforce → warn through Alertmanager\): ([\d.]+) s on compressed timers; ([\d.]+) min with production's\./
      .exec(section(runbook))
    assert.isNotNull(m)
    assert.isBelow(Number(m![2]), 30, "the seeds' RTO target: < 30 min")
    const rtoRow = runbook.split("\n").find((l) => l.startsWith("| **RTO**"))
    assert.include(rtoRow ?? "", `**${m![1]} s** in the [rehearsal](#rehearsal)`)
    assert.include(rtoRow ?? "", `**${m![2]} min** with production's`)
  })

  it("embeds the rehearsal's timeline, which parses as SVG with one marker per gate verdict the run recorded", () => {
    assert.include(runbook, "](rollout-timeline.svg)")
    const marks = parseTimeline(readFileSync(new URL("../../docs/rollout-timeline.svg", import.meta.url), "utf8"))
    const row = section(runbook).split("\n").find((l) => l.startsWith("| timeline picture |")) ?? ""
    const m = /(\d+) gate decision records \((\d+) with measured values\), (\d+) verdict markers/.exec(row)
    assert.isNotNull(m, row)
    const [records, withValues, markers] = [Number(m![1]), Number(m![2]), Number(m![3])]
    assert.strictEqual(marks.verdicts.length, records)
    assert.strictEqual(markers, records)
    assert.strictEqual(withValues, records)
    assert.isAtLeast(marks.verdicts.filter((v) => v === "pass").length, 3, "one passing gate per ramp step 10 → 25 → 50 → 100")
    assert.strictEqual(marks.downgrades, 1)
    assert.isFalse(marks.metricsUnavailable)
  })

  it("renders rows (escaping pipes) and pastes between the markers only", () => {
    const table = renderPhaseTable([
      { phase: "2.4 indexes", done: "a | b", measured: "3 valid", gate: "all valid", passed: true, seconds: 1.25 },
      { phase: "rollback drill", done: "x", measured: "≠", gate: "=", passed: false, seconds: 2 }
    ])
    assert.include(table, "| 2.4 indexes | a \\| b | 3 valid | all valid | pass | 1.3 |")
    assert.include(table, "| **FAIL** | 2.0 |")
    const dir = mkdtempSync(join(tmpdir(), "runbook-"))
    try {
      const file = join(dir, "runbook.md")
      writeFileSync(file, `before\n${BEGIN_MARKER}\nold\n${END_MARKER}\nafter\n`)
      pasteIntoRunbook(file, "new table")
      assert.strictEqual(readFileSync(file, "utf8"), `before\n${BEGIN_MARKER}\nnew table\n${END_MARKER}\nafter\n`)
      writeFileSync(file, "| **RTO** | **1.0 s** in the [rehearsal](#rehearsal) on x — **2.0 min** with production's |\n")
      quoteRtoInRunbook(file, 8.25, 661)
      assert.strictEqual(readFileSync(file, "utf8"), "| **RTO** | **8.3 s** in the [rehearsal](#rehearsal) on x — **11.0 min** with production's |\n")
      assert.strictEqual(rtoLine(8.25, 661), "Measured RTO (enforce → warn through Alertmanager): 8.3 s on compressed timers; 11.0 min with production's.")
      writeFileSync(file, "no markers\n")
      assert.throws(() => pasteIntoRunbook(file, "x"), /no <!-- rehearsal:begin -->/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
