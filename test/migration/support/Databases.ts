/**
 * Test databases: a scratch database per suite on the real PostgreSQL (created, then dropped
 * whatever happens) and the embedded one. A suite that needs PostgreSQL fails — never skips —
 * when it is unreachable.
 */
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { layerEmbedded } from "../../../src/migration/database/EmbeddedPostgres.ts"

/** Admin connection to the real server (any database we may CREATE DATABASE from). */
export const ADMIN_URL = process.env["MIGRATION_TEST_ADMIN_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"

const withDatabase = (url: string, name: string): string => {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/** The scratch database of a suite: its URL and name. */
export class ScratchDatabase extends Context.Service<ScratchDatabase, {
  readonly url: string
  readonly name: string
  readonly kind: "postgres" | "embedded"
}>()("test/migration/ScratchDatabase") {}

const admin = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* f(sql)
  }).pipe(
    Effect.provide(PgClient.layer({ url: Redacted.make(ADMIN_URL), maxConnections: 1, connectTimeout: 5_000 })),
    Effect.scoped
  )

/** Create `mig_<prefix>_<random>` on the real server; dropped (WITH FORCE) when the scope closes. */
export const scratchDatabase = (prefix: string) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const name = `mig_${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`
      yield* admin((sql) => sql.unsafe(`CREATE DATABASE ${name}`).unprepared)
      return { name, url: withDatabase(ADMIN_URL, name) }
    }).pipe(Effect.orDie),
    ({ name }) => admin((sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).unprepared).pipe(Effect.ignore)
  )

/** `PgClient` + `SqlClient` + `ScratchDatabase` on a fresh scratch database of the real server. */
export const layerScratchPostgres = (prefix: string, maxConnections = 4) =>
  Layer.unwrap(Effect.gen(function*() {
    const db = yield* scratchDatabase(prefix)
    return PgClient.layer({ url: Redacted.make(db.url), maxConnections, connectTimeout: 5_000 }).pipe(
      Layer.orDie,
      Layer.merge(Layer.succeed(ScratchDatabase, ScratchDatabase.of({ ...db, kind: "postgres" })))
    )
  }))

/** `PgClient` + `SqlClient` + `ScratchDatabase` on a fresh in-memory embedded database. */
export const layerScratchEmbedded = Layer.succeed(
  ScratchDatabase,
  ScratchDatabase.of({ url: "embedded", name: "postgres", kind: "embedded" })
).pipe(Layer.provideMerge(layerEmbedded().pipe(Layer.orDie)))

/** A fresh schema per test on the current session/connection pool: `search_path` set per query. */
export const uniqueName = (prefix: string): string =>
  `${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e9).toString(36)}`

/**
 * A test that fails, naming the URL, when the real PostgreSQL is unreachable: suites that need it
 * fail loudly instead of reporting their tests as skipped.
 */
export const requirePostgres = admin((sql) => sql`SELECT 1`).pipe(
  Effect.mapError((e) => new Error(`the real PostgreSQL at ${ADMIN_URL} is required by this suite and unreachable: ${String(e)}`)),
  Effect.asVoid
)
