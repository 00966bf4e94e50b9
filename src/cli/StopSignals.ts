/**
 * Stopping on SIGINT / SIGTERM without losing work, instead of the runtime's default (interrupt
 * at once, exit 130):
 * - a batched run (`migrate --apply`, `rollback --apply`): the first signal asks the run to stop
 *   after its current batch (it is then marked paused), a second one aborts at once (the batch in
 *   flight rolls back);
 * - the service (`serve`, `npm start`): the first signal starts a graceful stop (the caller
 *   drains and exits 0); a repeat within a second is the same stop (Ctrl+C under `npm start`
 *   reaches the service twice: from the terminal and from npm), a later one ends the process
 *   at once, and so does the stop taking longer than its deadline.
 *
 * @since 0.2.0
 */
import { Effect, type Scope } from "effect"

const SIGNALS = ["SIGINT", "SIGTERM"] as const

/** Replaces the SIGINT/SIGTERM listeners with `onSignal`; returns the function that puts them back. */
const replaceListeners = (onSignal: (signal: NodeJS.Signals) => void): () => void => {
  const saved = new Map(SIGNALS.map((s) => [s, process.listeners(s)] as const))
  for (const s of SIGNALS) {
    process.removeAllListeners(s)
    process.on(s, onSignal)
  }
  return () => {
    for (const s of SIGNALS) {
      process.removeListener(s, onSignal)
      for (const l of saved.get(s) ?? []) if (!process.listeners(s).includes(l)) process.on(s, l)
    }
  }
}

/**
 * The signal that asked the service to stop.
 *
 * @since 0.3.0
 * @category models
 */
export interface StopRequest {
  readonly signal: NodeJS.Signals
}

/**
 * For the scope: takes over SIGINT and SIGTERM from the runtime (which would interrupt the
 * program: exit 130) and returns the effect that waits for the first of them. From the first signal on, the process has `deadlineMs` to
 * finish (then it exits 1 with a line saying so); a repeated signal within a second is ignored,
 * a later one exits 130 at once.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { awaitStopSignal } from "./StopSignals.ts" // internal: not part of the package's API
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const stopRequested = yield* awaitStopSignal({ deadlineMs: 10_000 })
 *   const { signal } = yield* stopRequested
 *   yield* Effect.logInfo(`${signal}: stopping`)
 * }))
 * ```
 * @since 0.3.0
 * @category helpers
 */
export const awaitStopSignal = (
  options: { readonly deadlineMs: number }
): Effect.Effect<Effect.Effect<StopRequest>, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      let first: { readonly signal: NodeJS.Signals; readonly at: number } | undefined
      const resolver: { resolve?: (request: StopRequest) => void } = {}
      const received = new Promise<StopRequest>((r) => (resolver.resolve = r))
      const restore = replaceListeners((signal) => {
        if (first === undefined) {
          first = { signal, at: Date.now() }
          setTimeout(() => {
            process.stderr.write(`the service did not stop within ${options.deadlineMs} ms of ${signal}; exiting\n`)
            process.exit(1)
          }, options.deadlineMs).unref()
          resolver.resolve?.({ signal })
        } else if (Date.now() - first.at > 1_000) {
          process.exit(130)
        }
      })
      return { received, restore, stopping: () => first !== undefined }
    }),
    // once stopping, the listeners stay until the process exits (a signal during the stop is
    // handled above); otherwise (the service failed) the runtime's come back
    (h) => Effect.sync(() => h.stopping() || h.restore())
  ).pipe(Effect.map((h) => Effect.promise(() => h.received)))

/**
 * Replace the runtime's SIGINT/SIGTERM handlers (which interrupt at once) for the scope: the
 * first signal asks the run to stop after its current batch; a second one restores the original
 * handlers and re-raises, aborting (the batch in flight rolls back).
 *
 * @since 0.1.0
 * @category helpers
 */
export const gracefulSignals = Effect.acquireRelease(
  Effect.sync(() => {
    let requested = false
    const restore = replaceListeners(onSignal)
    function onSignal(signal: NodeJS.Signals) {
      if (requested) {
        restore()
        process.kill(process.pid, signal)
        return
      }
      requested = true
      process.stderr.write(`\n${signal}: finishing the current batch, then pausing the run (send ${signal} again to abort)\n`)
    }
    return { requested: Effect.sync(() => requested), restore }
  }),
  (h) => Effect.sync(h.restore)
)
