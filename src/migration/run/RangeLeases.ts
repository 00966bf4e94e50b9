/**
 * The claim/lease protocol that lets many workers — fibers of one process, or processes on many
 * machines — share one run, with PostgreSQL's row locks as the only coordination engine.
 *
 * A worker asks for work with {@link claimNext}, in one short transaction:
 *
 * 1. **Reclaim** the oldest open batch nobody is working on: `pending` (the rest of a split
 *    batch), `failed` and unresolved (a run resumed after a failure), or `running` under a dead
 *    owner — its lease expired, or its owner's session lock is free (`pg_try_advisory_xact_lock`
 *    succeeds only when the session holding `stage-normalization:session:<owner>` is gone).
 *    `SELECT … FOR UPDATE SKIP LOCKED` skips the batches other workers are claiming or executing
 *    (an executing batch's row is locked by its own transaction, see {@link renewLease}). A dead
 *    owner's batch is marked `failed` / `redone` and its range handed out again as a new batch:
 *    its transaction rolled back, so nothing of it was applied.
 * 2. Otherwise **plan** the next range after the frontier in `stage_migration_control` (locked
 *    `FOR UPDATE` for the few milliseconds a keyset `LIMIT` takes), record it as a `running` batch
 *    owned by the worker with a lease, and move the frontier past it.
 * 3. When the frontier has reached the end: `Done` if no batch is open any more, else `Wait`
 *    (another worker is still on a batch that may yet come back).
 *
 * The batch's own transaction starts with {@link renewLease}: it extends the lease and keeps the
 * batch row locked until commit, so a batch is applied by exactly one transaction — a worker
 * whose lease was taken finds 0 rows, fails with `LeaseTaken` and leaves the range to its new
 * owner.
 *
 * Why not pg-boss or graphile-worker: both are job queues with their own schema and polling
 * workers; a range here is not a job (it is planned lazily from a keyset frontier, split on
 * timeouts, and its audit must commit with it), and both would add a dependency and a second
 * schema to every host for the one `SKIP LOCKED` query they would run for us.
 *
 * @since 0.3.0
 */
import { Data, Effect } from "effect"
import { SqlClient } from "effect/sql"
import { exec, type Partition } from "../sql/BoundStatement.ts"

/**
 * A range of rows a batch owns: `(lo, hi]` of the id within one partition.
 *
 * @since 0.2.0
 * @category models
 */
export interface ClaimedBatch {
  readonly batchId: string
  readonly batchNo: number
  readonly partition: Partition
  readonly lo: string | null
  readonly hi: string
  readonly size: number
}

/**
 * Who is claiming: the run, the worker, the session whose advisory lock proves it alive, and the
 * lease it takes.
 *
 * @since 0.3.0
 * @category models
 */
export interface WorkerIdentity {
  readonly runId: string
  /** `<session>#<n>`: unique per worker. */
  readonly workerId: string
  /** The token of the session lock the worker's process holds (`TargetLock.sessionLockName`). */
  readonly session: string
  readonly leaseMs: number
  /** On the embedded database (one session) every other owner is dead: no lock to probe. */
  readonly embedded: boolean
}

/**
 * How a run's ranges are found: its partitions in order and the end of the next range.
 *
 * @since 0.3.0
 * @category models
 */
export interface RangePlanner<R> {
  readonly partitions: ReadonlyArray<Partition>
  /** The id ending the next range of at most `size` rows of `partition` after `lo`; `undefined` at its end. */
  readonly nextRangeEnd: (partition: Partition, lo: string | null, size: number) => Effect.Effect<string | undefined, unknown, R>
}

/**
 * What a claim found.
 *
 * @since 0.3.0
 * @category models
 */
export type ClaimResult =
  | { readonly _tag: "Claimed"; readonly batch: ClaimedBatch; readonly reclaimed: string | null }
  | { readonly _tag: "Wait"; readonly open: number }
  | { readonly _tag: "Done" }

/**
 * The worker's batch was taken over (its lease expired while it was away): leave it.
 *
 * @since 0.3.0
 * @category errors
 */
export class LeaseTaken extends Data.TaggedError("LeaseTaken")<{ readonly batchId: string }> {}

const lease = (p: number) => `clock_timestamp() + $${p}::int * interval '1 millisecond'`

