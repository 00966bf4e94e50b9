/**
 * `backup restore-test`: prove a backup restores. The dump's checksum is verified first (a
 * mismatch fails the test before anything is created); then it is restored into a **scratch
 * database created for the test and dropped whatever happens** — success, a failed restore, a
 * failed smoke query, interruption (SIGINT) — and smoke queries compare, table by table, the row
 * count, the number of distinct stage values and the digest of the value counts with the
 * manifest. The outcome (with the checksum it applies to) is recorded in the manifest: the
 * freshness gate of `migrate --apply` requires a passing one.
 *
 * - `pg_dump-custom` backups: `pg_restore --no-owner --no-privileges --exit-on-error` of the
 *   server's major version, into `CREATE DATABASE stage_restore_<random>` on the server of the
 *   connection (which may be a staging server), dropped with `DROP DATABASE … WITH (FORCE)`.
 *   The restore follows the archive's table of contents without its `FK CONSTRAINT` entries: a
 *   backup of one table (`portfolio_companies`) references tables that are not in it (`funds`),
 *   the scratch database cannot hold those constraints, and they are not data — what the test
 *   proves is that the rows come back. The event stream says how many were left out.
 * - `pglite-datadir` backups (the embedded database): loaded into a fresh in-memory PGlite
 *   (`loadDataDir`), closed afterwards; no server needed.
 *
 * @since 0.1.0
 */
import { Effect, Redacted } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { SqlClient } from "effect/sql"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type BackupManifest, dumpPathOf, readManifest, type RestoreCheck, type RestoreTestResult, writeManifest } from "./BackupManifest.ts"
import { queryWith, readServerInfo, type RunQuery, tableStats } from "./BackupStats.ts"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { EmbeddedUnsupported, InvalidOptions, RestoreTestFailed } from "../MigrationErrorReason.ts"
import { loadPgClient, loadPglite } from "../database/Drivers.ts"
import { findPgTools, type PgTool, spawnTool, toolConnection, withDatabaseName } from "./PgTools.ts"
import { hashFile } from "./StreamingHash.ts"
import { isEmbeddedDatabase } from "../schema/TargetLock.ts"
import { elapsedSince, nowIso, nowMillis } from "../../shared/WallClock.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface RestoreTestOptions {
  readonly manifestPath: string
  /** The server to restore on (`pg_dump-custom` backups); the URL the `SqlClient` was built from. */
  readonly databaseUrl?: string | undefined
  readonly pgBinDir?: string | undefined
  readonly onEvent?: ((message: string) => Effect.Effect<void>) | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RestoreTestOutcome {
  readonly manifestPath: string
  readonly result: RestoreTestResult
}

const failed = (what: string) => (cause: unknown) =>
  cause instanceof MigrationError
    ? cause
    : new MigrationError({ reason: new RestoreTestFailed({ detail: `${what}: ${describeCause(cause)}`, cause }) })

/** Compare the restored tables with the manifest. */
const smokeChecks = (query: RunQuery, manifest: BackupManifest) =>
  Effect.forEach(manifest.tables, (expected) =>
    Effect.gen(function*() {
      const [schema, ...rest] = expected.table.split(".")
      const table = rest.join(".")
      const present = yield* query(
        `SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL AS ok`,
        [schema, table]
      )
      if (present[0]?.["ok"] !== true) {
        return [{ table: expected.table, check: "present", expected: "a table", found: "missing", ok: false }] satisfies Array<RestoreCheck>
      }
      const found = yield* tableStats(query, { schema: schema!, table, column: expected.column })
      const checks: Array<RestoreCheck> = [
        { table: expected.table, check: "rows", expected: String(expected.rows), found: String(found.rows), ok: found.rows === expected.rows }
      ]
      if (expected.column !== null) {
        checks.push(
          {
            table: expected.table,
            check: "distinctValues",
            expected: String(expected.distinctValues),
            found: String(found.distinctValues),
            ok: found.distinctValues === expected.distinctValues
          },
          {
            table: expected.table,
            check: "valuesMd5",
            expected: expected.valuesMd5 ?? "",
            found: found.valuesMd5 ?? "",
            ok: found.valuesMd5 === expected.valuesMd5
          }
        )
      }
      return checks
    })).pipe(Effect.map((all) => all.flat()))

