/**
 * The batched, resumable, audited normalisation of a target (`migrate --apply`).
 *
 * A run walks the target in keyset batches over its id — per fund when it batches by fund — and
 * commits each batch in one transaction: the rows whose value changes are updated from their
 * current value (see `BatchStatements`), each gets an audit row in `stage_normalization_log`,
 * the batch row, the checkpoint and the run's counters are updated. A crash loses at most the
 * batch in flight, which the next run (`--resume`, or any `--apply` on the target) redoes from
 * the checkpoint: every changed row is audited exactly once.
 *
 * Around each batch: stop requests (signals) pause the run between batches, `cancel` requests
 * end it, the target lock is re-checked, database health gates the batch with back-off, a
 * transient SQL error is retried (3 attempts, exponential back-off), a statement timeout splits
 * the batch in half, a batch exceeding the stuck limit is abandoned and retried, and the batch
 * size adapts towards a target duration.
 *
 * @since 0.1.0
 */
import { Cause, Effect, Exit, Metric, Schedule } from "effect"
import { SqlClient, SqlError } from "effect/sql"
import { normalizeStage } from "../../normalizer/NormalizeStage.ts"
import type { SqlTwinOptions } from "../../normalizer/SqlTwin.ts"
import { stageVocabulary } from "../../normalizer/StageVocabulary.ts"
import type { Vocabulary } from "../../normalizer/Vocabulary.ts"
import { migrationBatchesTotal, migrationRowsTotal } from "../../observability/metrics.ts"
import { type BatchSizing, DEFAULT_BATCH_SIZING, nextBatchSize } from "./AdaptiveBatchSize.ts"
import { type BackupEvidence, type BackupGateOptions, requireFreshBackup } from "../backup/BackupGate.ts"
import {
  ALL_ROWS,
  type BoundStatement,
  claimBatch,
  finishBatch,
  type ForcedValues,
  type Partition,
  readDistributions,
  recordUnknowns,
  scalarBatch,
  splitPoint,
  unknownValuesInRange,
  writeDistributions
} from "./BatchStatements.ts"
import { planForcedDistribution } from "./DistributionPlan.ts"
import { forcedStage, type ForceUnknownOptions } from "./ForceUnknown.ts"
import { checkHealth, DEFAULT_HEALTH_THRESHOLDS, type HealthThresholds } from "./DatabaseHealth.ts"
import type { MigrationEvent, RunTotals, UnknownValue } from "../MigrationEvent.ts"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { InvalidOptions, LockLost, NothingToResume, QueryFailed, ResumeMismatch, RunInProgress } from "../MigrationErrorReason.ts"
import * as RunStore from "../schema/RunStore.ts"
import { ensureSqlTwin } from "../sql/SqlTwinInstaller.ts"
import { checkFundId, type ResolvedTarget, resolveTarget, type TargetKind, type TargetSpec } from "../schema/Target.ts"
import { acquireTargetLock } from "../schema/TargetLock.ts"
import { ensureTrackingSchema } from "../schema/TrackingSchema.ts"

/**
 * Options of {@link migrate}. Every number has a default; see the CLI's `migrate --help`.
 *
 * @since 0.1.0
 * @category models
 */
