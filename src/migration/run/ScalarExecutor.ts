/**
 * The executor of a scalar target (a text or enum column holding one stage): the batch is
 * normalised by the SQL twin inside PostgreSQL, in one statement per round (see
 * `BatchStatements.scalarBatch`), and rows a concurrent writer changed meanwhile are re-scanned
 * up to three times in the same transaction. `--force-unknown` mappings are computed in
 * TypeScript first and bound into the statement.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { elapsedSince, nowMillis } from "../../shared/WallClock.ts"
import type { ResolvedTarget } from "../schema/Target.ts"
import { exec } from "../sql/BoundStatement.ts"
import { nextBatchSize } from "./AdaptiveBatchSize.ts"
import type { BatchExecutor, ClaimedBatch, ExecutedBatch } from "./BatchDriver.ts"
import { batchTimeouts, type ForcedValues, scalarBatch, unknownValuesInRange } from "./BatchStatements.ts"
import { forcedStage } from "./ForceUnknown.ts"
import { commitBatch, splitAt, targetPlanner } from "./RangeClaims.ts"
import { renewLease, type WorkerIdentity } from "./RangeLeases.ts"
import type { Partition } from "../sql/BoundStatement.ts"
import type { Settings } from "./RunSettings.ts"

/** The forced mappings of a batch's unknown values (`--force-unknown`), computed in TypeScript. */
const forcedValues = (target: ResolvedTarget, twin: string, batch: ClaimedBatch, settings: Settings) =>
  Effect.gen(function*() {
    const force = settings.force
    if (force === undefined) return undefined
    const values = yield* exec<{ value: string }>(
      unknownValuesInRange(target, { twin, partition: batch.partition, lo: batch.lo, hi: batch.hi })
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

type RoundCounts = { scanned: number; nulls: number; unknown: number; candidates: number; updated: number }

/** One attempt of a scalar batch, in one transaction. */
const scalarAttempt = (target: ResolvedTarget, who: WorkerIdentity, twin: string, batch: ClaimedBatch, settings: Settings) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      const started = yield* nowMillis
      yield* renewLease(who, batch.batchId)
      yield* exec(batchTimeouts(settings))
      const forced = settings.force === undefined ? undefined : yield* forcedValues(target, twin, batch, settings)
      const round = (countUnknowns: boolean) =>
        exec<RoundCounts>(scalarBatch(target, {
          twin,
          runId: who.runId,
          batchId: batch.batchId,
          partition: batch.partition,
          lo: batch.lo,
          hi: batch.hi,
          countUnknowns,
          forced
        })).pipe(Effect.map((rows) => rows[0]!))
      const first = yield* round(true)
      let updated = first.updated
      let raced = first.candidates - first.updated
      for (let again = 0; raced > 0 && again < 3; again++) {
        const next = yield* round(false)
        updated += next.updated
        raced = next.candidates - next.updated
      }
      const durationMs = yield* elapsedSince(started)
      const nextSize = nextBatchSize(batch.size, durationMs, settings.sizing)
      const counts = { scanned: first.scanned, updated, skipped: first.unknown, failed: raced }
      const run = yield* commitBatch(who, batch, counts, nextSize)
      return { ...counts, hi: batch.hi, nextSize, durationMs, run } satisfies ExecutedBatch
    }))
  })

/**
 * The ranges, execute and split steps of a scalar target's run.
 *
 * @example
 * ```ts
 * import { scalarExecutor } from "./ScalarExecutor.ts" // internal: the runner plugs it into the batch driver
 * // drive(scalarExecutor(target, [ALL_ROWS], twin, settings), options)
 * ```
 *
 * @since 0.2.0
 * @category executors
 */
export const scalarExecutor = (
  target: ResolvedTarget,
  partitions: ReadonlyArray<Partition>,
  twin: string,
  settings: Settings
): BatchExecutor<SqlClient.SqlClient> => ({
  planner: targetPlanner(target, partitions),
  execute: (batch, who) => scalarAttempt(target, who, twin, batch, settings),
  splitPoint: (batch, half) => splitAt(target, batch, half)
})
