/**
 * What `stage-normalization status` reports, one section per thing an on-call engineer asks:
 * the rollout document and its last change, the last gate decision recorded in the history, the
 * gate now (Prometheus), the downgrade webhook's recent activity, the backfill (PostgreSQL), and
 * the runbook's next step. Each section is `{ state: "ok", … }` or `{ state: "error", error }` —
 * a store, database or Prometheus that cannot be read (or is not configured) fails only its own
 * sections, each read is bounded by a timeout, and gathering never fails.
 *
 * @since 0.2.0
 */
import { Duration, Effect, Option } from "effect"
import { layerFromUrl, redactUrl } from "../migration/database/Database.ts"
import { backfillProgress, type BackfillProgress } from "../migration/verify/BackfillProgress.ts"
import type { AuditEntry, DiffEntry } from "../rollout/AuditLog.ts"
import type { GateDecision } from "../rollout/GateDecision.ts"
import { MetricsSource } from "../rollout/MetricsSource.ts"
import { layerPrometheusMetricsSourceFetch } from "../rollout/PrometheusMetricsSource.ts"
import { DEFAULT_PROMOTION_POLICY } from "../rollout/Promote.ts"
import { evaluatePromotionWindows, type GateRow, type GateVerdict } from "../rollout/PromotionGate.ts"
import { type RolloutSource, sourceErrorMessage, type RolloutView } from "./RolloutSource.ts"
import { openChosenSource, type SourceChoice } from "./RolloutSourceFlags.ts"
import { phaseOf, type RolloutPhase } from "./RolloutPhase.ts"

/**
 * A section: its data, or why it could not be read.
 *
 * @since 0.2.0
 * @category models
 */
export type Section<A> = ({ readonly state: "ok" } & A) | { readonly state: "error"; readonly error: string }

/**
 * An audit entry in brief.
 *
 * @since 0.2.0
 * @category models
 */
export interface EntrySummary {
  readonly at: string
  readonly actor: string
  readonly reason: string
  readonly source: string
  readonly action: string
  readonly outcome: string
  readonly forced: boolean
  readonly version: number
  readonly changes: ReadonlyArray<DiffEntry>
}

/**
 * The last gate decision in the history: from its decision record when it has one, else from the
 * entry's reason (entries written before decision records).
 *
 * @since 0.2.0
 * @category models
 */
export interface GateRecord extends EntrySummary {
  readonly decision: "promote" | "force" | "hold"
  readonly verdict: GateVerdict | "unknown"
  readonly reasons: ReadonlyArray<string>
  readonly record: GateDecision | null
}

/**
 * The full report.
 *
 * @since 0.2.0
 * @category models
 */
export interface StatusReport {
  readonly generatedAt: string
  readonly rollout: Section<{ readonly source: string; readonly version: number; readonly document: RolloutView["document"]; readonly lastChange: EntrySummary | null }>
  readonly gate: Section<{ readonly last: GateRecord | null }>
  readonly gateNow: Section<{
    readonly prometheus: string
    readonly verdict: GateVerdict
    readonly reasons: ReadonlyArray<string>
    readonly windows: number
    readonly windowSeconds: number
    readonly table: ReadonlyArray<GateRow>
  }>
  readonly webhook: Section<{
    readonly since: string
    readonly firedRecently: boolean
    readonly downgradedRecently: boolean
    readonly lastDowngrade: EntrySummary | null
    readonly recent: ReadonlyArray<EntrySummary>
  }>
  readonly backfill: Section<{ readonly database: string } & BackfillProgress>
  readonly next: Section<{ readonly phase: RolloutPhase["id"]; readonly title: string; readonly step: string; readonly runbook: string; readonly note: string | null }>
  /** `section: why`, for every section in the error state */
  readonly unreadable: ReadonlyArray<string>
}

/**
 * What to read, and how long each read may take.
 *
 * @since 0.2.0
 * @category models
 */
export interface StatusOptions {
  readonly source: SourceChoice
  readonly databaseUrl: Option.Option<string>
  readonly table: string
  readonly column: string
  readonly prometheus: Option.Option<{ readonly url: string; readonly job: string | undefined }>
  /** webhook activity newer than this counts as recent */
  readonly sinceMillis: number
  readonly timeout: Duration.Input
  readonly now: number
}