export interface MigrateOptions extends TargetSpec {
  /** Migrate one fund only (needs a fund column). */
  readonly fundId?: string | undefined
  /** `auto` (default): by fund when there is a fund column and a (fund, id) index, else by id. */
  readonly batchBy?: "auto" | "id" | "fund" | undefined
  /** Initial rows per batch (default 5,000). */
  readonly batchSize?: number | undefined
  readonly minBatchSize?: number | undefined
  readonly maxBatchSize?: number | undefined
  /** Target batch duration for adaptive sizing (default 1,000 ms). */
  readonly targetBatchMs?: number | undefined
  /** Adapt the batch size (default true). */
  readonly adaptive?: boolean | undefined
  /** Pause between batches (default 100 ms). */
  readonly sleepMs?: number | undefined
  /** Require an incomplete run to continue (fails with `NothingToResume` otherwise). */
  readonly resume?: boolean | undefined
  /** Statement timeout inside a batch; exceeding it splits the batch (default 30 s). */
  readonly statementTimeoutMs?: number | undefined
  /** Lock timeout inside a batch; exceeding it is a transient error (default 5 s). */
  readonly lockTimeoutMs?: number | undefined
  /** A batch running longer is abandoned and retried (default 10 min). */
  readonly stuckAfterMs?: number | undefined
  /** Attempts per batch for transient errors (default 3). */
  readonly maxAttempts?: number | undefined
  /** First retry delay, doubled per attempt (default 500 ms). */
  readonly retryDelayMs?: number | undefined
  /** Health gating thresholds, or `false` to skip the checks. */
  readonly health?: Partial<HealthThresholds> | false | undefined
  /** Longest single back-off while unhealthy (default 30 s). */
  readonly maxThrottleMs?: number | undefined
  readonly vocabulary?: Vocabulary<string> | undefined
  readonly twin?: SqlTwinOptions | undefined
  /** Called for every event (progress, retries, throttling). */
  readonly onEvent?: ((event: MigrationEvent) => Effect.Effect<void>) | undefined
  /** Polled between batches: `true` pauses the run (signals). */
  readonly shouldStop?: Effect.Effect<boolean> | undefined
  /** Who runs it, recorded on the run (default `pid@host`). */
  readonly owner?: string | undefined
  /** Unknown values reported in the summary (default 100; all are recorded in the database). */
  readonly unknownsLimit?: number | undefined
  /**
   * `--force-unknown`: map unknown values through a mapping and/or the edit-distance rule (see
   * `ForceUnknown`). Each forced row is audited with its reason. A resumed run keeps the mapping
   * it started with; a different one is refused (`ResumeMismatch`).
   */
  readonly forceUnknown?: ForceUnknownOptions | undefined
  /**
   * The backup freshness gate for a new run (see `BackupGate`), or `{ skip }` naming why it is
   * skipped (recorded in the run's parameters). Absent: no gate (library callers own their backups).
   */
  readonly backupCheck?: BackupGateOptions | { readonly skip: string } | undefined
  /** More parameters to record on a new run (e.g. how a dangerous flag was confirmed). */
  readonly extraParameters?: Readonly<Record<string, unknown>> | undefined
}

/**
 * The outcome of {@link migrate}. A run that failed (a batch failed for good) is reported here
 * with `status: "failed"`, not as an error: it can be resumed.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunSummary {
  readonly runId: string
  readonly status: "succeeded" | "paused" | "cancelled" | "failed"
  readonly target: string
  readonly column: string
  readonly kind: TargetKind
  readonly batchBy: "id" | "fund"
  readonly fundId: string | null
  readonly resumed: boolean
  /** Batches interrupted by an earlier runner, failed and redone by this one. */
  readonly interruptedBatches: ReadonlyArray<string>
  readonly rowsTotal: number
  /** Counters of the whole run (all sessions). */
  readonly totals: RunTotals
  /** Batches committed by this session. */
  readonly batches: number
  readonly durationMs: number
  readonly unknowns: ReadonlyArray<UnknownValue>
  /** Unknown values mapped by `--force-unknown` (whole run), with their rows. */
  readonly forced: ReadonlyArray<ForcedValue>
  /** The backup the gate accepted, `{ skipped }`, or null (no gate: a library call or a resumed run). */
  readonly backup: BackupEvidence | { readonly skipped: string } | null
  readonly error: string | null
}

/**
 * A value `--force-unknown` mapped onto a stage.
 *
 * @since 0.1.0
 * @category models
 */
export interface ForcedValue {
  readonly value: string
  readonly stage: string
  readonly reason: string
  readonly rows: number
}

interface Settings {
  readonly sizing: BatchSizing
  readonly sleepMs: number
  readonly statementTimeoutMs: number
  readonly lockTimeoutMs: number
  readonly stuckAfterMs: number
  readonly maxAttempts: number
  readonly retryDelayMs: number
  readonly health: HealthThresholds | false
  readonly maxThrottleMs: number
  readonly vocabulary: Vocabulary<string>
  readonly emit: (event: MigrationEvent) => Effect.Effect<void>
  readonly shouldStop: Effect.Effect<boolean>
  /** Set once the run is known (a resumed run keeps its own). */
  force: ForceUnknownOptions | undefined
}

const invalid = (detail: string) => new MigrationError({ reason: new InvalidOptions({ detail }) })

const positiveInt = (name: string, value: number | undefined, fallback: number, min = 1) =>
  value === undefined
    ? Effect.succeed(fallback)
    : Number.isInteger(value) && value >= min
    ? Effect.succeed(value)
    : Effect.fail(invalid(`${name} must be an integer ≥ ${min}, got ${value}`))

