/**
 * Audited text is text (issue 25, defect 6): the pure check refuses control and invisible format
 * characters in `actor`/`reason`, naming the field; `makeAuditEntry` never stores them raw; every
 * printer of the history (`mode history`, `status`, the timeline's tooltips) escapes entries that
 * older versions stored raw.
 */
import { assert, describe, it } from "@effect/vitest"
import { renderHistory } from "../../src/cli/RolloutReport.ts"
import { renderStatus } from "../../src/cli/StatusReport.ts"
import { makeAuditEntry } from "../../src/rollout/AuditLog.ts"
import {
  auditTextProblem,
  checkAuditText,
  DEFAULT_DOCUMENT,
  escapeAuditText,
  hasUnsafeAuditCharacter,
  type AuditEntry
} from "../../src/rollout/index.ts"

const ESC = "\u001b"
const forged = `ramp${ESC}[2K\r\n2026-01-01T00:00:00.000Z  99  set  applied  cli  ceo  (forged)${ESC}[31m`

/** An entry as a version before the check stored it: raw control characters. */
const rawEntry: AuditEntry = {
  from: DEFAULT_DOCUMENT,
  to: { ...DEFAULT_DOCUMENT, version: 1, enforcementPercent: 25 },
  diff: [{ path: "enforcementPercent", from: 100, to: 25 }],
  actor: `ops${ESC}]0;owned\u0007`,
  reason: forged,
  source: "cli",
  at: "2026-01-01T00:00:00.000Z",
  version: 1,
  action: "set",
  outcome: "applied",
  forced: false
}

// oxlint-disable-next-line no-control-regex -- the test looks for raw control characters
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/
/** As CONTROL, but the newlines that separate printed lines are allowed. */
// oxlint-disable-next-line no-control-regex -- the test looks for raw control characters
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

describe("auditTextProblem", () => {
  it("refuses C0, DEL, C1, bidi overrides and isolates, line separators, zero-width characters; names the field", () => {
    for (const c of ["\u0000", "\t", "\n", "\r", ESC, "\u007f", "\u0085", "\u009b", "\u2028", "\u2029", "\u202e", "\u2066", "\u200b", "\ufeff"]) {
      const problem = auditTextProblem("reason", `a${c}b`)
      assert.isDefined(problem, JSON.stringify(c))
      assert.match(problem!, /^reason must not contain control characters \(found \\u[0-9a-f]{4} at position 2\)$/)
    }
    assert.strictEqual(auditTextProblem("actor", " "), "actor must be 1–500 characters and not blank")
    assert.strictEqual(auditTextProblem("actor", "x".repeat(501)), "actor must be 1–500 characters and not blank")
    assert.isUndefined(auditTextProblem("reason", "ramp to 25 % — week 2 (Zoë, Łódź)"))
    assert.strictEqual(checkAuditText({ actor: "ops", reason: forged })?.field, "reason")
    assert.strictEqual(checkAuditText({ actor: `${ESC}[31m`, reason: "r" })?.field, "actor")
    assert.isUndefined(checkAuditText({ actor: "ops", reason: "r" }))
  })

  it("escapeAuditText writes them as visible \\uXXXX and leaves other text alone", () => {
    assert.strictEqual(escapeAuditText(`a${ESC}[31mb\r\n`), "a\\u001b[31mb\\u000d\\u000a")
    assert.strictEqual(escapeAuditText("Zoë ‮x"), "Zoë \\u202ex")
    assert.strictEqual(escapeAuditText("plain"), "plain")
    assert.isFalse(hasUnsafeAuditCharacter(escapeAuditText(forged)))
  })
})

describe("the history never holds or prints them raw", () => {
  it("makeAuditEntry stores actor and reason escaped (a library caller that skipped the check)", () => {
    const entry = makeAuditEntry({
      from: DEFAULT_DOCUMENT,
      to: { ...DEFAULT_DOCUMENT, version: 1, dryRun: true },
      meta: { actor: rawEntry.actor, reason: forged, source: "cli" },
      action: "set",
      outcome: "applied",
      forced: false,
      at: new Date(0)
    })
    assert.notMatch(entry.actor, CONTROL)
    assert.notMatch(entry.reason, CONTROL)
    assert.include(entry.reason, "\\u001b[2K\\u000d\\u000a")
  })

  it("mode history's table escapes an entry stored raw: one line per entry, no escape sequence", () => {
    const table = renderHistory([rawEntry])
    assert.notMatch(table, CONTROL_BUT_NEWLINE)
    assert.lengthOf(table.split("\n"), 3, "header, rule and one entry")
    assert.include(table, "ops\\u001b]0;owned\\u0007")
    assert.include(table, "ramp\\u001b[2K\\u000d\\u000a2026-01-01")
  })

  it("status's last change escapes it too", () => {
    const summary = {
      at: rawEntry.at,
      actor: rawEntry.actor,
      reason: rawEntry.reason,
      source: "cli",
      action: "set",
      outcome: "applied",
      forced: false,
      version: 1,
      changes: rawEntry.diff
    }
    const failed = { state: "error", error: "not read in this test" } as const
    const text = renderStatus({
      generatedAt: "2026-01-02T00:00:00.000Z",
      rollout: { state: "ok", source: "redis", version: 1, document: { defaultMode: "warn" }, lastChange: summary },
      gate: failed,
      gateNow: failed,
      webhook: {
        state: "ok",
        since: "2026-01-01T00:00:00.000Z",
        firedRecently: true,
        downgradedRecently: true,
        lastDowngrade: { ...summary, action: "downgrade" },
        recent: [{ ...summary, action: "downgrade" }]
      },
      backfill: failed,
      next: failed,
      unreadable: []
    })
    const line = text.split("\n").find((l) => l.includes("last change"))
    assert.isDefined(line, text)
    assert.include(line!, "ops\\u001b]0;owned\\u0007")
    assert.include(line!, "\\u001b[2K")
    assert.notMatch(text, CONTROL_BUT_NEWLINE)
  })
})
