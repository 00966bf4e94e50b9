/**
 * Liveness and readiness:
 *
 * - `GET /healthz` → 200 `{ "status": "ok" }` while the process serves requests;
 * - `GET /readyz` → 200 `{ "status": "ready", "checks": { … } }` when every readiness check
 *   passes within its timeout (default 1 s), else 503
 *   `{ "status": "unavailable", "checks": …, "reasons": { <check>: "<why>" } }` naming the
 *   failing check and why. The reference service checks that the mode store has read the shared
 *   rollout document ({@link modeStoreReadiness}) and that the database answers `SELECT 1`.
 *
 * @since 0.1.0
 */
import { Cause, Effect, Exit } from "effect"
import { HttpServerResponse } from "effect/http"
import { ModeStore } from "../rollout/ModeStore.ts"

/**
 * One readiness check: a name and an effect that succeeds when ready. A failure's message (an
 * `Error`'s, or a string) is the reason `/readyz` gives.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { ReadinessCheck } from "stage-normalization/http"
 * const check: ReadinessCheck = { name: "queue", check: Effect.fail(new Error("the queue is not connected")) }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface ReadinessCheck<R = never> {
  readonly name: string
  readonly check: Effect.Effect<unknown, unknown, R>
}

/**
 * The mode store's readiness: ready once it has read the shared rollout document, or at once
 * under the `"boot-document"` unsynced policy (a memory store is always synced). While not ready
 * the failure says why — the store did not answer, or its document was rejected — and the
 * instance decides at most `warn`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { modeStoreReadiness, readyzHandler } from "stage-normalization/http"
 * const handler = readyzHandler([modeStoreReadiness, { name: "database", check: Effect.void }])
 * ```
 * @since 0.3.0
 * @category handlers
 */
export const modeStoreReadiness: ReadinessCheck<ModeStore> = {
  name: "modeStore",
  check: ModeStore.use((store) => {
    const sync = store.sync()
    if (sync.synced || sync.policy === "boot-document") return Effect.succeed(store.current().version)
    return Effect.fail(
      new Error(`not synced: ${sync.reason ?? "the shared rollout document has not been read yet"}; deciding at most warn`)
    )
  })
}

/**
 * `GET /healthz`.
 *
 * @since 0.1.0
 * @category handlers
 */
export const healthzHandler: HttpServerResponse.HttpServerResponse = HttpServerResponse.jsonUnsafe({ status: "ok" })

const reasonOf = (cause: Cause.Cause<unknown>, timeoutMillis: number): string => {
  const error = Cause.squash(cause)
  if (Cause.isTimeoutError(error)) return `did not answer within ${timeoutMillis} ms`
  if (error instanceof Error) return error.message.slice(0, 500)
  if (typeof error === "string") return error.slice(0, 500)
  return "failing"
}

/**
 * `GET /readyz` over some checks, run concurrently, each bounded by `timeoutMillis`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { readyzHandler } from "stage-normalization/http"
 * const handler = readyzHandler([{ name: "database", check: Effect.void }])
 * ```
 * @since 0.1.0
 * @category handlers
 */
export const readyzHandler = <R>(
  checks: ReadonlyArray<ReadinessCheck<R>>,
  timeoutMillis: number = 1000
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R> =>
  Effect.map(
    Effect.forEach(
      checks,
      ({ check, name }) =>
        check.pipe(
          Effect.timeout(timeoutMillis),
          Effect.exit,
          Effect.map((exit) => [name, Exit.isSuccess(exit) ? undefined : reasonOf(exit.cause, timeoutMillis)] as const)
        ),
      { concurrency: "unbounded" }
    ),
    (results) => {
      const failing = results.filter(([, reason]) => reason !== undefined)
      const ready = failing.length === 0
      return HttpServerResponse.jsonUnsafe(
        {
          status: ready ? "ready" : "unavailable",
          checks: Object.fromEntries(results.map(([name, reason]) => [name, reason === undefined ? "ok" : "failing"])),
          ...(ready ? {} : { reasons: Object.fromEntries(failing) })
        },
        { status: ready ? 200 : 503 }
      )
    }
  )