const settingsOf = (options: MigrateOptions) =>
  Effect.gen(function*() {
    const initial = yield* positiveInt("--batch-size", options.batchSize, DEFAULT_BATCH_SIZING.initial)
    const min = yield* positiveInt("--min-batch-size", options.minBatchSize, Math.min(DEFAULT_BATCH_SIZING.min, initial))
    const max = yield* positiveInt("--max-batch-size", options.maxBatchSize, Math.max(DEFAULT_BATCH_SIZING.max, initial))
    if (min > initial || initial > max) {
      return yield* invalid(`batch sizes must satisfy min ≤ batch size ≤ max (got ${min} ≤ ${initial} ≤ ${max})`)
    }
    const health = options.health === false ? false : { ...DEFAULT_HEALTH_THRESHOLDS, ...options.health }
    return {
      sizing: {
        initial,
        min,
        max,
        targetMs: yield* positiveInt("--target-batch-ms", options.targetBatchMs, DEFAULT_BATCH_SIZING.targetMs),
        adaptive: options.adaptive ?? true
      },
      sleepMs: yield* positiveInt("--sleep-ms", options.sleepMs, 100, 0),
      statementTimeoutMs: yield* positiveInt("--statement-timeout-ms", options.statementTimeoutMs, 30_000),
      lockTimeoutMs: yield* positiveInt("--lock-timeout-ms", options.lockTimeoutMs, 5_000),
      stuckAfterMs: yield* positiveInt("--stuck-after-ms", options.stuckAfterMs, 600_000),
      maxAttempts: yield* positiveInt("maxAttempts", options.maxAttempts, 3),
      retryDelayMs: yield* positiveInt("retryDelayMs", options.retryDelayMs, 500, 0),
      health,
      maxThrottleMs: yield* positiveInt("maxThrottleMs", options.maxThrottleMs, 30_000),
      vocabulary: options.vocabulary ?? stageVocabulary,
      emit: options.onEvent ?? (() => Effect.void),
      shouldStop: options.shouldStop ?? Effect.succeed(false),
      force: options.forceUnknown
    } satisfies Settings as Settings
  })

const defaultOwner = (): string => {
  const proc = (globalThis as { process?: { pid?: number; env?: Record<string, string | undefined> } }).process
  const host = proc?.env?.["HOSTNAME"] ?? "localhost"
  return `pid ${proc?.pid ?? "?"}@${host}`
}

const sqlFailed = (what: string) => (cause: unknown) =>
  cause instanceof MigrationError
    ? cause
    : new MigrationError({ reason: new QueryFailed({ detail: `${what}: ${describeCause(cause)}`, cause }) })

const countBatch = (status: "completed" | "failed" | "retried" | "split") =>
  Metric.update(Metric.withAttributes(migrationBatchesTotal, { status }), 1)

const countRows = (r: { readonly scanned: number; readonly updated: number; readonly skipped: number; readonly failed: number }) =>
  Effect.forEach(
    [
      ["updated", r.updated],
      ["unknown", r.skipped],
      ["failed", r.failed],
      ["unchanged", r.scanned - r.updated - r.skipped - r.failed]
    ] as const,
    ([result, n]) => (n > 0 ? Metric.update(Metric.withAttributes(migrationRowsTotal, { result }), n) : Effect.void),
    { discard: true }
  )

const exec = <A extends object>(statement: BoundStatement) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.unsafe<A>(statement.text, statement.params)
  })

interface BatchResult {
  readonly hi: string
  readonly scanned: number
  readonly updated: number
  readonly skipped: number
  readonly failed: number
  readonly nextSize: number
  readonly durationMs: number
  readonly attempts: number
}

interface Claim {
  readonly batchId: string
  readonly batchNo: number
  readonly partition: Partition
  readonly lo: string | null
  readonly hi: string
  readonly size: number
}

const setTimeouts = (settings: Settings) =>
  exec(
    {
      text: "SELECT set_config('statement_timeout', $1::text, true), set_config('lock_timeout', $2::text, true)",
      params: [`${settings.statementTimeoutMs}ms`, `${settings.lockTimeoutMs}ms`]
    }
  )

const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

const sameForce = (a: ForceUnknownOptions | undefined, b: ForceUnknownOptions | undefined): boolean =>
  canonicalJson({ map: a?.map ?? {}, editDistance: a?.editDistance ?? true, on: a !== undefined }) ===
    canonicalJson({ map: b?.map ?? {}, editDistance: b?.editDistance ?? true, on: b !== undefined })

