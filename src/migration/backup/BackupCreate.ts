/**
 * `backup create`: a backup of the migration's target tables before they are changed.
 *
 * On a real server: `pg_dump --format=custom` of the tables, run on a **snapshot exported by our
 * own REPEATABLE READ transaction** (`pg_export_snapshot()` → `pg_dump --snapshot`), so the row
 * counts and stage-value digests written into the manifest describe exactly the data in the dump,
 * however busy the table is. The dump's bytes are hashed as pg_dump writes them (SHA-256), and the
 * digest goes into `<stem>.dump.sha256` (`sha256sum -c` format) and the manifest.
 *
 * On the embedded database (`pglite:///dir`): PGlite cannot run pg_dump, but its own
 * `dumpDataDir()` (a gzip tar of the data directory, restorable with `loadDataDir`) serves; it is
 * hashed the same way. An in-memory embedded database is refused: it ends with its process.
 *
 * Nothing is left behind on failure: partial files are removed.
 *
 * @since 0.1.0
 */
import { Effect, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { mkdir, rm, writeFile } from "node:fs/promises"
import { basename } from "node:path"
import { Readable } from "node:stream"
import type { ReadableStream as WebReadableStream } from "node:stream/web"
import {
  type BackupManifest,
  backupPaths,
  type BackupTable,
  TOOL_NAME,
  TOOL_VERSION,
  writeManifest
} from "./BackupManifest.ts"
import { type BackupStatsTable, queryWith, type RunQuery, readServerInfo, resolveBackupTables, tableStats } from "./BackupStats.ts"
import { EmbeddedPostgres } from "../database/EmbeddedPostgres.ts"
import { redactUrl } from "../database/Database.ts"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { BackupFailed, EmbeddedUnsupported, InvalidOptions } from "../MigrationErrorReason.ts"
import { findPgTools, type PgTool, spawnTool, toolConnection } from "./PgTools.ts"
import { writeHashed } from "./StreamingHash.ts"
import { isEmbeddedDatabase } from "../schema/TargetLock.ts"
import { now } from "../../shared/WallClock.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface CreateBackupOptions {
  /** Tables to dump (optionally `schema.table`, and `table:column` for its stage column; default `portfolio_companies`). */
  readonly tables?: ReadonlyArray<string> | undefined
  /**
   * The stage column whose values are counted in the manifest. Given: every table must have it.
   * Absent: `stage`, on the tables that have one.
   */
  readonly column?: string | undefined
  /** Directory of the backup files (created if missing; default `backups`). */
  readonly dir?: string | undefined
  /** Where `pg_dump` of the server's major version lives (default: searched). */
  readonly pgBinDir?: string | undefined
  /** The connection URL for pg_dump (the URL the `SqlClient` was built from). */
  readonly databaseUrl: string
  /** Progress messages. */
  readonly onEvent?: ((message: string) => Effect.Effect<void>) | undefined
}

/**
 * A backup made by {@link createBackup}.
 *
 * @since 0.1.0
 * @category models
 */
export interface BackupResult {
  readonly manifestPath: string
  readonly dumpPath: string
  readonly manifest: BackupManifest
}

const stamp = (d: Date): string => d.toISOString().replace(/[-:]/g, "").replace(".", "")

const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]+/g, "_")

/** `"schema"."table"`, the exact-match form of a pg_dump `--table` pattern. */
const dumpPattern = (t: BackupStatsTable): string =>
  `"${t.schema.replace(/"/g, "\"\"")}"."${t.table.replace(/"/g, "\"\"")}"`

const sqlFailed = (what: string) => (cause: unknown) =>
  cause instanceof MigrationError
    ? cause
    : new MigrationError({ reason: new BackupFailed({ detail: `${what}: ${describeCause(cause)}`, cause }) })

/**
 * The embedded database this process serves, when the connection is to one (`undefined` for a
 * real server); an embedded database served elsewhere, or in memory, cannot be backed up.
 */
