/**
 * The phase → next step table: `status` derives the phase from the rollout document (and a
 * webhook downgrade nothing has overridden), the runbook shows the same table (its Markdown
 * rendering, kept identical here), every link points at a heading of docs/runbook.md, and the
 * last gate decision is read from a decision record or, for older entries, from promote's reason.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { renderPhaseTable, phaseOf, ROLLOUT_PHASES } from "../../src/cli/RolloutPhase.ts"
import { lastGateRecord } from "../../src/cli/StatusSections.ts"
import { type AuditEntry, DEFAULT_DOCUMENT, encodeRolloutDocument, type RolloutDocument } from "../../src/rollout/index.ts"

const doc = (changes: Partial<RolloutDocument>) => encodeRolloutDocument({ ...DEFAULT_DOCUMENT, ...changes }) as Record<string, unknown>

describe("phaseOf", () => {
  it("recognises each phase of the runbook from the document", () => {
    const cases: ReadonlyArray<readonly [Partial<RolloutDocument>, string]> = [
      [{ defaultMode: "off" }, "off"],
      [{ defaultMode: "warn" }, "2.1"],
      [{ defaultMode: "off", endpointMode: { "/api/a": "warn" } }, "2.1"],
      [{ defaultMode: "warn", enforceWriteOnly: true, endpointMode: { "/api/portfolio/strategies": "enforce" } }, "2.5"],
      [{ defaultMode: "warn", dryRun: true }, "2.7"],
      [{ defaultMode: "enforce", dryRun: true, enforceWriteOnly: true }, "2.7"],
      [{ defaultMode: "enforce", enforcementPercent: 10 }, "3"],
      [{ defaultMode: "warn", endpointMode: { "/api/a": "enforce" }, enforcementPercent: 50 }, "3"],
      [{ defaultMode: "enforce", enforcementPercent: 100 }, "4"]
    ]
    for (const [changes, id] of cases) assert.strictEqual(phaseOf(doc(changes), false).phase.id, id, JSON.stringify(changes))
    assert.strictEqual(phaseOf(doc({ defaultMode: "enforce", enforcementPercent: 25 }), false).note, "25 % enforced; next ramp step 50 %")
    assert.strictEqual(phaseOf(doc({ defaultMode: "warn" }), true).phase.id, "downgraded")
  })

  it("the runbook's table is the rendering of ROLLOUT_PHASES, and every link is a heading of docs/runbook.md", () => {
    const runbook = readFileSync(new URL("../../docs/runbook.md", import.meta.url), "utf8")
    assert.include(runbook, renderPhaseTable(), "docs/runbook.md shows the table status uses (paste renderPhaseTable())")
    const headings = runbook.replace(/^```[\s\S]*?^```/gm, "")
    const anchors = new Set(
      [...headings.matchAll(/^#{1,6} +(.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, "").replace(/ /g, "-"))
    )
    for (const phase of ROLLOUT_PHASES) {
      assert.isTrue(anchors.has(phase.runbook.replace("docs/runbook.md#", "")), `${phase.runbook} is a heading`)
    }
  })
})

const entry = (changes: Partial<AuditEntry>): AuditEntry => ({
  from: DEFAULT_DOCUMENT,
  to: DEFAULT_DOCUMENT,
  diff: [],
  actor: "ops",
  reason: "r",
  source: "cli",
  at: "2026-12-01T10:00:00.000Z",
  version: 4,
  action: "promote",
  outcome: "applied",
  forced: false,
  ...changes
})

describe("lastGateRecord", () => {
  it("reads entries written before decision records from promote's reason", () => {
    assert.isNull(lastGateRecord([entry({ action: "set" })]))
    const held = lastGateRecord([
      entry({ outcome: "refused", reason: "promotion 10 → 25 % held (gate fail: window 1: error ratio 2 % is not below 0.1 %); week 2" })
    ])
    assert.deepInclude(held, { decision: "hold", verdict: "fail", record: null })
    assert.deepStrictEqual(held?.reasons, ["window 1: error ratio 2 % is not below 0.1 %"])
    const forced = lastGateRecord([entry({ forced: true, reason: "week 2 [forced past the gate — gate inconclusive: too little traffic]" })])
    assert.deepInclude(forced, { decision: "force", verdict: "inconclusive" })
    assert.deepInclude(lastGateRecord([entry({ action: "set" }), entry({})]), { decision: "promote", verdict: "pass" })
  })
})
