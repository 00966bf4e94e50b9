/**
 * One throttle for all of a run's workers, kept in the run's control row so that it holds across
 * fibers, processes and machines:
 *
 * - **run state**: before each batch every worker reads the cancel request, the run's status (a
 *   run another worker failed stops everyone), the shared pause between batches and whether the
 *   run is throttled ({@link readRunControl});
 * - **health**: a worker that finds the database unhealthy publishes `throttled_until` with its
 *   reasons ({@link publishThrottle}); every worker waits until then, so N workers on a
 *   struggling database back off together rather than each finding out on its own;
 * - **global row ceiling** (`--max-rows-per-second`): before a batch a worker reserves its rows
 *   with a GCRA step on `rate_tat` — `tat = max(tat, now) + rows / rate`, wait `tat − rows/rate −
 *   now` — one `UPDATE` that serialises on the control row for microseconds, so the ceiling holds
 *   for the sum of every worker's rows, whichever process they run in ({@link reserveRows}).
 *
 * @since 0.3.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { queryFailed } from "../MigrationError.ts"

/**
 * The shared state a worker checks before a batch.
 *
 * @since 0.3.0
 * @category models
 */
export interface RunControl {
  readonly cancelRequested: boolean
  readonly status: string
  readonly error: string | null
  /** How long the run stays throttled (0: not throttled), and why. */
  readonly throttledForMs: number
  readonly throttleReasons: ReadonlyArray<string>
  /** The shared pause between batches, when one was set for the run. */
  readonly sleepMs: number | null
}

/**
 * Read the run's shared state.
 *
 * @example
 * ```ts
 * import { readRunControl } from "./RunThrottle.ts" // internal: the runner's guard reads it
 * // const control = yield* readRunControl("12") // { cancelRequested: false, status: "running", … }
 * ```
 *
 * @since 0.3.0
 * @category throttle
 */
export const readRunControl = (runId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{
      cancel_requested: boolean
      status: string
      error_message: string | null
      throttled_ms: number
      throttle_reasons: ReadonlyArray<string>
      sleep_ms: number | null
    }>(
      `SELECT c.cancel_requested, r.status, r.error_message, c.throttle_reasons, c.sleep_ms,
              greatest(0, coalesce(extract(epoch FROM c.throttled_until - clock_timestamp()) * 1000, 0))::float8 AS throttled_ms
       FROM stage_migration_control c JOIN stage_migration_runs r ON r.run_id = c.run_id
       WHERE c.run_id = $1::bigint`,
      [runId]
    ).pipe(Effect.mapError(queryFailed(`reading the control row of run ${runId}`)))
    const row = rows[0]
    return {
      cancelRequested: row?.cancel_requested ?? false,
      status: row?.status ?? "running",
      error: row?.error_message ?? null,
      throttledForMs: Math.round(Number(row?.throttled_ms ?? 0)),
      throttleReasons: row?.throttle_reasons ?? [],
      sleepMs: row?.sleep_ms ?? null
    } satisfies RunControl
  })

/**
 * Throttle the whole run for `waitMs` (extending, never shortening, a throttle in force).
 *
 * @example
 * ```ts
 * import { publishThrottle } from "./RunThrottle.ts" // internal: the runner's guard publishes it
 * // yield* publishThrottle("12", 2_000, ["autovacuum is processing the target"])
 * ```
 *
 * @since 0.3.0
 * @category throttle
 */
export const publishThrottle = (runId: string, waitMs: number, reasons: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(
      `UPDATE stage_migration_control
       SET throttled_until = greatest(coalesce(throttled_until, clock_timestamp()), clock_timestamp() + $2::int * interval '1 millisecond'),
           throttle_reasons = $3::text[]
       WHERE run_id = $1::bigint`,
      [runId, Math.round(waitMs), reasons]
    ).pipe(Effect.mapError(queryFailed(`throttling run ${runId}`)))
  })

/**
 * Set the run's shared limits (those given; the others stay): the pause between batches and the
 * global row ceiling (`0` lifts it).
 *
 * @example
 * ```ts
 * import { setRunLimits } from "./RunThrottle.ts" // internal: migrate and its joiners set them
 * // yield* setRunLimits("12", { sleepMs: 100, maxRowsPerSecond: 20_000 })
 * ```
 *
 * @since 0.3.0
 * @category throttle
 */
export const setRunLimits = (
  runId: string,
  limits: { readonly sleepMs?: number | undefined; readonly maxRowsPerSecond?: number | undefined }
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(
      `UPDATE stage_migration_control
       SET sleep_ms = coalesce($2::int, sleep_ms),
           max_rows_per_second = CASE WHEN $3::float8 IS NULL THEN max_rows_per_second WHEN $3::float8 <= 0 THEN NULL ELSE $3::float8 END
       WHERE run_id = $1::bigint`,
      [runId, limits.sleepMs ?? null, limits.maxRowsPerSecond ?? null]
    ).pipe(Effect.mapError(queryFailed(`setting the limits of run ${runId}`)))
  })

/**
 * Reserve `rows` under the run's global ceiling; returns how long to wait before starting (0
 * without a ceiling).
 *
 * @example
 * ```ts
 * import { reserveRows } from "./RunThrottle.ts" // internal: the batch driver reserves before each batch
 * // const waitMs = yield* reserveRows("12", 5_000) // => 250 at 20,000 rows/s with another batch just started
 * ```
 *
 * @since 0.3.0
 * @category throttle
 */
export const reserveRows = (runId: string, rows: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const result = yield* sql.unsafe<{ wait_ms: number }>(
      `UPDATE stage_migration_control
       SET rate_tat = greatest(coalesce(rate_tat, clock_timestamp()), clock_timestamp()) + ($2::float8 / max_rows_per_second) * interval '1 second'
       WHERE run_id = $1::bigint AND max_rows_per_second > 0
       RETURNING greatest(0, extract(epoch FROM rate_tat - ($2::float8 / max_rows_per_second) * interval '1 second' - clock_timestamp()) * 1000)::float8 AS wait_ms`,
      [runId, rows]
    ).pipe(Effect.mapError(queryFailed(`reserving rows for run ${runId}`)))
    return Math.ceil(Number(result[0]?.wait_ms ?? 0))
  })

/**
 * What the run's shared state says to every worker before a batch: stop for a cancel request,
 * halt for a run another worker failed, or `undefined` — go on to the worker's own checks.
 *
 * @example
 * ```ts
 * import { sharedVerdict } from "./RunThrottle.ts" // internal: the guards of migrate and rollback use it
 * sharedVerdict({ cancelRequested: true, status: "running", error: null, throttledForMs: 0, throttleReasons: [], sleepMs: null }, "12")
 * // => "cancelled"
 * ```
 *
 * @since 0.3.0
 * @category throttle
 */
export const sharedVerdict = (control: RunControl, runId: string): "cancelled" | { readonly halted: string } | undefined =>
  control.cancelRequested || control.status === "cancelled"
    ? "cancelled"
    : control.status === "failed"
    ? { halted: control.error ?? `run ${runId} failed in another worker` }
    : undefined