const embeddedSource = Effect.gen(function*() {
  if (!(yield* isEmbeddedDatabase)) return undefined
  const handle = yield* Effect.serviceOption(EmbeddedPostgres)
  if (handle._tag === "None") {
    return yield* new MigrationError({
      reason: new EmbeddedUnsupported({
        detail: "this embedded database is served by another process; back it up from the process that runs it " +
          "(stage-normalization backup create --database-url pglite:///path/to/dir)"
      })
    })
  }
  if (handle.value.dataDir === undefined) {
    return yield* new MigrationError({
      reason: new EmbeddedUnsupported({
        detail: "an in-memory embedded database (pglite://memory) ends with its process: there is nothing to back up. " +
          "Use a persisted one (pglite:///path/to/dir)"
      })
    })
  }
  return { ...handle.value, dataDir: handle.value.dataDir }
})

type Tables = Effect.Success<ReturnType<typeof resolveBackupTables>>

/** What a dump produced: the file's digest, the tables' statistics, the tool that wrote it. */
interface Dumped {
  readonly digest: Effect.Success<ReturnType<typeof writeHashed>>
  readonly stats: ReadonlyArray<BackupTable>
  readonly dumpTool: BackupManifest["dumpTool"]
}

/** The embedded database's data directory, with PGlite's `dumpDataDir`. */
const dumpEmbedded = (
  embedded: Effect.Success<typeof embeddedSource> & {},
  query: RunQuery,
  tables: Tables,
  dumpPath: string,
  emit: (line: string) => Effect.Effect<void>
) =>
  Effect.gen(function*() {
    const stats = yield* Effect.forEach(tables, (t) => tableStats(query, t))
    yield* emit(`dumping the embedded database (${embedded.dataDir}) with PGlite's dumpDataDir`)
    const blob = yield* embedded.dumpDataDir
    const digest = yield* writeHashed(Readable.fromWeb(blob.stream() as unknown as WebReadableStream<Uint8Array>), dumpPath, "dumpDataDir")
    return { digest, stats, dumpTool: null } satisfies Dumped as Dumped
  })

/**
 * `pg_dump` of the tables in our own snapshot: a REPEATABLE READ transaction exports it, pg_dump
 * dumps that very snapshot while the transaction stays open, and the manifest's counts are read
 * in it too.
 */
const dumpWithPgDump = (
  pgDump: PgTool,
  databaseUrl: string,
  tables: Tables,
  dumpPath: string,
  emit: (line: string) => Effect.Effect<void>
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const conn = yield* sql.reserve.pipe(Effect.mapError(sqlFailed("reserving a connection")))
    const run: RunQuery = (text, params = []) => conn.execute(text, params, undefined).pipe(Effect.mapError(sqlFailed("reading the backup snapshot")))
    yield* Effect.acquireRelease(run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"), () => run("ROLLBACK").pipe(Effect.ignore))
    const snapshot = String((yield* run("SELECT pg_export_snapshot() AS s"))[0]?.["s"] ?? "")
    const stats = yield* Effect.forEach(tables, (t) => tableStats(run, t))
    const connection = toolConnection(databaseUrl, "stage-normalization backup")
    yield* emit(`dumping ${tables.map((t) => t.label).join(", ")} with ${pgDump.path} (${pgDump.version}), snapshot ${snapshot}`)
    const args = ["--format=custom", "--no-password", `--snapshot=${snapshot}`, `--dbname=${connection.url}`, ...tables.map((t) => `--table=${dumpPattern(t)}`)]
    const running = spawnTool(pgDump, args, connection.env, BackupFailed)
    const [digest] = yield* Effect.all([writeHashed(running.child.stdout!, dumpPath, "pg_dump"), running.done], { concurrency: 2 })
    return { digest, stats, dumpTool: { path: pgDump.path, version: pgDump.version } } satisfies Dumped as Dumped
  })

/** A path that is not a directory one can create is bad input (exit 2), not a failed backup. */
const BAD_PATH = new Set(["ENOTDIR", "EEXIST", "ENOENT", "EACCES", "EPERM", "EROFS", "ENAMETOOLONG", "ELOOP", "EISDIR"])

