/**
 * Logs of the reporting commands (`mode`, `status`): on stderr, so stdout holds only the report
 * (`--json` stays parseable), and only errors unless `--log-level` says otherwise — the store's
 * audit lines and the Redis client's reconnect warnings repeat what the report says.
 *
 * @since 0.2.0
 */
import { Effect, Option, References } from "effect"
import { GlobalFlag } from "effect/cli"

/**
 * Runs `effect` with its logs on stderr, at level Error and above unless `--log-level` was given.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { reportLogs } from "./CommandLogs.ts" // internal: not part of the package's API
 * const quiet = reportLogs(Effect.logInfo("not shown without --log-level info"))
 * ```
 * @since 0.2.0
 * @category logging
 */
export const reportLogs = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const level = Option.flatten(yield* Effect.serviceOption(GlobalFlag.LogLevel))
    const onStderr = Effect.provideService(effect, References.LogToStderr, true)
    return yield* Option.isSome(level) ? onStderr : Effect.provideService(onStderr, References.MinimumLogLevel, "Error")
  })
