/**
 * The shape of a benchmark suite. `bench/run.ts` discovers every `bench/suites/*.ts` module,
 * runs its tasks with tinybench **in the same process and run**, reports mean / p50 / p99 and
 * each task's ratio to the suite's floor, writes `baselines/<suite>.json` on `--update` and
 * compares against it on `--compare`.
 */

export interface BenchTask {
  /** Stable name; baselines are keyed by it. */
  readonly name: string
  /** The measured function: synchronous, no Effect allocation unless that is what is measured. */
  readonly fn: () => unknown
  /** Exactly one task per suite is the floor every other task's ratio is taken against. */
  readonly floor?: boolean
  /**
   * Operations one `fn` call performs (default 1). Sub-microsecond work is timed in batches so
   * the timer's resolution does not dominate; figures are reported per operation.
   */
  readonly batch?: number
}

/** A relation the README records ("our mean ≤ 0.5× Unleash's mean"); reported, not asserted. */
export interface BenchGoal {
  readonly description: string
  readonly task: string
  /** Another task of the suite, or "floor". */
  readonly against: string
  readonly metric: "mean" | "p99"
  readonly maxRatio: number
}

export interface BenchSuite {
  readonly name: string
  readonly description: string
  readonly tasks: ReadonlyArray<BenchTask>
  readonly goals?: ReadonlyArray<BenchGoal>
  /** Absolute p99 budgets in milliseconds (the seeds' budgets), reported with their margin. */
  readonly budgetsMs?: Readonly<Record<string, number>>
  /** Measuring time per task in ms (default 300). */
  readonly timeMs?: number
}
