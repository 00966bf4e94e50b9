/**
 * What a normalisation run is asked to do (`MigrateOptions`, the CLI's `migrate` flags) and the
 * validated settings the runner works from: every number checked and defaulted once, before
 * anything touches the database, so a bad flag fails with `InvalidOptions` and writes nothing.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import type { SqlTwinOptions } from "../../normalizer/SqlTwin.ts"
import { stageVocabulary } from "../../normalizer/StageVocabulary.ts"
import type { Vocabulary } from "../../normalizer/Vocabulary.ts"
import type { BackupGateOptions } from "../backup/BackupGate.ts"
import type { MigrationEvent } from "../MigrationEvent.ts"
import { MigrationError } from "../MigrationError.ts"
import { InvalidOptions } from "../MigrationErrorReason.ts"
import type { TargetSpec } from "../schema/Target.ts"
import { type BatchSizing, DEFAULT_BATCH_SIZING } from "./AdaptiveBatchSize.ts"
import { DEFAULT_HEALTH_THRESHOLDS, type HealthThresholds } from "./DatabaseHealth.ts"
import type { ForceUnknownOptions } from "./ForceUnknown.ts"

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
  /**
   * Workers in this process (default 1), each with its own connection: they share the run with
   * each other and with the workers of any other process working on it (see `RangeLeases`).
   */
  readonly workers?: number | undefined
  /**
   * Join this run (it must be the target's incomplete run): `migrate --join <run-id>`. The
   * settings left `undefined` are the run's, a differing one is refused (`InvalidOptions`), and
   * the backup gate is not run (see `JoinedRun`).
   */
  readonly joinRunId?: string | undefined
  /** How long a claimed batch stays a worker's without renewal before others take it (default 30 s). */
  readonly leaseMs?: number | undefined
  /** A ceiling on the rows per second of all the run's workers together, in every process (absent: none). */
  readonly maxRowsPerSecond?: number | undefined
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

/** The validated form of {@link MigrateOptions}. */
export interface Settings {
  readonly sizing: BatchSizing
  readonly sleepMs: number
  readonly workers: number
  readonly leaseMs: number
  readonly maxRowsPerSecond: number | undefined
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

export const invalid = (detail: string) => new MigrationError({ reason: new InvalidOptions({ detail }) })

const positiveInt = (name: string, value: number | undefined, fallback: number, min = 1) =>
  value === undefined
    ? Effect.succeed(fallback)
    : Number.isInteger(value) && value >= min
    ? Effect.succeed(value)
    : Effect.fail(invalid(`${name} must be an integer ≥ ${min}, got ${value}`))

/**
 * What is wrong with the batch sizes a run is given (integers assumed), with the defaults filled
 * in as {@link settingsOf} fills them; `undefined` when min ≤ batch size ≤ max.
 *
 * @example
 * ```ts
 * import { batchSizeProblem } from "./RunSettings.ts" // internal: not part of the package's API
 * batchSizeProblem({ minBatchSize: 5000, maxBatchSize: 100 })
 * // => "--min-batch-size 5000 is larger than --max-batch-size 100"
 * batchSizeProblem({ batchSize: 200 }) // => undefined (min 100 ≤ 200 ≤ max 50,000)
 * ```
 * @since 0.3.0
 * @category validation
 */
export const batchSizeProblem = (
  options: Pick<MigrateOptions, "batchSize" | "minBatchSize" | "maxBatchSize">
): string | undefined => {
  const initial = options.batchSize ?? DEFAULT_BATCH_SIZING.initial
  const min = options.minBatchSize ?? Math.min(DEFAULT_BATCH_SIZING.min, initial)
  const max = options.maxBatchSize ?? Math.max(DEFAULT_BATCH_SIZING.max, initial)
  if (min > max) return `--min-batch-size ${min} is larger than --max-batch-size ${max}`
  if (min > initial || initial > max) {
    return `batch sizes must satisfy min ≤ batch size ≤ max (got ${min} ≤ ${initial} ≤ ${max}): ` +
      `give --batch-size within --min-batch-size..--max-batch-size`
  }
  return undefined
}

/** Validate and default the options (fails with `InvalidOptions`). */
export const settingsOf = (options: MigrateOptions) =>
  Effect.gen(function*() {
    const initial = yield* positiveInt("--batch-size", options.batchSize, DEFAULT_BATCH_SIZING.initial)
    const min = yield* positiveInt("--min-batch-size", options.minBatchSize, Math.min(DEFAULT_BATCH_SIZING.min, initial))
    const max = yield* positiveInt("--max-batch-size", options.maxBatchSize, Math.max(DEFAULT_BATCH_SIZING.max, initial))
    const sizes = batchSizeProblem({ batchSize: initial, minBatchSize: min, maxBatchSize: max })
    if (sizes !== undefined) return yield* invalid(sizes)
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
      workers: yield* positiveInt("--workers", options.workers, 1),
      leaseMs: yield* positiveInt("--lease-ms", options.leaseMs, 30_000, 100),
      maxRowsPerSecond: options.maxRowsPerSecond === undefined
        ? undefined
        : yield* positiveInt("--max-rows-per-second", options.maxRowsPerSecond, 0),
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

/** Who runs it when the options do not say: `pid <pid>@<host>`. */
export const defaultOwner = (): string => {
  const proc = (globalThis as { process?: { pid?: number; env?: Record<string, string | undefined> } }).process
  const host = proc?.env?.["HOSTNAME"] ?? "localhost"
  return `pid ${proc?.pid ?? "?"}@${host}`
}

