/**
 * How a normalisation run takes its next range and cuts a range that timed out: both kinds of
 * target (scalar and distribution) claim `(lo, hi]` by keyset over the id within a partition,
 * recording the batch as `running` before it executes (`BatchStatements.claimBatch`).
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import type { ResolvedTarget } from "../schema/Target.ts"
import { exec } from "../sql/BoundStatement.ts"
import type { ClaimedBatch } from "./BatchDriver.ts"
import type { Partition } from "../sql/BoundStatement.ts"
import { claimBatch, splitPoint } from "./BatchStatements.ts"

/**
 * Claim the next range of a partition after `lo` (at most `size` rows); `undefined` at its end.
 *
 * @example
 * ```ts
 * import { claimRange } from "./RangeClaims.ts" // internal: not part of the package's API
 * // yield* claimRange(target, runId, { batchNo: 1, partition: ALL_ROWS, lo: null, size: 5_000 })
 * ```
 *
 * @since 0.2.0
 * @category claims
 */
export const claimRange = (
  target: ResolvedTarget,
  runId: string,
  request: { readonly batchNo: number; readonly partition: Partition; readonly lo: string | null; readonly size: number }
) =>
  exec<{ batch_id: string; range_end: string }>(
    claimBatch(target, { runId, batchNo: request.batchNo, partition: request.partition, lo: request.lo, limit: request.size })
  ).pipe(Effect.map((rows) => (rows[0] === undefined ? undefined : { batchId: rows[0].batch_id, hi: rows[0].range_end })))

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