const record = (manifestPath: string, manifest: BackupManifest, result: RestoreTestResult) =>
  writeManifest(manifestPath, { ...manifest, restoreTest: result }).pipe(Effect.as({ manifestPath, result } satisfies RestoreTestOutcome))

/**
 * The archive's table of contents (`pg_restore --list`) without its `FK CONSTRAINT` entries,
 * written to a temporary file for `--use-list` (removed with the scope).
 */
const listWithoutForeignKeys = (tool: PgTool, dumpPath: string) =>
  Effect.gen(function*() {
    const running = spawnTool(tool, ["--list", dumpPath], {}, RestoreTestFailed)
    let listing = ""
    running.child.stdout!.setEncoding("utf8").on("data", (d: string) => (listing += d))
    yield* running.done
    const lines = listing.split("\n")
    const kept = lines.filter((line) => !/^\d+;\s+\d+\s+\d+\s+FK CONSTRAINT\s/.test(line))
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "stage-restore-list-"))),
      (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
    )
    const listPath = join(dir, "contents.list")
    yield* Effect.try({ try: () => writeFileSync(listPath, kept.join("\n")), catch: failed(`writing ${listPath}`) })
    return { listPath, foreignKeys: lines.length - kept.length }
  })

/** Restore a pg_dump archive into a scratch database and run the smoke queries there. */
const restorePostgres = (manifest: BackupManifest, dumpPath: string, options: RestoreTestOptions) =>
  Effect.gen(function*() {
    const client = yield* Effect.serviceOption(SqlClient.SqlClient)
    const emit = options.onEvent ?? (() => Effect.void)
    if (options.databaseUrl === undefined || client._tag === "None") {
      return yield* new MigrationError({ reason: new InvalidOptions({ detail: "a pg_dump backup's restore test needs --database-url (the server to restore on)" }) })
    }
    const sql = client.value
    const url = options.databaseUrl
    if (yield* Effect.provideService(isEmbeddedDatabase, SqlClient.SqlClient, sql)) {
      return yield* new MigrationError({
        reason: new EmbeddedUnsupported({
          detail: "the embedded database cannot host a pg_restore scratch database: restore-test a pg_dump backup on a PostgreSQL server"
        })
      })
    }
    const server = yield* readServerInfo(queryWith(sql, "identifying the server", RestoreTestFailed))
    const tools = yield* findPgTools(["pg_restore"], Math.floor(server.versionNum / 10_000), options.pgBinDir)
    const name = `stage_restore_${randomBytes(6).toString("hex")}`
    const admin = queryWith(sql, "managing the scratch database", RestoreTestFailed)
    yield* Effect.acquireRelease(
      admin(`CREATE DATABASE ${name} TEMPLATE template0`).pipe(Effect.tap(() => emit(`created scratch database ${name}`))),
      () =>
        admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).pipe(
          Effect.tap(() => emit(`dropped scratch database ${name}`)),
          Effect.catch((e) => emit(`could not drop scratch database ${name}: ${e.message} — drop it by hand`))
        )
    )
    const connection = toolConnection(withDatabaseName(url, name), "stage-normalization restore-test")
    const contents = yield* listWithoutForeignKeys(tools.pg_restore!, dumpPath)
    if (contents.foreignKeys > 0) {
      yield* emit(`leaving out ${contents.foreignKeys} foreign key constraint(s): the tables they reference are not in the backup`)
    }
    yield* emit(`restoring ${dumpPath} into ${name} with ${tools.pg_restore!.path}`)
    yield* spawnTool(
      tools.pg_restore!,
      [
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--no-password",
        `--use-list=${contents.listPath}`,
        `--dbname=${connection.url}`,
        dumpPath
      ],
      connection.env,
      RestoreTestFailed
    ).done
    yield* emit(`smoke queries on ${name}`)
    const PgClient = yield* loadPgClient("restoreTest")
    const scratch = yield* PgClient.make({
      url: Redacted.make(withDatabaseName(url, name)),
      maxConnections: 1,
      applicationName: "stage-normalization restore-test"
    }).pipe(Effect.provide(Reactivity.layer), Effect.mapError(failed(`connecting to ${name}`)))
    const checks = yield* smokeChecks(queryWith(scratch, `smoke queries on ${name}`, RestoreTestFailed), manifest)
    return { database: name, checks }
  }).pipe(Effect.scoped)