/** The oldest open batch nobody works on, locked for this transaction. */
const findReclaimable = (who: WorkerIdentity) =>
  exec<{ batch_id: string; batch_no: number; fund_id: string | null; range_start: string | null; range_end: string; status: string }>({
    text: `SELECT b.batch_id::text AS batch_id, b.batch_no, b.fund_id, b.range_start, b.range_end, b.status
FROM stage_migration_batches b
WHERE b.run_id = $1::bigint AND (
  b.status = 'pending'
  OR (b.status = 'failed' AND b.resolution IS NULL
      AND EXISTS (SELECT 1 FROM stage_migration_runs r WHERE r.run_id = b.run_id AND r.status = 'running'))
  OR (b.status = 'running' AND (
    b.lease_expires_at IS NULL OR b.lease_expires_at < clock_timestamp() OR b.owner_session IS NULL OR ${
      who.embedded
        ? "b.owner_session <> $2::text"
        : "(b.owner_session <> $2::text AND pg_try_advisory_xact_lock(hashtextextended('stage-normalization:session:' || b.owner_session, 0)))"
    })))
ORDER BY b.batch_no LIMIT 1
FOR UPDATE OF b SKIP LOCKED`,
    params: [who.runId, who.session]
  })

/** The next batch number of the run (the control row stays locked until the claim commits). */
const takeBatchNo = (runId: string) =>
  exec<{ no: number; batch_size: number }>({
    text: `UPDATE stage_migration_control SET next_batch_no = next_batch_no + 1
WHERE run_id = $1::bigint RETURNING next_batch_no - 1 AS no, batch_size`,
    params: [runId]
  }).pipe(Effect.map((rows) => rows[0]!))

const insertRunning = (
  who: WorkerIdentity,
  batchNo: number,
  range: { readonly fund: string | null; readonly lo: string | null; readonly hi: string; readonly status?: "running" | "pending" }
) =>
  exec<{ batch_id: string }>({
    text: `INSERT INTO stage_migration_batches
  (run_id, batch_no, fund_id, range_start, range_end, status, attempts, started_at, owner, owner_session, lease_expires_at, heartbeat_at)
VALUES ($1::bigint, $2::int, $3::text, $4::text, $5::text, $8::text, CASE WHEN $8::text = 'running' THEN 1 ELSE 0 END,
  CASE WHEN $8::text = 'running' THEN clock_timestamp() END, $6::text, $7::text, ${lease(9)}, clock_timestamp())
RETURNING batch_id::text AS batch_id`,
    params: [who.runId, batchNo, range.fund, range.lo, range.hi, who.workerId, who.session, range.status ?? "running", who.leaseMs]
  }).pipe(Effect.map((rows) => rows[0]!.batch_id))

const markWorker = (who: WorkerIdentity, state: string, batchId: string | null) =>
  exec({
    text: `UPDATE stage_migration_workers SET state = $3::text, current_batch_id = $4::bigint, heartbeat_at = clock_timestamp()
WHERE run_id = $1::bigint AND worker_id = $2::text`,
    params: [who.runId, who.workerId, state, batchId]
  })

const partitionOf = (fund: string | null, partitions: ReadonlyArray<Partition>): Partition =>
  partitions[0]?._tag === "Fund" ? { _tag: "Fund", fund } : partitions[0] ?? { _tag: "All" }

