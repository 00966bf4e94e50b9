/**
 * Choosing the database from a URL: `postgres://…` / `postgresql://…` is a real server,
 * no URL (or `pglite://memory`) the in-memory embedded database, `pglite:///abs/dir` or
 * `pglite:rel/dir` an embedded database persisted in a directory. The layer checks the
 * connection up front (`SELECT 1`), so an unreachable database is a clear
 * `MigrationError("DatabaseUnreachable")` naming host, port and database — never a hang in
 * the middle of a run. Passwords never appear in messages.
 *
 * @since 0.1.0
 */
import type { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted, Result } from "effect"
import { SqlClient } from "effect/sql"
import { loadPgClient } from "./Drivers.ts"
import { layerEmbedded } from "./EmbeddedPostgres.ts"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { DatabaseUnreachable, InvalidUrl } from "../MigrationErrorReason.ts"
import type { MissingPeerDependencyError } from "../../shared/PeerDependency.ts"

/**
 * Where a URL points.
 *
 * @since 0.1.0
 * @category models
 */
export type DatabaseLocation =
  | { readonly _tag: "Postgres"; readonly url: Redacted.Redacted<string>; readonly display: string }
  | { readonly _tag: "Embedded"; readonly dataDir: string | undefined; readonly display: string }

/**
 * The URL without its password, for messages.
 *
 * @example
 * ```ts
 * import { redactUrl } from "stage-normalization/migration"
 * redactUrl("postgres://app:s3cret@db:5432/prod") // => "postgres://app:***@db:5432/prod"
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const redactUrl = (url: string): string => url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, "$1:***@")

/**
 * Read a database URL (absent or empty: the in-memory embedded database).
 *
 * @example
 * ```ts
 * import { parseDatabaseUrl } from "stage-normalization/migration"
 * parseDatabaseUrl("pglite://memory")        // => Result.succeed({ _tag: "Embedded", dataDir: undefined, … })
 * parseDatabaseUrl("postgres://127.0.0.1/x") // => Result.succeed({ _tag: "Postgres", … })
 * parseDatabaseUrl("mysql://x")              // => Result.fail(MigrationError("InvalidUrl"))
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseDatabaseUrl = (url: string | undefined): Result.Result<DatabaseLocation, MigrationError> => {
  const trimmed = url?.trim() ?? ""
  if (trimmed === "" || trimmed === "pglite://memory" || trimmed === "pglite:memory") {
    return Result.succeed({ _tag: "Embedded", dataDir: undefined, display: "embedded database (in memory)" })
  }
  if (trimmed.startsWith("pglite:")) {
    const dataDir = trimmed.startsWith("pglite://") ? trimmed.slice("pglite://".length) : trimmed.slice("pglite:".length)
    if (dataDir === "") {
      return Result.fail(new MigrationError({ reason: new InvalidUrl({ detail: `${trimmed}: expected pglite://memory or pglite:///path/to/dir` }) }))
    }
    return Result.succeed({ _tag: "Embedded", dataDir, display: `embedded database in ${dataDir}` })
  }
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    if (!URL.canParse(trimmed)) {
      return Result.fail(new MigrationError({ reason: new InvalidUrl({ detail: `${redactUrl(trimmed)} is not a valid URL` }) }))
    }
    return Result.succeed({ _tag: "Postgres", url: Redacted.make(trimmed), display: redactUrl(trimmed) })
  }
  return Result.fail(
    new MigrationError({
      reason: new InvalidUrl({
        detail: `${redactUrl(trimmed)}: expected postgres://user@host:port/database, pglite://memory or pglite:///path`
      })
    })
  )
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DatabaseOptions {
  /** Pool size for a real server (default 4; the embedded database always gets 1). */
  readonly maxConnections?: number | undefined
  readonly applicationName?: string | undefined
  /** Connect timeout for a real server (default 5 s). */
  readonly connectTimeoutMs?: number | undefined
}

const probe = (display: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`SELECT 1`.pipe(
      Effect.mapError((cause) =>
        new MigrationError({
          reason: new DatabaseUnreachable({
            detail: `cannot reach ${display}: ${describeCause(cause)}`,
            cause
          })
        })
      )
    )
  })

/**
 * A `PgClient` / `SqlClient` for a URL (see the module header), checked with `SELECT 1`. Needs
 * the optional peer `@effect/sql-pg` (and, for the embedded database, `@electric-sql/pglite` and
 * `@electric-sql/pglite-socket`); without it the layer fails with `MissingPeerDependencyError`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SqlClient } from "effect/sql"
 * import { layerFromUrl } from "stage-normalization/migration"
 * const program = Effect.gen(function*() {
 *   const sql = yield* SqlClient.SqlClient
 *   return yield* sql`SELECT version()`
 * }).pipe(Effect.provide(layerFromUrl(process.env.DATABASE_URL)))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromUrl = (
  url?: string | undefined,
  options: DatabaseOptions = {}
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, MigrationError | MissingPeerDependencyError> =>
  Layer.unwrap(Effect.gen(function*() {
    const location = yield* Effect.fromResult(parseDatabaseUrl(url))
    const PgClient = yield* loadPgClient("layerFromUrl")
    const client: Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, MigrationError | MissingPeerDependencyError> =
      location._tag === "Embedded"
      ? layerEmbedded({ dataDir: location.dataDir, applicationName: options.applicationName })
      : PgClient.layerFrom(
        PgClient.make({
          url: location.url,
          maxConnections: options.maxConnections ?? 4,
          connectTimeout: options.connectTimeoutMs ?? 5_000,
          applicationName: options.applicationName ?? "stage-normalization"
        }).pipe(
          Effect.mapError((cause) =>
            new MigrationError({
              reason: new DatabaseUnreachable({
                detail: `cannot reach ${location.display}: ${describeCause(cause)}`,
                cause
              })
            })
          )
        )
      )
    return Layer.effectDiscard(probe(location.display)).pipe(Layer.provideMerge(client))
  }))
