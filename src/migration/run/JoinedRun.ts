/**
 * What a process that works on an existing run takes from the run's record instead of its own
 * options. A run's settings are the run's, recorded when it starts (`stage_migration_runs.parameters`,
 * its fund and batching on the run row): a process that joins it (`migrate --apply --join RUN`)
 * or resumes it uses them for every setting it does not give, and never runs the backup gate —
 * the run's backup verdict, recorded when it started, is the verdict (`RunSummary.backup`).
 *
 * - `--join RUN` **refuses** a setting it gives that differs from the run's (`InvalidOptions`,
 *   exit 2, one line naming the flag and the run's value): workers of one run work alike.
 * - A resume or an implicit join (`--apply` on a target whose run is incomplete) lets the settings
 *   it gives apply to its own workers, as before; only the ones it leaves out are the run's.
 * - `sleepMs` and `maxRowsPerSecond` are the run's *live* limits (its control row): given, they
 *   retune the whole run; left out, the run keeps its current ones.
 * - `forceUnknown`: the run's mapping; a different one is refused (`ResumeMismatch`), see
 *   {@link resumeMismatch}.
 *
 * @since 0.4.0
 */
import { Effect } from "effect"
import type { BackupEvidence } from "../backup/BackupGate.ts"
import type * as RunStore from "../schema/RunStore.ts"
import type { ResolvedTarget } from "../schema/Target.ts"
import type { HealthThresholds } from "./DatabaseHealth.ts"
import { DEFAULT_HEALTH_THRESHOLDS } from "./DatabaseHealth.ts"
import type { ForceUnknownOptions } from "./ForceUnknown.ts"
import { invalid, type MigrateOptions, type Settings } from "./RunSettings.ts"

/** The run settings recorded in a new run's parameters, with the CLI flag that sets each. */
const RECORDED = {
  batchSize: "--batch-size",
  minBatchSize: "--min-batch-size",
  maxBatchSize: "--max-batch-size",
  targetBatchMs: "--target-batch-ms",
  adaptive: "--adaptive",
  leaseMs: "--lease-ms",
  statementTimeoutMs: "--statement-timeout-ms",
  lockTimeoutMs: "--lock-timeout-ms",
  stuckAfterMs: "--stuck-after-ms",
  health: "--throttle/--max-replication-lag-ms/--max-wal-mb-per-second"
} as const

type Recorded = keyof typeof RECORDED

/** The parameters a new run records (what a joiner or a resume inherits), besides its backup verdict. */
export const recordedParameters = (settings: Settings, twin: string) => ({
  batchSize: settings.sizing.initial,
  minBatchSize: settings.sizing.min,
  maxBatchSize: settings.sizing.max,
  targetBatchMs: settings.sizing.targetMs,
  adaptive: settings.sizing.adaptive,
  sleepMs: settings.sleepMs,
  leaseMs: settings.leaseMs,
  statementTimeoutMs: settings.statementTimeoutMs,
  lockTimeoutMs: settings.lockTimeoutMs,
  stuckAfterMs: settings.stuckAfterMs,
  health: settings.health,
  twin: twin === "" ? null : twin,
  forceUnknown: settings.force ?? null
})

const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

/** The thresholds a `health` option means (the defaults filled in), or `false`. */
const healthOf = (health: MigrateOptions["health"]): HealthThresholds | false =>
  health === false ? false : { ...DEFAULT_HEALTH_THRESHOLDS, maxWalBytesPerSecond: 0, ...health }

/** A recorded value as the option it was: only values of the option's type count (older runs recorded fewer). */
const storedValue = (key: Recorded, value: unknown): unknown =>
  key === "adaptive"
    ? typeof value === "boolean" ? value : undefined
    : key === "health"
    ? value === false || (typeof value === "object" && value !== null) ? value : undefined
    : typeof value === "number" && Number.isInteger(value) ? value : undefined

const same = (key: Recorded, given: unknown, stored: unknown): boolean =>
  key === "health"
    ? canonicalJson(healthOf(given as MigrateOptions["health"])) === canonicalJson(healthOf(stored as MigrateOptions["health"]))
    : given === stored

