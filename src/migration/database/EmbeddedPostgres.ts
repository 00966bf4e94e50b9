/**
 * The embedded database: PGlite (PostgreSQL compiled to WebAssembly) served on 127.0.0.1 at a
 * random port by `PGLiteSocketServer`, and reached through the same `@effect/sql-pg` client as a
 * real server. It is the default of `serve` when no `DATABASE_URL` is given, and the second
 * database every migration test runs on.
 *
 * PGlite is one backend behind a multiplexer: the client gets `maxConnections: 1` (a second
 * connection would run inside the first one's transaction), advisory locks are not shared
 * between "sessions", and LISTEN/NOTIFY does not cross the socket.
 *
 * @since 0.1.0
 */
import type { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Redacted } from "effect"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import type { SqlClient } from "effect/sql"
import { loadPgClient, loadPglite } from "./Drivers.ts"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { BackupFailed, EmbeddedStartFailed } from "../MigrationErrorReason.ts"
import type { MissingPeerDependencyError } from "../../shared/PeerDependency.ts"

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * PGlite does not lock its data directory, and two processes opening one would corrupt it: take
 * `<dataDir>.lock` (holding our pid) for the scope, refusing while a live process holds it and
 * taking over a stale one.
 */
const lockDataDir = (dataDir: string) =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        const file = `${dataDir.replace(/\/+$/, "")}.lock`
        mkdirSync(dirname(file), { recursive: true })
        for (let attempt = 0; attempt < 2; attempt++) {
          try {
            writeFileSync(file, String(process.pid), { flag: "wx" })
            return file
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
            const owner = Number(readFileSync(file, "utf8").trim())
            if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
              throw new Error(`it is in use by process ${owner} (${file}); one process at a time`, { cause: e })
            }
            rmSync(file, { force: true })
          }
        }
        throw new Error(`could not take ${file}`)
      },
      catch: (cause) =>
        new MigrationError({
          reason: new EmbeddedStartFailed({
            detail: `cannot open the embedded database in ${dataDir}: ${describeCause(cause)}`,
            cause
          })
        })
    }),
    (file) => Effect.sync(() => rmSync(file, { force: true }))
  )

/**
 * @since 0.1.0
 * @category models
 */
export interface EmbeddedPostgresOptions {
  /** A directory to persist the database in; in memory when absent. */
  readonly dataDir?: string | undefined
  /** Application name the client reports. */
  readonly applicationName?: string | undefined
  /**
   * Connections the socket server accepts at once (default 4). Every connection shares the one
   * backend — its session settings, advisory locks and, outside transactions, the order of
   * protocol messages — so several clients must take turns: running them concurrently has given
   * wrong answers (a query for an existing row returning none) in the rehearsal.
   */
  readonly maxConnections?: number | undefined
}

/**
 * A running embedded database and the URL its socket server listens on.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { EmbeddedPostgres } from "stage-normalization/migration"
 * const program = EmbeddedPostgres.use((db) => Effect.log(db.url)).pipe(Effect.provide(EmbeddedPostgres.layer()))
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class EmbeddedPostgres extends Context.Service<EmbeddedPostgres, {
  readonly url: string
  readonly dataDir: string | undefined
  /**
   * PGlite's own dump of the whole data directory (a gzip tar, `dumpDataDir("gzip")`), which
   * `new PGlite({ loadDataDir })` restores: the embedded database's backup format.
   */
  readonly dumpDataDir: Effect.Effect<Blob, MigrationError>
}>()("stage-normalization/migration/EmbeddedPostgres") {
  /**
   * Start PGlite and its socket server for the lifetime of the layer; both are stopped when
   * the scope closes.
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layer = (
    options: EmbeddedPostgresOptions = {}
  ): Layer.Layer<EmbeddedPostgres, MigrationError | MissingPeerDependencyError> =>
    Layer.effect(
      EmbeddedPostgres,
      Effect.andThen(
        Effect.andThen(
          options.dataDir === undefined ? Effect.void : lockDataDir(options.dataDir),
          loadPglite("EmbeddedPostgres.layer")
        ),
        ([{ PGlite }, { PGLiteSocketServer }]) => Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            const db = options.dataDir === undefined ? await PGlite.create() : await PGlite.create(options.dataDir)
            const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: options.maxConnections ?? 4 })
            try {
              await server.start()
            } catch (e) {
              await db.close()
              throw e
            }
            return { db, server, url: `postgres://postgres:postgres@${server.getServerConn()}/postgres` }
          },
          catch: (cause) =>
            new MigrationError({
              reason: new EmbeddedStartFailed({
                detail: `could not start the embedded database${
                  options.dataDir === undefined ? "" : ` in ${options.dataDir}`
                }: ${describeCause(cause)}`,
                cause
              })
            })
        }),
        ({ db, server }) => Effect.promise(async () => {
          await server.stop().catch(() => undefined)
          await db.close().catch(() => undefined)
        })
      ).pipe(Effect.map(({ db, url }) =>
        EmbeddedPostgres.of({
          url,
          dataDir: options.dataDir,
          dumpDataDir: Effect.tryPromise({
            try: () => db.dumpDataDir("gzip"),
            catch: (cause) =>
              new MigrationError({
                reason: new BackupFailed({
                  detail: `the embedded database's dumpDataDir failed: ${describeCause(cause)}`,
                  cause
                })
              })
          })
        })
      )))
    )
}

/**
 * A `PgClient` (and `SqlClient`) on a fresh embedded database, with `maxConnections: 1`.
 * `EmbeddedPostgres` is provided too, for its URL.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SqlClient } from "effect/sql"
 * import { layerEmbedded } from "stage-normalization/migration"
 * const program = Effect.gen(function*() {
 *   const sql = yield* SqlClient.SqlClient
 *   return yield* sql`SELECT 1 AS one`
 * }).pipe(Effect.provide(layerEmbedded()))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEmbedded = (
  options: EmbeddedPostgresOptions = {}
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient | EmbeddedPostgres, MigrationError | MissingPeerDependencyError> =>
  Layer.unwrap(Effect.gen(function*() {
    const { url } = yield* EmbeddedPostgres
    const PgClient = yield* loadPgClient("layerEmbedded")
    return PgClient.layerFrom(
      PgClient.make({
        url: Redacted.make(url),
        maxConnections: 1,
        applicationName: options.applicationName ?? "stage-normalization"
      }).pipe(
        Effect.mapError((cause) =>
          new MigrationError({
            reason: new EmbeddedStartFailed({
              detail: `could not connect to the embedded database: ${describeCause(cause)}`,
              cause
            })
          })
        )
      )
    )
  })).pipe(Layer.provideMerge(EmbeddedPostgres.layer(options)))