/** Reclaim an open batch: a pending one is taken in place; a dead owner's is redone as a new batch. */
const reclaim = <R>(who: WorkerIdentity, planner: RangePlanner<R>) =>
  Effect.gen(function*() {
    const open = (yield* findReclaimable(who))[0]
    if (open === undefined) return undefined
    const { batch_size: size, no } = yield* takeBatchNo(who.runId)
    let batchId = open.batch_id
    if (open.status === "pending") {
      yield* exec({
        text: `UPDATE stage_migration_batches SET status = 'running', attempts = 1, started_at = clock_timestamp(), batch_no = $4::int,
  owner = $2::text, owner_session = $3::text, lease_expires_at = ${lease(5)}, heartbeat_at = clock_timestamp()
WHERE batch_id = $1::bigint`,
        params: [open.batch_id, who.workerId, who.session, no, who.leaseMs]
      })
    } else {
      yield* exec({
        text: `UPDATE stage_migration_batches SET status = 'failed', resolution = 'redone', finished_at = coalesce(finished_at, clock_timestamp()),
  error_message = CASE WHEN status = 'running' THEN coalesce(error_message || '; ', '') ||
    'interrupted: its worker stopped before committing it (crash, kill or lost connection); range redone as batch no ' || $2::int
    ELSE error_message END
WHERE batch_id = $1::bigint`,
        params: [open.batch_id, no]
      })
      batchId = yield* insertRunning(who, no, { fund: open.fund_id, lo: open.range_start, hi: open.range_end })
    }
    const batch: ClaimedBatch = {
      batchId,
      batchNo: no,
      partition: partitionOf(open.fund_id, planner.partitions),
      lo: open.range_start,
      hi: open.range_end,
      size
    }
    return { _tag: "Claimed", batch, reclaimed: open.status === "pending" ? null : open.batch_id } satisfies ClaimResult as ClaimResult
  })

/** Plan the next range after the frontier (the control row locked), or say the run is done or must wait. */
const plan = <R>(who: WorkerIdentity, planner: RangePlanner<R>) =>
  Effect.gen(function*() {
    const control = (yield* exec<{ plan_partition: number; last_id: string | null; planned_all: boolean; batch_size: number; next_batch_no: number }>({
      text: `SELECT plan_partition, last_id, planned_all, batch_size, next_batch_no FROM stage_migration_control
WHERE run_id = $1::bigint FOR UPDATE`,
      params: [who.runId]
    }))[0]
    if (control === undefined) return { _tag: "Done" } satisfies ClaimResult as ClaimResult
    let index = control.plan_partition
    let lo = control.last_id
    while (!control.planned_all && index < planner.partitions.length) {
      const partition = planner.partitions[index]!
      const hi = yield* planner.nextRangeEnd(partition, lo, control.batch_size)
      if (hi === undefined) {
        index++
        lo = null
        continue
      }
      const fund = partition._tag === "Fund" ? partition.fund : null
      const batchId = yield* insertRunning(who, control.next_batch_no, { fund, lo, hi })
      yield* exec({
        text: `UPDATE stage_migration_control SET plan_partition = $2::int, fund_position = $3::text, last_id = $4::text,
  next_batch_no = next_batch_no + 1 WHERE run_id = $1::bigint`,
        params: [who.runId, index, fund, hi]
      })
      const batch: ClaimedBatch = { batchId, batchNo: control.next_batch_no, partition, lo, hi, size: control.batch_size }
      return { _tag: "Claimed", batch, reclaimed: null } satisfies ClaimResult as ClaimResult
    }
    if (!control.planned_all) {
      yield* exec({
        text: "UPDATE stage_migration_control SET planned_all = true, plan_partition = $2::int, last_id = NULL WHERE run_id = $1::bigint",
        params: [who.runId, index]
      })
    }
    const open = (yield* exec<{ n: number }>({
      text: `SELECT count(*)::int AS n FROM stage_migration_batches
WHERE run_id = $1::bigint AND (status IN ('running', 'pending') OR (status = 'failed' AND resolution IS NULL))`,
      params: [who.runId]
    }))[0]?.n ?? 0
    return (open === 0 ? { _tag: "Done" } : { _tag: "Wait", open }) satisfies ClaimResult as ClaimResult
  })

/**
 * Claim the worker's next batch (see the module header), in one transaction.
 *
 * @example
 * ```ts
 * import { claimNext } from "./RangeLeases.ts" // internal: the batch driver calls it
 * // const next = yield* claimNext(worker, planner) // Claimed | Wait | Done
 * ```
 *
 * @since 0.3.0
 * @category claims
 */
export const claimNext = <R>(who: WorkerIdentity, planner: RangePlanner<R>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      const result = (yield* reclaim(who, planner)) ?? (yield* plan(who, planner))
      yield* markWorker(who, result._tag === "Claimed" ? "working" : "waiting", result._tag === "Claimed" ? result.batch.batchId : null)
      return result
    }))
  })

/**
 * The first statement of a batch's transaction: extend the lease and lock the batch row until
 * commit. Fails with `LeaseTaken` when the batch is no longer this worker's.
 *
 * @example
 * ```ts
 * import { renewLease } from "./RangeLeases.ts" // internal: every executor starts its batch with it
 * // yield* renewLease(worker, batch.batchId)
 * ```
 *
 * @since 0.3.0
 * @category claims
 */
