/**
 * Stopping a batched run on SIGINT / SIGTERM without losing a batch: the first signal asks the
 * run to stop after its current batch (it is then marked paused), a second one aborts at once (the
 * batch in flight rolls back). Used by the commands that run batches (`migrate --apply`,
 * `rollback --apply`).
 *
 * @since 0.2.0
 */
import { Effect } from "effect"

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
    const signals = ["SIGINT", "SIGTERM"] as const
    const saved = new Map(signals.map((s) => [s, process.listeners(s)] as const))
    const restore = () => {
      for (const s of signals) {
        process.removeListener(s, onSignal)
        for (const l of saved.get(s) ?? []) if (!process.listeners(s).includes(l)) process.on(s, l)
      }
    }
    function onSignal(signal: NodeJS.Signals) {
      if (requested) {
        restore()
        process.kill(process.pid, signal)
        return
      }
      requested = true
      process.stderr.write(`\n${signal}: finishing the current batch, then pausing the run (send ${signal} again to abort)\n`)
    }
    for (const s of signals) {
      process.removeAllListeners(s)
      process.on(s, onSignal)
    }
    return { requested: Effect.sync(() => requested), restore }
  }),
  (h) => Effect.sync(h.restore)
)
