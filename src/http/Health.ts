/**
 * Liveness and readiness:
 *
 * - `GET /healthz` → 200 `{ "status": "ok" }` while the process serves requests;
 * - `GET /readyz` → 200 `{ "status": "ready", "checks": { … } }` when every readiness check
 *   passes within its timeout (default 1 s), else 503 `{ "status": "unavailable", "checks": … }`
 *   naming the failing check. The reference service checks that the mode store holds a document
 *   and that the database answers `SELECT 1`.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { HttpServerResponse } from "effect/http"

/**
 * One readiness check: a name and an effect that succeeds when ready.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReadinessCheck<R = never> {
  readonly name: string
  readonly check: Effect.Effect<unknown, unknown, R>
}

/**
 * `GET /healthz`.
 *
 * @since 0.1.0
 * @category handlers
 */
export const healthzHandler: HttpServerResponse.HttpServerResponse = HttpServerResponse.jsonUnsafe({ status: "ok" })

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
          Effect.map((exit) => [name, exit._tag === "Success" ? "ok" : "failing"] as const)
        ),
      { concurrency: "unbounded" }
    ),
    (results) => {
      const ready = results.every(([, state]) => state === "ok")
      return HttpServerResponse.jsonUnsafe(
        { status: ready ? "ready" : "unavailable", checks: Object.fromEntries(results) },
        { status: ready ? 200 : 503 }
      )
    }
  )
