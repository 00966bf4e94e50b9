/**
 * The target-side halves of the claim protocol (`RangeLeases`) for a normalisation run: how its
 * ranges are cut — `(lo, hi]` by keyset over the id within a partition — and where a range that
 * timed out is halved; and the commit step every executor ends its batch with.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import type { SqlClient } from "effect/sql"
import type { RunTotals } from "../MigrationEvent.ts"
import type { ResolvedTarget } from "../schema/Target.ts"
import { exec, type Partition } from "../sql/BoundStatement.ts"
import type { ClaimedBatch } from "./BatchDriver.ts"
import { finishBatch, nextRangeEnd, splitPoint } from "./BatchStatements.ts"
import type { RangePlanner, WorkerIdentity } from "./RangeLeases.ts"

/**
 * The planner of a target's run over `partitions` (all rows, or one partition per fund).
 *
 * @example
 * ```ts
 * import { targetPlanner } from "./RangeClaims.ts" // internal: not part of the package's API
 * // const planner = targetPlanner(target, [ALL_ROWS])
 * ```
 *
 * @since 0.3.0
 * @category claims
 */
export const targetPlanner = (target: ResolvedTarget, partitions: ReadonlyArray<Partition>): RangePlanner<SqlClient.SqlClient> => ({
  partitions,
  nextRangeEnd: (partition, lo, size) =>
    exec<{ range_end: string }>(nextRangeEnd(target, { partition, lo, limit: size })).pipe(
      Effect.map((rows) => rows[0]?.range_end)
    )
})

/**
 * The id that keeps `half` rows of a batch (a statement timeout halves the batch).
 *
 * @example
 * ```ts
 * import { splitAt } from "./RangeClaims.ts" // internal: not part of the package's API
 * // yield* splitAt(target, batch, 2_500) // => "1234" or undefined
 * ```
 *
 * @since 0.2.0
 * @category claims
 */
export const splitAt = (target: ResolvedTarget, batch: ClaimedBatch, half: number) =>
  exec<{ mid: string | null }>(splitPoint(target, { partition: batch.partition, lo: batch.lo, hi: batch.hi, half })).pipe(
    Effect.map((rows) => rows[0]?.mid ?? undefined),
    Effect.orElseSucceed(() => undefined)
  )

/**
 * Close a batch in its transaction (`BatchStatements.finishBatch`); returns the run's counters
 * after it.
 *
 * @example
 * ```ts
 * import { commitBatch } from "./RangeClaims.ts" // internal: every executor ends its batch with it
 * // const run = yield* commitBatch(worker, batch, counts, nextSize)
 * ```
 *
 * @since 0.3.0
 * @category claims
 */
export const commitBatch = (who: WorkerIdentity, batch: ClaimedBatch, counts: RunTotals, nextBatchSize: number) =>
  exec<RunTotals>(finishBatch({ runId: who.runId, batchId: batch.batchId, worker: who.workerId, nextBatchSize, ...counts })).pipe(
    Effect.map((rows): RunTotals => {
      const run = rows[0]
      return run === undefined
        ? counts
        : { scanned: Number(run.scanned), updated: Number(run.updated), skipped: Number(run.skipped), failed: Number(run.failed) }
    })
  )