/** The forced mappings of a batch's unknown values (`--force-unknown`), computed in TypeScript. */
const forcedValues = (target: ResolvedTarget, twin: string, claim: Claim, settings: Settings) =>
  Effect.gen(function*() {
    const force = settings.force
    if (force === undefined) return undefined
    const values = yield* exec<{ value: string }>(
      unknownValuesInRange(target, { twin, partition: claim.partition, lo: claim.lo, hi: claim.hi })
    )
    const out = { olds: [] as Array<string>, news: [] as Array<string>, reasons: [] as Array<string> }
    for (const { value } of values) {
      const mapping = forcedStage(value, force, settings.vocabulary)
      if (mapping === undefined) continue
      out.olds.push(value)
      out.news.push(mapping.stage)
      out.reasons.push(mapping.reason)
    }
    return out satisfies ForcedValues as ForcedValues
  })

/** One attempt of a scalar batch, in one transaction. */
const scalarAttempt = (target: ResolvedTarget, runId: string, twin: string, claim: Claim, settings: Settings) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      const started = Date.now()
      yield* setTimeouts(settings)
      const forced = settings.force === undefined ? undefined : yield* forcedValues(target, twin, claim, settings)
      const run = (countUnknowns: boolean) =>
        exec<{ scanned: number; nulls: number; unknown: number; candidates: number; updated: number }>(
          scalarBatch(target, {
            twin,
            runId,
            batchId: claim.batchId,
            partition: claim.partition,
            lo: claim.lo,
            hi: claim.hi,
            countUnknowns,
            forced
          })
        ).pipe(Effect.map((rows) => rows[0]!))
      const first = yield* run(true)
      let updated = first.updated
      let raced = first.candidates - first.updated
      for (let round = 0; raced > 0 && round < 3; round++) {
        const again = yield* run(false)
        updated += again.updated
        raced = again.candidates - again.updated
      }
      const durationMs = Date.now() - started
      const nextSize = nextBatchSize(claim.size, durationMs, settings.sizing)
      const result = { scanned: first.scanned, updated, skipped: first.unknown, failed: raced }
      yield* exec(finishBatch({ runId, batchId: claim.batchId, batchNo: claim.batchNo, partition: claim.partition, hi: claim.hi, nextBatchSize: nextSize, ...result }))
      return { ...result, hi: claim.hi, nextSize, durationMs, attempts: 1 } satisfies BatchResult
    }))
  })

/** One attempt of a distribution batch, in one transaction (normalised in TypeScript). */
const distributionAttempt = (target: ResolvedTarget, runId: string, claim: Claim, settings: Settings) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      const started = Date.now()
      yield* setTimeouts(settings)
      const range = { partition: claim.partition, lo: claim.lo, hi: claim.hi }
      const unknowns = new Map<string, { kind: string; value: string; rows: number; example: string }>()
      let scanned = 0
      let skipped = 0
      let updated = 0
      let pending: ReadonlySet<string> | undefined
      let raced = 0
      for (let round = 0; round < 4; round++) {
        const rows = yield* exec<{ id: string; value: string | null }>(readDistributions(target, range))
        const ids: Array<string> = []
        const olds: Array<string> = []
        const news: Array<string> = []
        const reasons: Array<string> = []
        for (const row of rows) {
          if (pending !== undefined && !pending.has(row.id)) continue
          if (round === 0) scanned++
          if (row.value === null) continue
          const plan = planForcedDistribution(JSON.parse(row.value) as unknown, settings.force, settings.vocabulary)
          if (plan._tag === "Changed") {
            ids.push(row.id)
            olds.push(row.value)
            news.push(JSON.stringify(plan.value))
            reasons.push(plan.reason)
          } else if (plan._tag === "Skipped") {
            skipped++
            const seen = new Set<string>()
            for (const issue of plan.issues) {
              const key = `${issue.kind}\u0000${issue.value}`
              if (seen.has(key)) continue
              seen.add(key)
              const entry = unknowns.get(key)
              if (entry === undefined) unknowns.set(key, { kind: issue.kind, value: issue.value, rows: 1, example: row.id })
              else entry.rows++
            }
          }
        }
        if (ids.length === 0) {
          raced = 0
          break
        }
        const written = yield* exec<{ id: string }>(
          writeDistributions(target, { runId, batchId: claim.batchId, lo: claim.lo, hi: claim.hi, ids, olds, news, reasons })
        )
        updated += written.length
        const done = new Set(written.map((r) => r.id))
        const left = ids.filter((id) => !done.has(id))
        raced = left.length
        if (raced === 0) break
        pending = new Set(left)
      }
      if (unknowns.size > 0) yield* exec(recordUnknowns(runId, Array.from(unknowns.values())))
      const durationMs = Date.now() - started
      const nextSize = nextBatchSize(claim.size, durationMs, settings.sizing)
      const result = { scanned, updated, skipped, failed: raced }
      yield* exec(finishBatch({ runId, batchId: claim.batchId, batchNo: claim.batchNo, partition: claim.partition, hi: claim.hi, nextBatchSize: nextSize, ...result }))
      return { ...result, hi: claim.hi, nextSize, durationMs, attempts: 1 } satisfies BatchResult
    }))
  })