/** Load a PGlite data-directory dump into a fresh in-memory PGlite and run the smoke queries. */
const restoreEmbedded = (manifest: BackupManifest, dumpPath: string, options: RestoreTestOptions) =>
  Effect.gen(function*() {
    const emit = options.onEvent ?? (() => Effect.void)
    const bytes = yield* Effect.tryPromise({ try: () => readFile(dumpPath), catch: failed(`reading ${dumpPath}`) })
    yield* emit(`loading ${dumpPath} into a scratch in-memory embedded database`)
    const [{ PGlite }] = yield* loadPglite("restoreTest")
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          return await PGlite.create({ loadDataDir: new Blob([new Uint8Array(bytes)]) })
        },
        catch: failed("loading the data directory into PGlite")
      }),
      (db) => Effect.promise(() => db.close().catch(() => undefined)).pipe(Effect.andThen(emit("closed the scratch embedded database")))
    )
    const query: RunQuery = (text, params = []) =>
      Effect.tryPromise({
        try: () => db.query<Record<string, unknown>>(text, [...params]).then((r) => r.rows),
        catch: failed("smoke queries on the scratch embedded database")
      })
    const checks = yield* smokeChecks(query, manifest)
    return { database: "in-memory embedded database", checks }
  }).pipe(Effect.scoped)

/**
 * Run the restore test of a backup (see the module header) and record it in its manifest. A
 * failing test is a result with `ok: false` (also recorded), not an error; errors are bad input
 * (no such manifest, missing tools, no server for a pg_dump backup).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { layerFromUrl, restoreTest } from "stage-normalization/migration"
 * const url = process.env.DATABASE_URL!
 * const program = restoreTest({ manifestPath: "backups/x.manifest.json", databaseUrl: url }).pipe(
 *   Effect.map((o) => o.result.ok),
 *   Effect.provide(layerFromUrl(url))
 * )
 * ```
 *
 * @since 0.1.0
 * @category backups
 */
export const restoreTest = Effect.fn("Migration.restoreTest")(function*(options: RestoreTestOptions) {
  const started = yield* nowMillis
  const manifest = yield* readManifest(options.manifestPath)
  const dumpPath = dumpPathOf(options.manifestPath, manifest)
  const base = { at: yield* nowIso, sha256: manifest.sha256 }
  const digest = yield* hashFile(dumpPath).pipe(Effect.option)
  if (digest._tag === "None" || digest.value.sha256 !== manifest.sha256) {
    const error = digest._tag === "None"
      ? `the dump ${dumpPath} is missing or unreadable`
      : `checksum mismatch: the manifest says ${manifest.sha256}, ${dumpPath} hashes to ${digest.value.sha256}`
    return yield* record(options.manifestPath, manifest, {
      ...base,
      ok: false,
      database: "",
      durationMs: yield* elapsedSince(started),
      checks: [],
      error
    })
  }
  const restored = manifest.format === "pglite-datadir"
    ? restoreEmbedded(manifest, dumpPath, options)
    : restorePostgres(manifest, dumpPath, options)
  const outcome = yield* restored.pipe(
    Effect.flatMap(({ database, checks }) => Effect.map(elapsedSince(started), (durationMs): RestoreTestResult => {
      const bad = checks.filter((c) => !c.ok)
      return {
        ...base,
        ok: bad.length === 0,
        database,
        durationMs,
        checks,
        error: bad.length === 0 ? null : bad.map((c) => `${c.table} ${c.check}: expected ${c.expected}, found ${c.found}`).join("; ")
      }
    })),
    Effect.catchIf(
      (e) => e._tag === "MigrationError" && e.reason._tag === "RestoreTestFailed",
      (e) =>
        Effect.map(elapsedSince(started), (durationMs): RestoreTestResult => ({ ...base, ok: false, database: "", durationMs, checks: [], error: e.message }))
    )
  )
  return yield* record(options.manifestPath, manifest, outcome)
})