const shown = (value: unknown): string =>
  value === false ? "off" : typeof value === "object" && value !== null ? canonicalJson(value) : String(value)

/** The first setting `options` gives that differs from the run's, as one line; `undefined` when none. */
export const joinConflict = (options: MigrateOptions, run: RunStore.RunRow, stored: Readonly<Record<string, unknown>>): string | undefined => {
  const refuse = (flag: string, given: unknown, theirs: unknown) =>
    `${flag} ${shown(given)} differs from run ${run.runId}'s ${shown(theirs)}: a joiner takes the run's settings — ` +
    `leave the flag out (--sleep-ms and --max-rows-per-second retune the whole run)`
  if (options.fundId !== undefined && options.fundId !== run.fundId) {
    return refuse("--fund-id", options.fundId, run.fundId ?? "(all funds)")
  }
  if (options.batchBy !== undefined && options.batchBy !== "auto" && options.batchBy !== run.batchBy) {
    return refuse("--batch-by", options.batchBy, run.batchBy)
  }
  for (const key of Object.keys(RECORDED) as Array<Recorded>) {
    const given = options[key]
    const theirs = storedValue(key, stored[key])
    if (given !== undefined && theirs !== undefined && !same(key, given, theirs)) return refuse(RECORDED[key], given, theirs)
  }
  return undefined
}

/**
 * The options of a process working on `run`: the settings it leaves out are the run's. Joining
 * (`joinRunId`), its fund is the run's too, and a setting that differs from the run's is refused.
 */
export const inheritFromRun = (options: MigrateOptions, run: RunStore.RunRow, stored: Readonly<Record<string, unknown>>) =>
  Effect.gen(function*() {
    const joining = options.joinRunId !== undefined
    const conflict = joining ? joinConflict(options, run, stored) : undefined
    if (conflict !== undefined) return yield* invalid(conflict)
    const inherited: Record<string, unknown> = {}
    for (const key of Object.keys(RECORDED) as Array<Recorded>) {
      inherited[key] = options[key] ?? storedValue(key, stored[key])
    }
    return {
      ...options,
      ...inherited,
      ...(joining ? { fundId: run.fundId ?? undefined, batchBy: run.batchBy } : {})
    } as MigrateOptions
  })

/**
 * The backup verdict recorded on a run when it started (the gate's evidence, or `{ skipped }`);
 * `null` when it recorded none (a library call without the gate).
 */
export const backupVerdictOf = (stored: Readonly<Record<string, unknown>>): BackupEvidence | { readonly skipped: string } | null => {
  const backup = stored["backup"]
  if (typeof backup !== "object" || backup === null) return null
  if ("skipped" in backup && typeof backup.skipped === "string") return { skipped: backup.skipped }
  return "manifest" in backup && typeof backup.manifest === "string" ? (backup as BackupEvidence) : null
}

const sameForce = (a: ForceUnknownOptions | undefined, b: ForceUnknownOptions | undefined): boolean =>
  canonicalJson({ map: a?.map ?? {}, editDistance: a?.editDistance ?? true, on: a !== undefined }) ===
    canonicalJson({ map: b?.map ?? {}, editDistance: b?.editDistance ?? true, on: b !== undefined })

/** Why an incomplete run cannot be resumed or joined with these options, or `undefined`. */
export const resumeMismatch = (
  incomplete: RunStore.RunRow,
  target: ResolvedTarget,
  fundId: string | null,
  requested: ForceUnknownOptions | undefined,
  stored: ForceUnknownOptions | undefined
): string | undefined =>
  incomplete.kind !== target.kind
    ? `kind ${incomplete.kind}`
    : incomplete.idColumn !== target.id.name
    ? `id column ${incomplete.idColumn}`
    : incomplete.fundId !== fundId
    ? incomplete.fundId === null ? "all funds" : `--fund-id ${incomplete.fundId}`
    : requested !== undefined && !sameForce(requested, stored)
    ? stored === undefined ? "no --force-unknown" : "another --force-unknown mapping"
    : undefined