type Failure =
  | { readonly _tag: "Split"; readonly message: string }
  | { readonly _tag: "Transient"; readonly message: string }
  | { readonly _tag: "Fatal"; readonly message: string }

const classify = (cause: Cause.Cause<unknown>): Failure => {
  const error = Cause.squash(cause)
  const message = describeCause(error)
  if (Cause.isTimeoutError(error)) return { _tag: "Transient", message: `stuck: ${message}` }
  if (SqlError.isSqlError(error)) {
    const reason = error.reason
    if (reason._tag === "StatementTimeoutError") return { _tag: "Split", message }
    if (reason.isRetryable) return { _tag: "Transient", message }
  }
  return { _tag: "Fatal", message }
}

/** A batch with its retries and splits: the result, or the final error message. */
const executeBatch = (
  target: ResolvedTarget,
  runId: string,
  twin: string,
  claimed: Claim,
  settings: Settings
) =>
  Effect.gen(function*() {
    let claim = claimed
    let attempts = 1
    let splits = 0
    while (true) {
      const attempt = target.kind === "scalar"
        ? scalarAttempt(target, runId, twin, claim, settings)
        : distributionAttempt(target, runId, claim, settings)
      const exit = yield* Effect.exit(Effect.timeout(attempt, settings.stuckAfterMs))
      if (Exit.isSuccess(exit)) return { _tag: "Done", result: { ...exit.value, attempts } } as const
      if (Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.interrupt
      const failure = classify(exit.cause)
      if (failure._tag === "Split") {
        const half = Math.floor(claim.size / 2)
        const mid = half < 1 ? undefined : (yield* exec<{ mid: string | null }>(
          splitPoint(target, { partition: claim.partition, lo: claim.lo, hi: claim.hi, half })
        ).pipe(Effect.orElseSucceed(() => [])))[0]?.mid ?? undefined
        if (mid === undefined || mid === claim.hi || splits >= 20) {
          return { _tag: "Failed", error: `${failure.message} (a batch of ${claim.size} row(s) cannot be split further)` } as const
        }
        const message = `statement timeout with ${claim.size} rows: split at ${mid}`
        yield* RunStore.recordAttempt(claim.batchId, message, mid).pipe(Effect.ignore)
        yield* countBatch("split")
        yield* settings.emit({ _tag: "BatchSplit", runId, batchId: claim.batchId, fromSize: claim.size, toSize: half, error: failure.message })
        claim = { ...claim, hi: mid, size: half }
        splits++
        attempts++
        continue
      }
      if (failure._tag === "Transient" && attempts < settings.maxAttempts) {
        const delayMs = settings.retryDelayMs * 2 ** (attempts - 1) + Math.floor(Math.random() * settings.retryDelayMs)
        yield* RunStore.recordAttempt(claim.batchId, failure.message, null).pipe(Effect.ignore)
        yield* countBatch("retried")
        yield* settings.emit({ _tag: "BatchRetrying", runId, batchId: claim.batchId, attempt: attempts + 1, delayMs, error: failure.message })
        yield* Effect.sleep(delayMs)
        attempts++
        continue
      }
      return {
        _tag: "Failed",
        error: `${failure.message}${failure._tag === "Transient" ? ` (after ${attempts} attempts)` : ""}`
      } as const
    }
  })

/** Wait while the database is unhealthy; `false` when a stop was requested meanwhile. */
const waitUntilHealthy = (target: ResolvedTarget, runId: string, settings: Settings, noted: Set<string>) =>
  Effect.gen(function*() {
    if (settings.health === false) return true
    let waitMs = Math.min(1_000, settings.maxThrottleMs)
    while (true) {
      const report = yield* checkHealth(target.oid, settings.health)
      for (const note of report.notes) {
        if (noted.has(note)) continue
        noted.add(note) // once per run, not once per batch
        yield* Effect.logWarning({ event: "stage_migration.health_unchecked", runId, note })
      }
      if (report.healthy) return true
      yield* settings.emit({ _tag: "Throttled", runId, reasons: report.reasons, waitMs })
      if (yield* settings.shouldStop) return false
      yield* Effect.sleep(waitMs)
      if (yield* settings.shouldStop) return false
      waitMs = Math.min(waitMs * 2, settings.maxThrottleMs)
    }
  })

const unknownsWithSuggestions = (runId: string, settings: Settings, limit: number) =>
  Effect.gen(function*() {
    const rows = yield* RunStore.readUnknowns(runId, limit)
    const values = rows.map((r): UnknownValue & { md5: string } => {
      const result = r.kind === "unknown-stage" ? normalizeStage(r.raw_value, settings.vocabulary) : undefined
      return {
        kind: r.kind,
        value: r.raw_value,
        rows: Number(r.rows),
        suggestions: result?._tag === "Unknown" ? result.suggestions : [],
        examplePk: r.example_pk,
        md5: r.value_md5
      }
    })
    yield* RunStore.storeSuggestions(runId, values.map((v) => ({ kind: v.kind, md5: v.md5, suggestions: v.suggestions })))
    return values.map(({ md5: _, ...v }) => v)
  })

/**
 * Normalise a target's stored values (see the module header). Dry-run is `preview`; this writes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { layerFromUrl, migrate } from "stage-normalization/migration"
 * const program = migrate({ table: "portfolio_companies", column: "stage", sleepMs: 0 }).pipe(
 *   Effect.map((s) => `${s.status}: ${s.totals.updated} rows normalised`),
 *   Effect.provide(layerFromUrl(process.env.DATABASE_URL))
 * )
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const migrate = Effect.fn("Migration.run")(function*(options: MigrateOptions) {
  const started = Date.now()
  const settings = yield* settingsOf(options)
  const target = yield* resolveTarget(options)
  const fundId = options.fundId ?? null
  if (fundId !== null) yield* checkFundId(target, fundId)
  const requestedBy = options.batchBy ?? "auto"
  if (requestedBy === "fund" && target.fund === undefined) {
    return yield* invalid(`--batch-by fund needs a fund column, and ${target.label} has none`)
  }
  const batchBy: "id" | "fund" = fundId !== null || requestedBy === "fund" ||
      (requestedBy === "auto" && target.fund !== undefined && target.hasFundIdIndex)
    ? "fund"
    : "id"
  const owner = options.owner ?? defaultOwner()

  // Read-only look at the target's runs before anything is written (not even the tracking schema):
  // --resume with nothing to resume, an unfinished rollback, and the backup gate refuse here.
  const sql = yield* SqlClient.SqlClient
  const tracked = yield* sql<{ ok: boolean }>`SELECT to_regclass('stage_migration_runs') IS NOT NULL AS ok`.pipe(
    Effect.mapError(sqlFailed("looking for the tracking tables"))
  )
  const pending = tracked[0]?.ok === true ? yield* RunStore.findIncompleteRun(target) : undefined
  const pendingCancelled = pending === undefined
    ? false
    : yield* RunStore.readCheckpoint(pending.runId).pipe(Effect.map((c) => c.cancelRequested), Effect.orElseSucceed(() => false))
  const nothingToResume = () =>
    new MigrationError({
      reason: new NothingToResume({
        detail: `${target.label}.${target.column.name} has no incomplete run to resume (run without --resume to start one)`
      })
    })
  const rollbackPending = (run: RunStore.RunRow) =>
    new MigrationError({
      reason: new RunInProgress({
        detail: `run ${run.runId} on ${target.label}.${target.column.name} is an unfinished rollback of run ${run.rollbackOf}; ` +
          `finish it (\`rollback --run ${run.rollbackOf} --apply\`) or cancel it (\`migrate --cancel --run ${run.runId}\`) first`
      })
    })
  if (pending !== undefined && pending.operation === "rollback" && !pendingCancelled) return yield* rollbackPending(pending)
  if (options.resume === true && (pending === undefined || pendingCancelled)) return yield* nothingToResume()
  const gate = options.backupCheck
  let backup: RunSummary["backup"] = gate === undefined ? null : "skip" in gate ? { skipped: gate.skip } : null
  const checkGate = Effect.gen(function*() {
    if (gate !== undefined && !("skip" in gate)) backup = yield* requireFreshBackup(target.label, gate)
  })
  let gateChecked = false
  if (pending === undefined || pendingCancelled) {
    yield* checkGate
    gateChecked = true
  }

  yield* ensureTrackingSchema
  const twin = target.kind === "scalar" ? (yield* ensureSqlTwin(settings.vocabulary, options.twin ?? {})).twin.qualifiedName : ""

  return yield* Effect.scoped(Effect.gen(function*() {
    const lock = yield* acquireTargetLock(target)
    let incomplete = yield* RunStore.findIncompleteRun(target)
    if (incomplete !== undefined && (yield* RunStore.readCheckpoint(incomplete.runId)).cancelRequested) {
      // its runner died before it could honour the cancel request: honour it now
      yield* RunStore.closeRun(incomplete.runId, "cancelled", "cancelled by operator")
      incomplete = undefined
    }
    if (incomplete !== undefined && incomplete.operation === "rollback") return yield* rollbackPending(incomplete)
    let runId: string
    let resumed = false
    let interruptedBatches: ReadonlyArray<string> = []
    let runBatchBy = batchBy
    if (incomplete !== undefined) {
      const stored = yield* RunStore.readParameters(incomplete.runId)
      const storedForce = (stored["forceUnknown"] ?? undefined) as ForceUnknownOptions | undefined
      const mismatch = incomplete.kind !== target.kind
        ? `kind ${incomplete.kind}`
        : incomplete.idColumn !== target.id.name
        ? `id column ${incomplete.idColumn}`
        : incomplete.fundId !== fundId
        ? incomplete.fundId === null ? "all funds" : `--fund-id ${incomplete.fundId}`
        : options.forceUnknown !== undefined && !sameForce(options.forceUnknown, storedForce)
        ? storedForce === undefined ? "no --force-unknown" : "another --force-unknown mapping"
        : undefined
      if (mismatch !== undefined) {
        return yield* new MigrationError({
          reason: new ResumeMismatch({
            detail: `run ${incomplete.runId} on ${target.label}.${target.column.name} is ${incomplete.status} with ${mismatch}; ` +
              `resume it with the same options, or cancel it with \`migrate --cancel --run ${incomplete.runId}\``
          })
        })
      }
      settings.force = storedForce
      runId = incomplete.runId
      runBatchBy = incomplete.batchBy
      resumed = true
      backup = null
      interruptedBatches = yield* RunStore.resumeRun(runId, owner)
    } else {
      if (options.resume === true) return yield* nothingToResume()
      if (!gateChecked) yield* checkGate
      runId = yield* RunStore.createRun({
        target,
        fundId,
        batchBy,
        batchSize: settings.sizing.initial,
        vocabulary: settings.vocabulary,
        owner,
        parameters: {
          batchSize: settings.sizing.initial,
          minBatchSize: settings.sizing.min,
          maxBatchSize: settings.sizing.max,
          targetBatchMs: settings.sizing.targetMs,
          adaptive: settings.sizing.adaptive,
          sleepMs: settings.sleepMs,
          statementTimeoutMs: settings.statementTimeoutMs,
          lockTimeoutMs: settings.lockTimeoutMs,
          twin: twin === "" ? null : twin,
          forceUnknown: settings.force ?? null,
          backup,
          ...options.extraParameters
        }
      })
    }
    const close = (status: RunSummary["status"], error: string | null, batches: number) =>
      Effect.gen(function*() {
        yield* RunStore.closeRun(runId, status, error)
        const run = yield* RunStore.readRun(runId)
        const unknowns = yield* unknownsWithSuggestions(runId, settings, options.unknownsLimit ?? 100)
        const forced = settings.force === undefined ? [] : yield* RunStore.readForced(runId, options.unknownsLimit ?? 100)
        const totals = { scanned: run.rowsScanned, updated: run.rowsUpdated, skipped: run.rowsSkipped, failed: run.rowsFailed }
        const durationMs = Date.now() - started
        yield* settings.emit({ _tag: "RunFinished", runId, status, totals, durationMs, error })
        return {
          runId,
          status,
          target: target.label,
          column: target.column.name,
          kind: target.kind,
          batchBy: runBatchBy,
          fundId,
          resumed,
          interruptedBatches,
          rowsTotal: run.rowsTotal,
          totals,
          batches,
          durationMs,
          unknowns,
          forced,
          backup,
          error
        } satisfies RunSummary as RunSummary
      })

    let batches = 0
    const body = Effect.gen(function*() {
      const run = yield* RunStore.readRun(runId)
      const checkpoint = yield* RunStore.readCheckpoint(runId)
      const maxNo = yield* sql.unsafe<{ n: number }>(
        "SELECT coalesce(max(batch_no), 0)::int AS n FROM stage_migration_batches WHERE run_id = $1::bigint",
        [runId]
      )
      let batchNo = (maxNo[0]?.n ?? 0) + 1
      let size = Math.min(settings.sizing.max, Math.max(settings.sizing.min, resumed ? checkpoint.batchSize : settings.sizing.initial))
      const totals = { scanned: run.rowsScanned, updated: run.rowsUpdated, skipped: run.rowsSkipped, failed: run.rowsFailed }
      const sessionStartScanned = totals.scanned
      const sessionStarted = Date.now()
      yield* settings.emit({
        _tag: "RunStarted",
        runId,
        target: target.label,
        column: target.column.name,
        kind: target.kind,
        batchBy: runBatchBy,
        fundId,
        resumed,
        rowsTotal: run.rowsTotal,
        alreadyScanned: totals.scanned,
        batchSize: size
      })
      if (interruptedBatches.length > 0) yield* settings.emit({ _tag: "StuckBatchesRecovered", runId, batchIds: interruptedBatches })

      const partitions: ReadonlyArray<Partition> = runBatchBy === "fund"
        ? (yield* RunStore.runFunds(runId)).map((fund): Partition => ({ _tag: "Fund", fund }))
        : [ALL_ROWS]
      const healthNotes = new Set<string>()
      let start = 0
      let startLo = checkpoint.lastId
      if (checkpoint.lastId !== null && runBatchBy === "fund") {
        start = partitions.findIndex((p) => p._tag === "Fund" && p.fund === checkpoint.fundPosition)
        if (start < 0) {
          start = 0
          startLo = null
        }
      }
      for (let i = start; i < partitions.length; i++) {
        const partition = partitions[i]!
        let lo = i === start ? startLo : null
        while (true) {
          if (yield* settings.shouldStop) return yield* close("paused", null, batches)
          if (yield* RunStore.cancelRequested(runId)) return yield* close("cancelled", "cancelled by operator", batches)
          if (!(yield* lock.stillHeld)) {
            return yield* new MigrationError({
              reason: new LockLost({
                detail: `lost the lock on ${target.label}.${target.column.name} (connection closed?); run ${runId} stays incomplete — resume it`
              })
            })
          }
          if (!(yield* waitUntilHealthy(target, runId, settings, healthNotes))) return yield* close("paused", null, batches)
          // a lost connection or a deadlock while claiming is retried like a batch's transient error
          const claimed = yield* exec<{ batch_id: string; range_end: string }>(
            claimBatch(target, { runId, batchNo, partition, lo, limit: size })
          ).pipe(Effect.retry({
            times: settings.maxAttempts - 1,
            schedule: Schedule.spaced(settings.retryDelayMs),
            while: (e) => SqlError.isSqlError(e) && e.reason.isRetryable
          }))
          const row = claimed[0]
          if (row === undefined) break
          const claim: Claim = { batchId: row.batch_id, batchNo, partition, lo, hi: row.range_end, size }
          batchNo++
          const outcome = yield* executeBatch(target, runId, twin, claim, settings)
          if (outcome._tag === "Failed") {
            yield* RunStore.failBatch(claim.batchId, outcome.error).pipe(Effect.ignore)
            yield* countBatch("failed")
            return yield* close("failed", `batch ${claim.batchId} failed: ${outcome.error}`, batches)
          }
          const r = outcome.result
          yield* countBatch("completed")
          yield* countRows(r)
          batches++
          totals.scanned += r.scanned
          totals.updated += r.updated
          totals.skipped += r.skipped
          totals.failed += r.failed
          lo = r.hi
          size = r.nextSize
          const elapsed = Math.max(1, Date.now() - sessionStarted)
          const rate = ((totals.scanned - sessionStartScanned) * 1000) / elapsed
          const remaining = Math.max(0, run.rowsTotal - totals.scanned)
          yield* settings.emit({
            _tag: "BatchCompleted",
            runId,
            batchId: claim.batchId,
            batchNo: claim.batchNo,
            fundId: partition._tag === "Fund" ? partition.fund : null,
            rangeStart: claim.lo,
            rangeEnd: r.hi,
            scanned: r.scanned,
            updated: r.updated,
            skipped: r.skipped,
            failed: r.failed,
            durationMs: r.durationMs,
            attempts: r.attempts,
            totals: { ...totals },
            rowsTotal: run.rowsTotal,
            rowsPerSecond: Math.round(rate),
            etaSeconds: rate > 0 ? Math.round(remaining / rate) : null,
            nextBatchSize: size
          })
          if (settings.sleepMs > 0) yield* Effect.sleep(settings.sleepMs)
        }
      }
      return yield* close("succeeded", null, batches)
    })
    return yield* body.pipe(
      Effect.mapError(sqlFailed(`migrating ${target.label}.${target.column.name} (run ${runId})`)),
      Effect.onInterrupt(() => RunStore.closeRun(runId, "paused", null).pipe(Effect.ignore))
    )
  }))
})
