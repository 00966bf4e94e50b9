/**
 * The audit log of rollout changes. Every change attempt the `ModeStore` records — applied,
 * refused, duplicate or ignored — becomes one {@link AuditEntry}
 * `{ from, to, diff, actor, reason, source, at, version, action, outcome, forced }`, logged as one
 * structured log line (a JSON line under `Logger.consoleJson` / `Logger.formatJson`) and kept in a
 * bounded history: a Redis list capped at 1,000 entries, or {@link AuditRing} in memory.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { type RolloutDocument, StageValidationConfig } from "./Config.ts"
import { escapeAuditText } from "./AuditText.ts"
import { GateDecision } from "./GateDecision.ts"

/**
 * Where a change came from.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AuditSource } from "stage-normalization/rollout"
 * Schema.is(AuditSource)("webhook") // => true
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const AuditSource = Schema.Literals(["cli", "api", "webhook", "env"])

/**
 * @example
 * ```ts
 * import type { AuditSource } from "stage-normalization/rollout"
 * const source: AuditSource = "cli"
 * ```
 * @since 0.1.0
 * @category models
 */
export type AuditSource = typeof AuditSource.Type

/**
 * What kind of change: a direct `set`, a `promote` step, a `downgrade`, a `resolved` alert signal,
 * the `seed` of an empty shared store from the boot (env / preset) document, the `restore` of the
 * newest document an instance holds into a lost (empty or boot-seeded) store, or an instance's
 * `adopt`ion of a shared document of another lineage (after the store was lost and re-created).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AuditAction } from "stage-normalization/rollout"
 * Schema.is(AuditAction)("downgrade") // => true
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const AuditAction = Schema.Literals(["set", "promote", "downgrade", "resolved", "seed", "restore", "adopt"])

/**
 * @example
 * ```ts
 * import type { AuditAction } from "stage-normalization/rollout"
 * const action: AuditAction = "promote"
 * ```
 * @since 0.1.0
 * @category models
 */
export type AuditAction = typeof AuditAction.Type

/**
 * What happened: `applied` (the document changed), `refused` (a guard said no), `duplicate` (a
 * repeat that changed nothing), `already_downgraded` (a new downgrade request while nothing was
 * enforcing any more: nothing to do), `ignored` (a signal that never changes anything, e.g.
 * resolved).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AuditOutcome } from "stage-normalization/rollout"
 * Schema.is(AuditOutcome)("duplicate") // => true
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const AuditOutcome = Schema.Literals(["applied", "refused", "duplicate", "already_downgraded", "ignored"])

/**
 * @example
 * ```ts
 * import type { AuditOutcome } from "stage-normalization/rollout"
 * const outcome: AuditOutcome = "applied"
 * ```
 * @since 0.1.0
 * @category models
 */
export type AuditOutcome = typeof AuditOutcome.Type

/**
 * One changed field: a dotted path (`enforcementPercent`, `endpointMode./api/x`) with its old and
 * new value (`null` when absent).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { DiffEntry } from "stage-normalization/rollout"
 * Schema.is(DiffEntry)({ path: "enforcementPercent", from: 10, to: 25 }) // => true
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const DiffEntry = Schema.Struct({
  path: Schema.String,
  from: Schema.Unknown,
  to: Schema.Unknown
})

/**
 * @example
 * ```ts
 * import type { DiffEntry } from "stage-normalization/rollout"
 * const change: DiffEntry = { path: "dryRun", from: false, to: true }
 * ```
 * @since 0.1.0
 * @category models
 */
export type DiffEntry = typeof DiffEntry.Type

/**
 * One audited change attempt. `version` is the document version after the event (unchanged for
 * anything but `applied`). `gate`, on a `promote` entry: the record of the gate evaluation behind
 * it (values, thresholds, queries, verdict).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AuditEntry } from "stage-normalization/rollout"
 * const decodeEntry = Schema.decodeUnknownSync(Schema.fromJsonString(AuditEntry))
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const AuditEntry = Schema.Struct({
  from: Schema.NullOr(StageValidationConfig),
  to: StageValidationConfig,
  diff: Schema.Array(DiffEntry),
  actor: Schema.String,
  reason: Schema.String,
  source: AuditSource,
  at: Schema.String,
  version: Schema.Int,
  action: AuditAction,
  outcome: AuditOutcome,
  forced: Schema.Boolean,
  gate: Schema.optionalKey(GateDecision),
  /** the unreadable stored value this change replaced (at most 8 KiB of it), kept for the record */
  replaced: Schema.optionalKey(Schema.String)
})