/** Audit entries read for the gate and webhook sections. */
const HISTORY_DEPTH = 500

const failed = (error: string) => ({ state: "error", error }) as const

const summary = (e: AuditEntry): EntrySummary => ({
  at: e.at,
  actor: e.actor,
  reason: e.reason,
  source: e.source,
  action: e.action,
  outcome: e.outcome,
  forced: e.forced,
  version: e.version,
  changes: e.diff
})

const bounded = <A, E>(effect: Effect.Effect<A, E>, timeout: Duration.Input, what: string, message: (e: E) => string) =>
  effect.pipe(
    Effect.mapError(message),
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () => Effect.fail(`${what} did not answer within ${Duration.format(Duration.fromInputUnsafe(timeout))}`)
    }),
    Effect.result
  )

/**
 * The last `promote` entry of the history as a gate record.
 *
 * @example
 * ```ts
 * import { lastGateRecord } from "./StatusSections.ts" // internal: not part of the package's API
 * lastGateRecord([]) // => null
 * ```
 * @since 0.2.0
 * @category sections
 */
export const lastGateRecord = (entries: ReadonlyArray<AuditEntry>): GateRecord | null => {
  const entry = entries.find((e) => e.action === "promote")
  if (entry === undefined) return null
  if (entry.gate !== undefined) {
    return { ...summary(entry), decision: entry.gate.decision, verdict: entry.gate.verdict, reasons: entry.gate.reasons, record: entry.gate }
  }
  // before decision records: the verdict is in the reason promote wrote
  const noted = /gate (pass|fail|inconclusive): (.*?)(?:\); |\]$)/.exec(entry.reason)
  const decision = entry.outcome !== "applied" ? "hold" : entry.forced || noted !== null ? "force" : "promote"
  const verdict = noted !== null ? (noted[1] as GateVerdict) : decision === "promote" ? "pass" : "unknown"
  return { ...summary(entry), decision, verdict, reasons: noted !== null ? [noted[2]!] : [], record: null }
}

const webhookSection = (entries: ReadonlyArray<AuditEntry>, options: StatusOptions): StatusReport["webhook"] => {
  const since = options.now - options.sinceMillis
  const webhook = entries.filter((e) => e.source === "webhook")
  const recent = webhook.filter((e) => Date.parse(e.at) >= since)
  const lastDowngrade = webhook.find((e) => e.action === "downgrade" && e.outcome === "applied")
  return {
    state: "ok",
    since: new Date(since).toISOString(),
    firedRecently: recent.some((e) => e.action === "downgrade"),
    downgradedRecently: recent.some((e) => e.action === "downgrade" && e.outcome === "applied"),
    lastDowngrade: lastDowngrade === undefined ? null : summary(lastDowngrade),
    recent: recent.slice(0, 10).map(summary)
  }
}

const readStore = (options: StatusOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const source: RolloutSource = yield* openChosenSource(options.source)
    const [view, history] = yield* Effect.all([Effect.result(source.read), Effect.result(source.history(HISTORY_DEPTH))])
    return { label: source.label, view, history }
  }))

const readBackfill = (options: StatusOptions, url: string) =>
  backfillProgress({ table: options.table, column: options.column }).pipe(
    Effect.provide(layerFromUrl(url, { maxConnections: 1, applicationName: "stage-normalization status", connectTimeoutMs: 5_000 })),
    Effect.map((progress) => ({ state: "ok", database: redactUrl(url), ...progress }) as const)
  )

const readGateNow = (prometheus: { readonly url: string; readonly job: string | undefined }) =>
  Effect.gen(function*() {
    const policy = DEFAULT_PROMOTION_POLICY
    const metrics = yield* MetricsSource
    const snapshots = yield* metrics.snapshots({ windows: policy.requiredPasses, windowSeconds: policy.windowSeconds })
    const evaluation = evaluatePromotionWindows(snapshots, policy.criteria, policy.requiredPasses)
    return {
      state: "ok",
      prometheus: prometheus.url,
      verdict: evaluation.verdict,
      reasons: evaluation.reasons,
      windows: policy.requiredPasses,
      windowSeconds: policy.windowSeconds,
      table: evaluation.table
    } as const
  }).pipe(Effect.provide(layerPrometheusMetricsSourceFetch({ url: prometheus.url, job: prometheus.job, timeout: "5 seconds" })))

