/**
 * `stage-normalization backup create | verify | restore-test`: the backups `migrate --apply`
 * requires.
 *
 * - `create --table T [--table U:mix] [--column stage] [--dir backups]`: `pg_dump -Fc` of the tables
 *   (on a snapshot shared with the manifest's counts), `<file>.sha256` computed while streaming,
 *   and `<stem>.manifest.json` (tables, row counts, distinct stage values, created_at, server and
 *   tool versions). On a persisted embedded database (`pglite:///dir`), PGlite's own
 *   `dumpDataDir` serves instead of pg_dump.
 * - `verify [--manifest FILE | --dir backups [--table T]]`: recompute the checksum (streaming).
 * - `restore-test [--manifest FILE | --dir backups [--table T]]`: restore into a scratch database
 *   (dropped whatever happens, SIGINT included), compare row counts and stage values with the
 *   manifest, and record the result in the manifest — the freshness gate needs a passing one.
 *
 * Exit codes: 0 ok, 1 a checksum mismatch or a failed restore test, 2 bad input (no such table or
 * manifest, `pg_dump`/`pg_restore` of the server's major version missing — the message says which
 * and where it looked —, an in-memory embedded database, unreachable database).
 *
 * @since 0.1.0
 */
import type { PgClient } from "@effect/sql-pg"
import { Console, Effect, Layer, Option, Scope } from "effect"
import { Command, Flag } from "effect/cli"
import type { SqlClient } from "effect/sql"
import { createBackup } from "../../migration/backup/BackupCreate.ts"
import { readManifest } from "../../migration/backup/BackupManifest.ts"
import { selectManifest, verifyBackup } from "../../migration/backup/BackupVerify.ts"
import { layerFromUrl, parseDatabaseUrl } from "../../migration/database/Database.ts"
import { layerEmbedded } from "../../migration/database/EmbeddedPostgres.ts"
import type { MigrationError } from "../../migration/MigrationError.ts"
import type { MissingPeerDependencyError } from "../../shared/PeerDependency.ts"
import { restoreTest } from "../../migration/backup/RestoreRehearsal.ts"
import { CliExitCode, CliInputError } from "../CliInputError.ts"
import { databaseErrorToCli, databaseUrlFlag, requireDatabaseUrl } from "../CommandDatabase.ts"
import { renderTable } from "../Table.ts"

/** Like `withDatabase`, but an embedded URL also provides `EmbeddedPostgres` (for its own dump). */
const withBackupDatabase = <A>(
  url: string,
  program: Effect.Effect<A, MigrationError | MissingPeerDependencyError, SqlClient.SqlClient | PgClient.PgClient | Scope.Scope>
): Effect.Effect<A, CliInputError | CliExitCode> =>
  Effect.gen(function*() {
    const location = yield* Effect.fromResult(parseDatabaseUrl(url))
    const layer: Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, MigrationError | MissingPeerDependencyError> =
      location._tag === "Embedded"
      ? layerEmbedded({ dataDir: location.dataDir, applicationName: "stage-normalization backup" })
      : layerFromUrl(url, { applicationName: "stage-normalization backup", maxConnections: 2 })
    return yield* Effect.scoped(program).pipe(Effect.provide(layer))
  }).pipe(Effect.mapError(databaseErrorToCli))

const databaseUrl = databaseUrlFlag("postgres://… or pglite:///dir (else DATABASE_URL)")
const pgBinDir = Flag.String("pg-bin-dir").pipe(
  Flag.withDescription("Directory of pg_dump/pg_restore of the server's major version (default: searched)"),
  Flag.optional
)
const json = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON"), Flag.withDefault(false))
const selection = {
  manifest: Flag.String("manifest").pipe(Flag.withDescription("The backup's .manifest.json"), Flag.optional),
  dir: Flag.String("dir").pipe(Flag.withDescription("Backup directory (the newest manifest is used)"), Flag.withDefault("backups")),
  table: Flag.String("table").pipe(Flag.withDescription("With --dir: the newest backup holding this table"), Flag.optional)
}

const chosen = (f: { manifest: Option.Option<string>; dir: string; table: Option.Option<string> }) =>
  selectManifest({ manifest: Option.getOrUndefined(f.manifest), dir: f.dir, table: Option.getOrUndefined(f.table) }).pipe(
    Effect.mapError(databaseErrorToCli)
  )

const say = (quiet: boolean) => (message: string) => (quiet ? Effect.void : Effect.sync(() => process.stderr.write(`${message}\n`)))