/**
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ModeStore, type AuditEntry } from "stage-normalization/rollout"
 * const latest = ModeStore.use((s) => s.history(1)) // Effect<ReadonlyArray<AuditEntry>, …>
 * ```
 * @since 0.1.0
 * @category models
 */
export type AuditEntry = typeof AuditEntry.Type

const AuditEntryJson = Schema.fromJsonString(AuditEntry)
const encodeJson = Schema.encodeSync(AuditEntryJson)
const decodeJson = Schema.decodeUnknownResult(AuditEntryJson)

/**
 * Serialises an entry to one JSON line.
 *
 * @example
 * ```ts
 * import { encodeAuditEntry } from "./AuditLog.ts" // internal: not part of the package's API
 * // encodeAuditEntry(entry) => '{"from":…,"to":…,"diff":[…],…}'
 * ```
 * @since 0.1.0
 * @category encoding
 */
export const encodeAuditEntry = (entry: AuditEntry): string => encodeJson(entry)

/**
 * Parses one JSON line into an entry; `undefined` when it is not a valid entry.
 *
 * @example
 * ```ts
 * import { decodeAuditEntry } from "./AuditLog.ts" // internal: not part of the package's API
 * decodeAuditEntry("not json") // => undefined
 * ```
 * @since 0.1.0
 * @category decoding
 */