const backupDirError = (dir: string) => (cause: unknown): MigrationError => {
  const code = (cause as { readonly code?: unknown } | null)?.code
  const detail = `cannot create the backup directory ${dir}: ${describeCause(cause)}`
  return typeof code === "string" && BAD_PATH.has(code)
    ? new MigrationError({ reason: new InvalidOptions({ detail: `${detail} (check --dir)`, cause }) })
    : new MigrationError({ reason: new BackupFailed({ detail, cause }) })
}

/**
 * Back up the target tables (see the module header): the dump, its `.sha256` and the manifest.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { createBackup, layerFromUrl } from "stage-normalization/migration"
 * const url = process.env.DATABASE_URL!
 * const program = createBackup({ databaseUrl: url, tables: ["portfolio_companies"], dir: "backups" }).pipe(
 *   Effect.map((b) => `${b.manifestPath}: ${b.manifest.sha256}`),
 *   Effect.provide(layerFromUrl(url))
 * )
 * ```
 *
 * @since 0.1.0
 * @category backups
 */
export const createBackup = Effect.fn("Migration.createBackup")(function*(options: CreateBackupOptions) {
  const sql = yield* SqlClient.SqlClient
  const query = queryWith(sql, "reading the tables to back up")
  const emit = options.onEvent ?? (() => Effect.void)
  const dir = options.dir ?? "backups"
  const names = options.tables !== undefined && options.tables.length > 0 ? options.tables : ["portfolio_companies"]
  const embedded = yield* embeddedSource
  const tables = yield* resolveBackupTables(query, names, options.column)
  const server = yield* readServerInfo(query)
  const pgDump = embedded === undefined
    ? (yield* findPgTools(["pg_dump"], Math.floor(server.versionNum / 10_000), options.pgBinDir)).pg_dump
    : undefined
  const createdAt = yield* now
  const more = tables.length > 1 ? `-and-${tables.length - 1}-more` : ""
  const stem = `${safe(server.name)}-${safe(tables[0]!.table)}${more}-${stamp(createdAt)}`
  const format = embedded === undefined ? "pg_dump-custom" : "pglite-datadir"
  const paths = backupPaths(dir, stem, format)
  yield* Effect.tryPromise({ try: () => mkdir(dir, { recursive: true }), catch: backupDirError(dir) })
  const cleanup = Effect.promise(() =>
    Promise.all([rm(paths.dump, { force: true }), rm(paths.sha256, { force: true }), rm(paths.manifest, { force: true })])
  )
  const dump: Effect.Effect<Dumped, MigrationError, SqlClient.SqlClient | Scope.Scope> = embedded !== undefined
    ? dumpEmbedded(embedded, query, tables, paths.dump, emit)
    : dumpWithPgDump(pgDump!, options.databaseUrl, tables, paths.dump, emit)
  const dumped = yield* dump.pipe(Effect.scoped, Effect.onError(() => cleanup))
  const manifest: BackupManifest = {
    manifestVersion: 1,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    createdAt: createdAt.toISOString(),
    format,
    file: basename(paths.dump),
    bytes: dumped.digest.bytes,
    sha256: dumped.digest.sha256,
    database: {
      name: server.name,
      location: embedded === undefined ? redactUrl(options.databaseUrl) : `embedded database in ${embedded.dataDir}`,
      serverVersion: server.version,
      serverVersionNum: server.versionNum,
      systemIdentifier: server.systemIdentifier
    },
    dumpTool: dumped.dumpTool,
    tables: dumped.stats satisfies ReadonlyArray<BackupTable>,
    lastVerification: null,
    restoreTest: null
  }
  yield* Effect.tryPromise({
    try: () => writeFile(paths.sha256, `${dumped.digest.sha256}  ${basename(paths.dump)}\n`, { flag: "wx" }),
    catch: (cause) => new MigrationError({ reason: new BackupFailed({ detail: `cannot write ${paths.sha256}: ${describeCause(cause)}`, cause }) })
  }).pipe(Effect.andThen(writeManifest(paths.manifest, manifest)), Effect.onError(() => cleanup))
  yield* emit(`wrote ${paths.dump} (${dumped.digest.bytes} bytes, sha256 ${dumped.digest.sha256})`)
  return { manifestPath: paths.manifest, dumpPath: paths.dump, manifest } satisfies BackupResult as BackupResult
})