const createCommand = Command.make(
  "create",
  {
    databaseUrl,
    table: Flag.String("table").pipe(
      Flag.withDescription("Table to back up, table:column to name its stage column (repeatable; default portfolio_companies)"),
      Flag.atLeast(0)
    ),
    column: Flag.String("column").pipe(
      Flag.withDescription("Stage column counted in the manifest (default: stage, where it exists)"),
      Flag.optional
    ),
    dir: Flag.String("dir").pipe(Flag.withDescription("Where to write the backup"), Flag.withDefault("backups")),
    pgBinDir,
    json
  },
  Effect.fnUntraced(function*(f) {
    const url = yield* requireDatabaseUrl(f.databaseUrl, "backup create")
    const result = yield* withBackupDatabase(
      url,
      createBackup({
        databaseUrl: url,
        tables: f.table,
        column: Option.getOrUndefined(f.column),
        dir: f.dir,
        pgBinDir: Option.getOrUndefined(f.pgBinDir),
        onEvent: say(f.json)
      })
    )
    if (f.json) return yield* Console.log(JSON.stringify({ manifestPath: result.manifestPath, ...result.manifest }))
    const m = result.manifest
    yield* Console.log([
      `Backup written: ${result.dumpPath} (${m.format}, ${m.bytes.toLocaleString("en-US")} bytes)`,
      `  sha256 ${m.sha256} (also in ${result.dumpPath}.sha256)`,
      `  manifest ${result.manifestPath}`,
      "",
      renderTable(
        ["table", "rows", "column", "distinct values"],
        m.tables.map((t) => [t.table, String(t.rows), t.column ?? "—", t.distinctValues === null ? "—" : String(t.distinctValues)])
      ),
      "",
      `Next: stage-normalization backup restore-test --manifest ${result.manifestPath}` +
      (m.format === "pg_dump-custom" ? " --database-url …" : "")
    ].join("\n"))
  })
).pipe(Command.withDescription("Back up tables: pg_dump -Fc, a streamed SHA-256 and a manifest"))

const verifyBackupCommand = Command.make(
  "verify",
  { ...selection, json },
  Effect.fnUntraced(function*(f) {
    const manifestPath = yield* chosen(f)
    const v = yield* verifyBackup(manifestPath).pipe(Effect.mapError(databaseErrorToCli))
    if (f.json) yield* Console.log(JSON.stringify(v))
    else {
      yield* Console.log(v.ok
        ? `Checksum OK: ${v.dumpPath} (sha256 ${v.found}, ${v.bytes?.toLocaleString("en-US")} bytes)`
        : `Checksum FAILED for ${v.dumpPath}:\n  ${v.problems.join("\n  ")}`)
    }
    if (!v.ok) return yield* new CliExitCode({ code: 1, reason: `backup ${manifestPath} failed verification` })
  })
).pipe(Command.withDescription("Recompute a backup's SHA-256 (streaming) and compare it with its manifest"))

const restoreTestCommand = Command.make(
  "restore-test",
  { databaseUrl, ...selection, pgBinDir, json },
  Effect.fnUntraced(function*(f) {
    const manifestPath = yield* chosen(f)
    const manifest = yield* readManifest(manifestPath).pipe(Effect.mapError(databaseErrorToCli))
    const options = { manifestPath, pgBinDir: Option.getOrUndefined(f.pgBinDir), onEvent: say(f.json) }
    const outcome = manifest.format === "pglite-datadir"
      ? yield* restoreTest(options).pipe(Effect.mapError(databaseErrorToCli))
      : yield* Effect.gen(function*() {
        const url = yield* requireDatabaseUrl(f.databaseUrl, "backup restore-test")
        return yield* withBackupDatabase(url, restoreTest({ ...options, databaseUrl: url }))
      })
    const r = outcome.result
    if (f.json) yield* Console.log(JSON.stringify({ manifestPath, ...r }))
    else {
      yield* Console.log([
        `Restore test ${r.ok ? "PASSED" : "FAILED"}: ${manifestPath}${r.database === "" ? "" : ` → ${r.database} (dropped)`} in ${
          (r.durationMs / 1000).toFixed(1)
        } s`,
        ...(r.checks.length > 0
          ? ["", renderTable(["table", "check", "expected", "found", "ok"], r.checks.map((c) => [c.table, c.check, c.expected, c.found, c.ok ? "yes" : "NO"]))]
          : []),
        ...(r.error === null ? [] : ["", `error: ${r.error}`]),
        "",
        r.ok ? "Recorded in the manifest: migrate --apply accepts this backup while it is fresh." : "Recorded in the manifest: migrate --apply will not accept this backup."
      ].join("\n"))
    }
    if (!r.ok) return yield* new CliExitCode({ code: 1, reason: `restore test of ${manifestPath} failed` })
  })
).pipe(Command.withDescription("Restore a backup into a scratch database (always dropped) and compare it with its manifest"))

/**
 * @since 0.1.0
 * @category commands
 */
export const backupCommand = Command.make("backup").pipe(
  Command.withDescription("Backups before a migration: create, verify, restore-test"),
  Command.withSubcommands([createCommand, verifyBackupCommand, restoreTestCommand]),
  Command.withExamples([
    { command: "stage-normalization backup create --table portfolio_companies --dir backups", description: "Dump, hash, manifest" },
    { command: "stage-normalization backup verify --dir backups", description: "Check the newest backup's checksum" },
    { command: "stage-normalization backup restore-test --dir backups --table portfolio_companies", description: "Prove it restores" }
  ])
)