export const decodeAuditEntry = (line: string): AuditEntry | undefined => {
  const result = decodeJson(line)
  return result._tag === "Success" ? result.success : undefined
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/**
 * The field-level difference between two documents, ignoring `version`. Record fields
 * (`endpointMode`, `operationOverrides`) diff per key.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * diffDocuments(DEFAULT_DOCUMENT, { ...DEFAULT_DOCUMENT, enforcementPercent: 25 })
 * // => [{ path: "enforcementPercent", from: 100, to: 25 }]
 * ```
 * @since 0.1.0
 * @category diffing
 */
const diffDocuments = (from: RolloutDocument | null, to: RolloutDocument): ReadonlyArray<DiffEntry> => {
  const diff: Array<DiffEntry> = []
  const before: Record<string, unknown> = from ?? {}
  const after: Record<string, unknown> = to
  const keys = new Set([...Object.keys(before), ...Object.keys(after)])
  for (const key of [...keys].sort()) {
    if (key === "version") continue
    const a = before[key]
    const b = after[key]
    if (
      (key === "endpointMode" || key === "operationOverrides") && typeof a === "object" && a !== null &&
      typeof b === "object" && b !== null
    ) {
      const ra = a as Record<string, unknown>
      const rb = b as Record<string, unknown>
      for (const sub of [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort()) {
        if (!same(ra[sub], rb[sub])) diff.push({ path: `${key}.${sub}`, from: ra[sub] ?? null, to: rb[sub] ?? null })
      }
    } else if (!same(a, b)) {
      diff.push({ path: key, from: a ?? null, to: b ?? null })
    }
  }
  return diff
}

/**
 * Who asked for a change and why: the common part of every change request.
 *
 * @example
 * ```ts
 * import type { ChangeMeta } from "stage-normalization/rollout"
 * const meta: ChangeMeta = { actor: "ops@example.com", reason: "ramp to 25 %", source: "cli" }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface ChangeMeta {
  readonly actor: string
  readonly reason: string
  readonly source: AuditSource
  /** the gate evaluation behind a `promote` change or attempt, recorded in its audit entry */
  readonly gate?: GateDecision | undefined
}

/**
 * Builds an audit entry. Control and invisible format characters in `actor` and `reason` are
 * stored escaped (as the six characters `\u001b`), whoever the caller: the mode API and the CLI
 * refuse them first (`checkAuditText` in `AuditText.ts`); this is the defence in depth behind them.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * import { makeAuditEntry } from "./AuditLog.ts" // internal: not part of the package's API
 * import { dateOf } from "../shared/WallClock.ts" // internal: not part of the package's API
 * const entry = makeAuditEntry({
 *   from: DEFAULT_DOCUMENT, to: { ...DEFAULT_DOCUMENT, version: 1, dryRun: true },
 *   meta: { actor: "ops", reason: "shadow", source: "cli" },
 *   action: "set", outcome: "applied", forced: false, at: dateOf(0)
 * })
 * entry.diff // => [{ path: "dryRun", from: false, to: true }]
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const makeAuditEntry = (options: {
  readonly from: RolloutDocument | null
  readonly to: RolloutDocument
  readonly meta: ChangeMeta
  readonly action: AuditAction
  readonly outcome: AuditOutcome
  readonly forced: boolean
  readonly at: Date
  readonly replaced?: string | undefined
}): AuditEntry => ({
  from: options.from,
  to: options.to,
  diff: diffDocuments(options.from, options.to),
  actor: escapeAuditText(options.meta.actor),
  reason: escapeAuditText(options.meta.reason),
  source: options.meta.source,
  at: options.at.toISOString(),
  version: options.to.version,
  action: options.action,
  outcome: options.outcome,
  forced: options.forced,
  ...(options.meta.gate !== undefined ? { gate: options.meta.gate } : {}),
  ...(options.replaced !== undefined ? { replaced: options.replaced.slice(0, 8_192) } : {})
})

/**
 * Logs an entry as one structured log line: the entry itself is the message, annotated with
 * `event: "stage_validation.audit"`. Applied and ignored events log at Info, refused and duplicate
 * ones at Warning.
 *
 * @example
 * ```ts
 * import { Effect, Logger } from "effect"
 * import { logAuditEntry } from "./AuditLog.ts" // internal: not part of the package's API
 * // Effect.provide(logAuditEntry(entry), Logger.layer([Logger.consoleJson])) prints one JSON line
 * ```
 * @since 0.1.0
 * @category logging
 */
export const logAuditEntry = (entry: AuditEntry): Effect.Effect<void> => {
  const line = { event: "stage_validation.audit" as const, ...entry }
  const log = entry.outcome === "refused" || entry.outcome === "duplicate" ? Effect.logWarning(line) : Effect.logInfo(line)
  return log.pipe(Effect.annotateLogs({ event: "stage_validation.audit", outcome: entry.outcome, action: entry.action }))
}

/**
 * Capacity of the bounded audit history (Redis list and in-memory ring).
 *
 * @example
 * ```ts
 * import { AUDIT_HISTORY_LIMIT } from "stage-normalization/rollout"
 * AUDIT_HISTORY_LIMIT // => 1000
 * ```
 * @since 0.1.0
 * @category constants
 */
export const AUDIT_HISTORY_LIMIT = 1_000

/**
 * A fixed-capacity ring of entries: pushing beyond capacity drops the oldest.
 *
 * @example
 * ```ts
 * import { AuditRing } from "./AuditLog.ts" // internal: not part of the package's API
 * const ring = new AuditRing<number>(2)
 * ring.push(1); ring.push(2); ring.push(3)
 * ring.newestFirst() // => [3, 2]
 * ```
 * @since 0.1.0
 * @category constructors
 */
export class AuditRing<A> {
  readonly capacity: number
  private readonly items: Array<A | undefined>
  private next = 0
  private count = 0

  constructor(capacity: number = AUDIT_HISTORY_LIMIT) {
    this.capacity = Math.max(1, Math.floor(capacity))
    this.items = new Array<A | undefined>(this.capacity)
  }

  /** Number of entries held (≤ capacity). */
  get size(): number {
    return this.count
  }

  /** Appends an entry, dropping the oldest when full. */
  push(item: A): void {
    this.items[this.next] = item
    this.next = (this.next + 1) % this.capacity
    if (this.count < this.capacity) this.count++
  }

  /** Up to `limit` entries, newest first. */
  newestFirst(limit: number = this.capacity): ReadonlyArray<A> {
    const n = Math.min(Math.max(0, Math.floor(limit)), this.count)
    const out: Array<A> = []
    for (let i = 1; i <= n; i++) {
      out.push(this.items[(this.next - i + this.capacity) % this.capacity]!)
    }
    return out
  }
}
