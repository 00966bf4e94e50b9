/**
 * The manifest of a backup (`<stem>.manifest.json`, next to the dump and its `.sha256`): what was
 * dumped (tables, row counts, distinct stage values and a digest of their counts), from which
 * server, by which tools, the dump's size and SHA-256 — and, added later, the latest checksum
 * verification and restore test. The freshness gate of `migrate --apply` reads manifests only
 * through {@link readManifest}, which validates them: a hand-edited or truncated manifest is
 * rejected, never trusted.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { readdir, readFile, rename, writeFile } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import pkg from "../../../package.json" with { type: "json" }
import { describeCause, MigrationError } from "../MigrationError.ts"
import { BackupFailed, BackupInvalid } from "../MigrationErrorReason.ts"

/**
 * The name recorded as the backup's tool.
 *
 * @since 0.1.0
 * @category constants
 */
export const TOOL_NAME = "stage-normalization"

/**
 * The package version recorded in manifests and reports.
 *
 * @since 0.1.0
 * @category constants
 */
export const TOOL_VERSION: string = pkg.version

const Count = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))

/**
 * Row count and stage values of one table at backup time.
 *
 * @since 0.1.0
 * @category models
 */
export const BackupTable = Schema.Struct({
  /** `schema.table` */
  table: Schema.String,
  rows: Count,
  /** The stage column whose values were counted, or null. */
  column: Schema.NullOr(Schema.String),
  /** Distinct values of the column (as text; NULL counts as one value). */
  distinctValues: Schema.NullOr(Count),
  /** md5 of `value<TAB>rows` lines in byte order: equal digests mean equal value counts. */
  valuesMd5: Schema.NullOr(Schema.String),
  /** The most frequent values, for people. */
  topValues: Schema.Array(Schema.Struct({ value: Schema.NullOr(Schema.String), rows: Count }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type BackupTable = typeof BackupTable.Type

/**
 * One smoke query of a restore test.
 *
 * @since 0.1.0
 * @category models
 */
export const RestoreCheck = Schema.Struct({
  table: Schema.String,
  check: Schema.Literals(["rows", "distinctValues", "valuesMd5", "present"]),
  expected: Schema.String,
  found: Schema.String,
  ok: Schema.Boolean
})

/**
 * @since 0.1.0
 * @category models
 */
export type RestoreCheck = typeof RestoreCheck.Type

/**
 * The outcome of a restore test.
 *
 * @since 0.1.0
 * @category models
 */
export const RestoreTestResult = Schema.Struct({
  at: Schema.String,
  ok: Schema.Boolean,
  /** The checksum of the file that was restored. */
  sha256: Schema.String,
  /** The scratch database (dropped afterwards). */
  database: Schema.String,
  durationMs: Count,
  checks: Schema.Array(RestoreCheck),
  error: Schema.NullOr(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type RestoreTestResult = typeof RestoreTestResult.Type

/**
 * @since 0.1.0
 * @category models
 */
export const BackupManifest = Schema.Struct({
  manifestVersion: Schema.Literal(1),
  tool: Schema.Struct({ name: Schema.String, version: Schema.String }),
  createdAt: Schema.String,
  /** `pg_dump-custom` (`pg_dump -Fc`) or `pglite-datadir` (the embedded database's `dumpDataDir`, gzip tar). */
  format: Schema.Literals(["pg_dump-custom", "pglite-datadir"]),
  /** The dump's file name, in the manifest's directory. */
  file: Schema.String,
  bytes: Count,
  sha256: Schema.String,
  database: Schema.Struct({
    name: Schema.String,
    /** The URL without password, or "embedded database in …". */
    location: Schema.String,
    serverVersion: Schema.String,
    serverVersionNum: Count,
    systemIdentifier: Schema.NullOr(Schema.String)
  }),
  dumpTool: Schema.NullOr(Schema.Struct({ path: Schema.String, version: Schema.String })),
  tables: Schema.Array(BackupTable),
  lastVerification: Schema.NullOr(Schema.Struct({ at: Schema.String, ok: Schema.Boolean, sha256: Schema.String })),
  restoreTest: Schema.NullOr(RestoreTestResult)
})

/**
 * @since 0.1.0
 * @category models
 */
export type BackupManifest = typeof BackupManifest.Type

/**
 * The file names of a backup stem (`<dir>/<stem>`).
 *
 * @example
 * ```ts
 * import { backupPaths } from "./BackupManifest.ts" // internal: not part of the package's API
 * backupPaths("backups", "funds-portfolio_companies-20261124T120000Z", "pg_dump-custom")
 * // => { dump: "backups/funds-…Z.dump", sha256: "backups/funds-…Z.dump.sha256", manifest: "backups/funds-…Z.manifest.json" }
 * ```
 *
 * @since 0.1.0
 * @category paths
 */
export const backupPaths = (dir: string, stem: string, format: BackupManifest["format"]) => {
  const dump = join(dir, `${stem}${format === "pg_dump-custom" ? ".dump" : ".tar.gz"}`)
  return { dump, sha256: `${dump}.sha256`, manifest: join(dir, `${stem}.manifest.json`) }
}

/**
 * The dump file of a manifest read from `manifestPath`.
 *
 * @since 0.1.0
 * @category paths
 */
export const dumpPathOf = (manifestPath: string, manifest: BackupManifest): string =>
  join(dirname(manifestPath), basename(manifest.file))

const decode = Schema.decodeUnknownEffect(Schema.fromJsonString(BackupManifest))
const encode = Schema.encodeEffect(Schema.fromJsonString(BackupManifest))

/**
 * Read and validate a manifest.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { readManifest } from "stage-normalization/migration"
 * const program = readManifest("backups/x.manifest.json").pipe(Effect.map((m) => m.sha256))
 * ```
 *
 * @since 0.1.0
 * @category manifests
 */
export const readManifest = (path: string): Effect.Effect<BackupManifest, MigrationError> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (cause) => new MigrationError({ reason: new BackupInvalid({ detail: `cannot read ${path}: ${describeCause(cause)}`, cause }) })
  }).pipe(
    Effect.flatMap((text) =>
      decode(text).pipe(
        Effect.mapError((cause) =>
          new MigrationError({ reason: new BackupInvalid({ detail: `${path} is not a valid backup manifest: ${cause.message}`, cause }) })
        )
      )
    )
  )

/**
 * Write a manifest atomically (a temporary file renamed over it).
 *
 * @since 0.1.0
 * @category manifests
 */
export const writeManifest = (path: string, manifest: BackupManifest): Effect.Effect<void, MigrationError> =>
  encode(manifest).pipe(
    Effect.mapError((cause) => new MigrationError({ reason: new BackupFailed({ detail: `invalid manifest: ${cause.message}`, cause }) })),
    Effect.flatMap((json) =>
      Effect.tryPromise({
        try: async () => {
          const tmp = `${path}.tmp-${process.pid}`
          await writeFile(tmp, `${JSON.stringify(JSON.parse(json), null, 2)}\n`)
          await rename(tmp, path)
        },
        catch: (cause) => new MigrationError({ reason: new BackupFailed({ detail: `cannot write ${path}: ${describeCause(cause)}`, cause }) })
      })
    )
  )

/**
 * A manifest file found in a directory: decoded, or the reason it could not be.
 *
 * @since 0.1.0
 * @category models
 */
type FoundManifest =
  | { readonly _tag: "Valid"; readonly path: string; readonly manifest: BackupManifest }
  | { readonly _tag: "Invalid"; readonly path: string; readonly error: string }

/**
 * Every `*.manifest.json` of a directory, newest first (by `createdAt`); invalid ones last, with
 * their error. A missing directory holds none.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { listManifests } from "./BackupManifest.ts" // internal: not part of the package's API
 * const program = listManifests("backups").pipe(Effect.map((all) => all.length))
 * ```
 *
 * @since 0.1.0
 * @category manifests
 */
export const listManifests = (dir: string): Effect.Effect<ReadonlyArray<FoundManifest>> =>
  Effect.promise(() => readdir(dir).catch(() => [] as Array<string>)).pipe(
    Effect.flatMap((names) =>
      Effect.forEach(
        names.filter((n) => n.endsWith(".manifest.json")).sort(),
        (name) => {
          const path = join(dir, name)
          return readManifest(path).pipe(
            Effect.map((manifest): FoundManifest => ({ _tag: "Valid", path, manifest })),
            Effect.catch((e) => Effect.succeed<FoundManifest>({ _tag: "Invalid", path, error: e.message }))
          )
        }
      )
    ),
    Effect.map((found) =>
      [...found].sort((a, b) =>
        a._tag !== b._tag
          ? (a._tag === "Valid" ? -1 : 1)
          : a._tag === "Valid" && b._tag === "Valid"
          ? b.manifest.createdAt.localeCompare(a.manifest.createdAt)
          : a.path.localeCompare(b.path)
      )
    )
  )
