/**
 * The one clock adapter: wall-clock dates from effect's `Clock`, so that every timestamp, duration
 * and deadline in the migration and the rollout follows the `Clock` in the environment — the real
 * one in production, `TestClock` in tests (a throttled run or a refresh loop then takes no real
 * time). `src/migration` and `src/rollout` read the time only through this module or through
 * `Clock` itself; a test fails on a `Date.now()` or `new Date()` anywhere else in them.
 *
 * @since 0.2.0
 */
import { Clock, Effect } from "effect"

/**
 * Milliseconds since the epoch, from the `Clock` in the environment.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { nowMillis } from "./WallClock.ts" // internal: not part of the package's API
 * const elapsed = (started: number) => Effect.map(nowMillis, (now) => now - started)
 * ```
 *
 * @since 0.2.0
 * @category time
 */
export const nowMillis: Effect.Effect<number> = Clock.currentTimeMillis

/**
 * The `Date` of an epoch-milliseconds value (the only `new Date` the two modules use).
 *
 * @example
 * ```ts
 * import { dateOf } from "./WallClock.ts" // internal: not part of the package's API
 * dateOf(0).toISOString() // => "1970-01-01T00:00:00.000Z"
 * ```
 *
 * @since 0.2.0
 * @category time
 */
export const dateOf = (millis: number): Date => new Date(millis)

/**
 * The current time as a `Date`, from the `Clock` in the environment.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { now } from "./WallClock.ts" // internal: not part of the package's API
 * const stamp = Effect.map(now, (d) => d.toISOString())
 * ```
 *
 * @since 0.2.0
 * @category time
 */
export const now: Effect.Effect<Date> = Effect.map(Clock.currentTimeMillis, dateOf)

/**
 * The current time as an ISO-8601 string (what reports and audit rows record).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { nowIso } from "./WallClock.ts" // internal: not part of the package's API
 * const program = Effect.map(nowIso, (at) => ({ at }))
 * ```
 *
 * @since 0.2.0
 * @category time
 */
export const nowIso: Effect.Effect<string> = Effect.map(Clock.currentTimeMillis, (ms) => dateOf(ms).toISOString())

/**
 * Milliseconds elapsed since `startedMillis`, by the `Clock` in the environment.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { elapsedSince, nowMillis } from "./WallClock.ts" // internal: not part of the package's API
 * const timed = Effect.gen(function*() {
 *   const started = yield* nowMillis
 *   return yield* elapsedSince(started)
 * })
 * ```
 *
 * @since 0.2.0
 * @category time
 */
export const elapsedSince = (startedMillis: number): Effect.Effect<number> =>
  Effect.map(Clock.currentTimeMillis, (ms) => ms - startedMillis)
