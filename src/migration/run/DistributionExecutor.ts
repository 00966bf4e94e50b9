/**
 * The executor of a distribution target (a JSONB column of stage weights): each batch reads its
 * range, normalises every value in TypeScript (`DistributionPlan`: canonical stages, merged
 * duplicates summed exactly, every other value kept as its exact stored text — the stored JSON
 * text is never round-tripped through `JSON.parse`/`JSON.stringify`), writes the changed values
 * back conditionally on the row still holding what was read, re-reads the rows a concurrent writer changed meanwhile (up to three more rounds)
 * and records the values it could not normalise — all in one transaction.
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
import { batchTimeouts, recordUnknowns } from "./BatchStatements.ts"
import { planForcedDistributionJson } from "./DistributionPlan.ts"
import { readDistributions, writeDistributions } from "./DistributionStatements.ts"
import { commitBatch, splitAt, targetPlanner } from "./RangeClaims.ts"
import { renewLease, type WorkerIdentity } from "./RangeLeases.ts"
import type { Partition } from "../sql/BoundStatement.ts"
import type { Settings } from "./RunSettings.ts"

type Unknowns = Map<string, { kind: string; value: string; rows: number; example: string }>

interface RoundPlan {
  readonly ids: Array<string>
  readonly olds: Array<string>
  readonly news: Array<string>
  readonly reasons: Array<string>
  scanned: number
  skipped: number
}

/** Plan one round: the rows to write (all of the range, or the ones still pending after a race). */
const planRound = (
  rows: ReadonlyArray<{ readonly id: string; readonly value: string | null }>,
  pending: ReadonlySet<string> | undefined,
  settings: Settings,
  unknowns: Unknowns
): RoundPlan => {
  const plan: RoundPlan = { ids: [], olds: [], news: [], reasons: [], scanned: 0, skipped: 0 }
  for (const row of rows) {
    if (pending !== undefined && !pending.has(row.id)) continue
    plan.scanned++
    if (row.value === null) continue
    const planned = planForcedDistributionJson(row.value, settings.force, settings.vocabulary)
    if (planned._tag === "Changed") {
      plan.ids.push(row.id)
      plan.olds.push(row.value)
      plan.news.push(planned.json)
      plan.reasons.push(planned.reason)
    } else if (planned._tag === "Skipped") {
      plan.skipped++
      const seen = new Set<string>()
      for (const issue of planned.issues) {
        const key = `${issue.kind}\u0000${issue.value}`
        if (seen.has(key)) continue
        seen.add(key)
        const entry = unknowns.get(key)
        if (entry === undefined) unknowns.set(key, { kind: issue.kind, value: issue.value, rows: 1, example: row.id })
        else entry.rows++
      }
    }
  }
  return plan
}

/** One attempt of a distribution batch, in one transaction. */
const distributionAttempt = (target: ResolvedTarget, who: WorkerIdentity, batch: ClaimedBatch, settings: Settings) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const runId = who.runId
    return yield* sql.withTransaction(Effect.gen(function*() {
      const started = yield* nowMillis
      yield* renewLease(who, batch.batchId)
      yield* exec(batchTimeouts(settings))
      const range = { partition: batch.partition, lo: batch.lo, hi: batch.hi }
      const unknowns: Unknowns = new Map()
      const counts = { scanned: 0, updated: 0, skipped: 0, failed: 0 }
      let pending: ReadonlySet<string> | undefined
      for (let round = 0; round < 4; round++) {
        const rows = yield* exec<{ id: string; value: string | null }>(readDistributions(target, range))
        // later rounds re-plan only the raced rows: scanned once, but a raced row may now be skipped
        const plan = planRound(rows, pending, settings, unknowns)
        if (round === 0) counts.scanned = plan.scanned
        counts.skipped += plan.skipped
        if (plan.ids.length === 0) {
          counts.failed = 0
          break
        }
        const written = yield* exec<{ id: string }>(
          writeDistributions(target, { runId, batchId: batch.batchId, lo: batch.lo, hi: batch.hi, ...plan })
        )
        counts.updated += written.length
        const done = new Set(written.map((r) => r.id))
        const left = plan.ids.filter((id) => !done.has(id))
        counts.failed = left.length
        if (left.length === 0) break
        pending = new Set(left)
      }
      if (unknowns.size > 0) yield* exec(recordUnknowns(runId, Array.from(unknowns.values())))
      const durationMs = yield* elapsedSince(started)
      const nextSize = nextBatchSize(batch.size, durationMs, settings.sizing)
      const run = yield* commitBatch(who, batch, counts, nextSize)
      return { ...counts, hi: batch.hi, nextSize, durationMs, run } satisfies ExecutedBatch
    }))
  })

/**
 * The ranges, execute and split steps of a distribution target's run.
 *
 * @example
 * ```ts
 * import { distributionExecutor } from "./DistributionExecutor.ts" // internal: the runner plugs it into the batch driver
 * // drive(distributionExecutor(target, [ALL_ROWS], settings), options)
 * ```
 *
 * @since 0.2.0
 * @category executors
 */
export const distributionExecutor = (
  target: ResolvedTarget,
  partitions: ReadonlyArray<Partition>,
  settings: Settings
): BatchExecutor<SqlClient.SqlClient> => ({
  planner: targetPlanner(target, partitions),
  execute: (batch, who) => distributionAttempt(target, who, batch, settings),
  splitPoint: (batch, half) => splitAt(target, batch, half)
})