export const renewLease = (who: WorkerIdentity, batchId: string) =>
  exec<{ ok: number }>({
    text: `UPDATE stage_migration_batches SET lease_expires_at = ${lease(3)}, heartbeat_at = clock_timestamp()
WHERE batch_id = $1::bigint AND owner = $2::text AND status = 'running' RETURNING 1 AS ok`,
    params: [batchId, who.workerId, who.leaseMs]
  }).pipe(Effect.flatMap((rows) => rows.length === 1 ? Effect.void : Effect.fail(new LeaseTaken({ batchId }))))

/**
 * Cut a batch whose statement timed out: it keeps `(lo, mid]` and `(mid, hi]` becomes a pending
 * batch any worker claims.
 *
 * @example
 * ```ts
 * import { splitRange } from "./RangeLeases.ts" // internal: the batch driver splits with it
 * // yield* splitRange(worker, batch, "2500")
 * ```
 *
 * @since 0.3.0
 * @category claims
 */
export const splitRange = (who: WorkerIdentity, batch: ClaimedBatch, mid: string, error: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.withTransaction(Effect.gen(function*() {
      const { no } = yield* takeBatchNo(who.runId)
      yield* exec({
        text: `UPDATE stage_migration_batches SET attempts = attempts + 1, error_message = $2::text, range_end = $3::text
WHERE batch_id = $1::bigint`,
        params: [batch.batchId, error, mid]
      })
      yield* insertRunning(who, no, { fund: batch.partition._tag === "Fund" ? batch.partition.fund : null, lo: mid, hi: batch.hi, status: "pending" })
    }))
  })

/**
 * Register a worker of a run (again, when it rejoins).
 *
 * @example
 * ```ts
 * import { registerWorker } from "./RangeLeases.ts" // internal: the batch driver registers its workers
 * // yield* registerWorker(worker, { host: "db-worker-1", pid: 4242 })
 * ```
 *
 * @since 0.3.0
 * @category workers
 */
export const registerWorker = (who: WorkerIdentity, where: { readonly host: string; readonly pid: number }) =>
  exec({
    text: `INSERT INTO stage_migration_workers (run_id, worker_id, session, host, pid)
VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::int)
ON CONFLICT (run_id, worker_id) DO UPDATE SET state = 'working', finished_at = NULL, heartbeat_at = clock_timestamp()`,
    params: [who.runId, who.workerId, who.session, where.host, where.pid]
  })

/**
 * Record how a worker ended (`finished`, `stopped`, `failed`).
 *
 * @example
 * ```ts
 * import { finishWorker } from "./RangeLeases.ts" // internal: the batch driver closes its workers
 * // yield* finishWorker(worker, "finished")
 * ```
 *
 * @since 0.3.0
 * @category workers
 */
export const finishWorker = (who: WorkerIdentity, state: "finished" | "stopped" | "failed") =>
  exec({
    text: `UPDATE stage_migration_workers SET state = $3::text, finished_at = clock_timestamp(), current_batch_id = NULL,
  heartbeat_at = clock_timestamp() WHERE run_id = $1::bigint AND worker_id = $2::text`,
    params: [who.runId, who.workerId, state]
  })

/**
 * How many workers of other sessions are still alive on the run (their session lock is held; on
 * the embedded database none can be).
 *
 * @example
 * ```ts
 * import { otherLiveWorkers } from "./RangeLeases.ts" // internal: a pausing process asks it
 * // yield* otherLiveWorkers(runId, session, false) // => 2
 * ```
 *
 * @since 0.3.0
 * @category workers
 */
export const otherLiveWorkers = (runId: string, session: string, embedded: boolean) =>
  embedded
    ? Effect.succeed(0)
    : exec<{ n: number }>({
      text: `SELECT count(*)::int AS n FROM stage_migration_workers
WHERE run_id = $1::bigint AND session <> $2::text AND finished_at IS NULL
  AND NOT pg_try_advisory_xact_lock(hashtextextended('stage-normalization:session:' || session, 0))`,
      params: [runId, session]
    }).pipe(Effect.map((rows) => rows[0]?.n ?? 0))
