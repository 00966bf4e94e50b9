/**
 * Where the rollout stands and what docs/runbook.md says comes next, derived from the rollout
 * document (and from the history: a downgrade by the webhook that nothing has overridden since).
 * {@link ROLLOUT_PHASES} is the one table; the runbook's "Where the rollout stands" section is
 * its Markdown rendering ({@link renderPhaseTable}), which a test keeps identical.
 *
 * @since 0.2.0
 */
import { nextRampStep } from "../rollout/Promote.ts"

/**
 * One phase: how `status` recognises it, what to do next, and the runbook section.
 *
 * @since 0.2.0
 * @category models
 */
export interface RolloutPhase {
  readonly id: "downgraded" | "off" | "2.1" | "2.5" | "2.7" | "3" | "4"
  readonly title: string
  /** what the document (or the history) says */
  readonly when: string
  readonly next: string
  /** `docs/runbook.md#…` */
  readonly runbook: string
}

/**
 * The phases, in the order `status` tests them (the first that matches is reported).
 *
 * @since 0.2.0
 * @category constants
 */
export const ROLLOUT_PHASES: ReadonlyArray<RolloutPhase> = [
  {
    id: "downgraded",
    title: "auto-downgraded",
    when: "the newest applied change is the webhook's downgrade (enforce → warn)",
    next: "find the callers (offender logs), fix them, then step up again through the gate (`promote`)",
    runbook: "docs/runbook.md#1-auto-downgrade-alertmanager"
  },
  {
    id: "2.7",
    title: "2.7 shadow enforcement",
    when: "`dryRun` on",
    next: "would-reject < 0.5 % for 48 h: phase 3 — `mode set --mode enforce --dry-run off --percent 10`",
    runbook: "docs/runbook.md#phase-27--shadow-enforcement"
  },
  {
    id: "2.5",
    title: "2.5 migration + write enforcement",
    when: "`enforceWriteOnly` on",
    next: "back up, `migrate --apply`, `verify --strict`; verified and no new invalid writes for 24 h: phase 2.7 — " +
      "`mode set --enforce-write-only off --dry-run on`",
    runbook: "docs/runbook.md#phase-25--backup-migration-write-enforcement"
  },
  {
    id: "3",
    title: "3 percentage ramp",
    when: "`enforce` (default mode or an endpoint) below 100 %",
    next: "`promote` to the next ramp step when the gate passes; hold, or step back with `mode set --percent N`, on errors",
    runbook: "docs/runbook.md#phase-3--percentage-ramp-10--25--50--100"
  },
  {
    id: "4",
    title: "4 full enforcement",
    when: "`enforce` at 100 %",
    next: "steady state: error ratio < 0.5 %, latency stable; the auto-downgrade stays armed",
    runbook: "docs/runbook.md#phase-4--full-enforcement"
  },
  {
    id: "off",
    title: "observation (off)",
    when: "`defaultMode` off and no endpoint above off",
    next: "phase 2.1 — `mode set --mode warn`, then collect a 24–48 h baseline",
    runbook: "docs/runbook.md#phase-21--warn-baseline"
  },
  {
    id: "2.1",
    title: "2.1 warn baseline",
    when: "`warn`, nothing enforced, shadowed or write-only",
    next: "24 h of clean metrics: phase 2.4 (`index --apply`), then 2.5 — `mode set --enforce-write-only on`",
    runbook: "docs/runbook.md#phase-21--warn-baseline"
  }
]

const phase = (id: RolloutPhase["id"]): RolloutPhase => ROLLOUT_PHASES.find((p) => p.id === id)!

/**
 * The phase of a document (encoded, as the mode API shows it), with a note specific to it (the
 * next ramp step in phase 3). `downgraded`: the newest applied change in the history is a
 * downgrade by the webhook.
 *
 * @example
 * ```ts
 * import { phaseOf } from "./RolloutPhase.ts" // internal: not part of the package's API
 * phaseOf({ defaultMode: "enforce", endpointMode: {}, enforcementPercent: 25, dryRun: false, enforceWriteOnly: false }, false).phase.id
 * // => "3"
 * phaseOf({ defaultMode: "warn", endpointMode: {}, enforcementPercent: 100, dryRun: true, enforceWriteOnly: false }, false).phase.id
 * // => "2.7"
 * ```
 * @since 0.2.0
 * @category phases
 */
export const phaseOf = (
  document: Readonly<Record<string, unknown>>,
  downgraded: boolean
): { readonly phase: RolloutPhase; readonly note: string | undefined } => {
  if (downgraded) return { phase: phase("downgraded"), note: undefined }
  if (document["dryRun"] === true) return { phase: phase("2.7"), note: undefined }
  if (document["enforceWriteOnly"] === true) return { phase: phase("2.5"), note: undefined }
  const overrides = typeof document["endpointMode"] === "object" && document["endpointMode"] !== null
    ? Object.values(document["endpointMode"] as Record<string, unknown>)
    : []
  const modes = [document["defaultMode"], ...overrides]
  const percent = typeof document["enforcementPercent"] === "number" ? document["enforcementPercent"] : 100
  if (modes.includes("enforce")) {
    if (percent < 100) {
      const next = nextRampStep(percent)
      return { phase: phase("3"), note: `${percent} % enforced; next ramp step ${next ?? 100} %` }
    }
    return {
      phase: phase("4"),
      note: document["defaultMode"] === "enforce" ? undefined : "enforced on the endpoints that say so; the default mode is not enforce"
    }
  }
  if (modes.every((m) => m === "off")) return { phase: phase("off"), note: undefined }
  return { phase: phase("2.1"), note: undefined }
}

/**
 * {@link ROLLOUT_PHASES} as the Markdown table of docs/runbook.md.
 *
 * @example
 * ```ts
 * import { renderPhaseTable } from "./RolloutPhase.ts" // internal: not part of the package's API
 * renderPhaseTable().split("\n")[0] // => "| phase | the rollout document says | next step |"
 * ```
 * @since 0.2.0
 * @category rendering
 */
export const renderPhaseTable = (): string =>
  [
    "| phase | the rollout document says | next step |",
    "| --- | --- | --- |",
    ...ROLLOUT_PHASES.map((p) => `| [${p.title}](${p.runbook.replace("docs/runbook.md", "")}) | ${p.when} | ${p.next} |`)
  ].join("\n")