/**
 * Reads every section (concurrently, each bounded by `options.timeout`); never fails.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { gatherStatus } from "./StatusSections.ts" // internal: not part of the package's API
 * const report = gatherStatus({
 *   source: { _tag: "None", message: "no store given" }, databaseUrl: Option.none(), table: "portfolio_companies",
 *   column: "stage", prometheus: Option.none(), sinceMillis: 86_400_000, timeout: "10 seconds", now: 0
 * }) // Effect<StatusReport>: every section in the error state, saying why
 * ```
 * @since 0.2.0
 * @category sections
 */
export const gatherStatus = (options: StatusOptions): Effect.Effect<StatusReport> =>
  Effect.gen(function*() {
    const [store, backfill, gateNow] = yield* Effect.all([
      options.source._tag === "None"
        ? Effect.succeed(undefined)
        : bounded(readStore(options), options.timeout, "the rollout store", sourceErrorMessage),
      Option.isNone(options.databaseUrl)
        ? Effect.succeed(failed("not configured: give --database-url or set DATABASE_URL"))
        : bounded(readBackfill(options, options.databaseUrl.value), options.timeout, "PostgreSQL", (e) => e.message).pipe(
          Effect.map((r) => (r._tag === "Success" ? r.success : failed(r.failure)))
        ),
      Option.isNone(options.prometheus)
        ? Effect.succeed(failed("not configured: give --prometheus-url or set PROMETHEUS_URL"))
        : bounded(readGateNow(options.prometheus.value), options.timeout, "Prometheus", (e) => `Prometheus: ${e.message}`).pipe(
          Effect.map((r) => (r._tag === "Success" ? r.success : failed(r.failure)))
        )
    ], { concurrency: "unbounded" })

    const storeError = options.source._tag === "None"
      ? `not configured: ${options.source.message}`
      : store !== undefined && store._tag === "Failure" ? store.failure : undefined
    const opened = store !== undefined && store._tag === "Success" ? store.success : undefined
    const view = opened === undefined ? undefined : opened.view
    const history = opened === undefined ? undefined : opened.history

    const historyError = storeError !== undefined
      ? `needs the audit history (${storeError})`
      : history?._tag === "Failure" ? `audit history: ${sourceErrorMessage(history.failure)}` : undefined
    const entries = history?._tag === "Success" ? history.success : []
    const lastApplied = entries.find((e) => e.outcome === "applied")

    const rollout: StatusReport["rollout"] = storeError !== undefined
      ? failed(storeError)
      : view?._tag === "Success"
      ? { state: "ok", source: opened!.label, version: view.success.version, document: view.success.document, lastChange: lastApplied ? summary(lastApplied) : null }
      : failed(view?._tag === "Failure" ? sourceErrorMessage(view.failure) : "not read")
    const gate: StatusReport["gate"] = historyError !== undefined ? failed(historyError) : { state: "ok", last: lastGateRecord(entries) }
    const webhook = historyError !== undefined ? failed(historyError) : webhookSection(entries, options)
    const next: StatusReport["next"] = rollout.state === "error"
      ? failed(`needs the rollout document (${rollout.error})`)
      : (() => {
        const downgraded = lastApplied !== undefined && lastApplied.source === "webhook" && lastApplied.action === "downgrade"
        const { note, phase } = phaseOf(rollout.document, downgraded)
        return { state: "ok", phase: phase.id, title: phase.title, step: phase.next, runbook: phase.runbook, note: note ?? null } as const
      })()

    const sections = { rollout, gate, gateNow, webhook, backfill, next }
    return {
      generatedAt: new Date(options.now).toISOString(),
      ...sections,
      unreadable: Object.entries(sections).flatMap(([name, s]) => (s.state === "error" ? [`${name}: ${s.error}`] : []))
    }
  })
