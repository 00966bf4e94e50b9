/**
 * The freshness gate of `migrate --apply`: a new run starts only when the backup directory holds
 * a backup of the target table that is
 *
 * 1. of this database (same name, and same system identifier when both are known),
 * 2. newer than the maximum age (default 24 h; a manifest dated in the future is refused),
 * 3. restore-tested successfully, for the very checksum the manifest records, and
 * 4. intact now: its dump file's SHA-256 is recomputed (streaming) and must match.
 *
 * Otherwise it fails with `BackupRequired`, saying why each candidate was refused and exactly
 * which commands make one — or that `--no-backup-check` skips the gate (the skip is recorded in
 * the run's parameters, as is the backup used when the gate passes). Nothing is written by the
 * gate; the refusal happens before the run writes anything.
 *
 * @since 0.1.0
 */
import { Effect, Result } from "effect"
import { SqlClient } from "effect/sql"
import { dumpPathOf, listManifests } from "./BackupManifest.ts"
import { queryWith, readServerInfo } from "./BackupStats.ts"
import { MigrationError } from "../MigrationError.ts"
import { BackupRequired, InvalidOptions, QueryFailed } from "../MigrationErrorReason.ts"
import { hashFile } from "./StreamingHash.ts"
import { now as currentDate } from "../../shared/WallClock.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface BackupGateOptions {
  /** Where backups are (`--backup-dir`, default `backups`). */
  readonly dir: string
  /** Oldest acceptable backup (`--max-backup-age`, default 24 h). */
  readonly maxAgeMs: number
  /** How to name the database in the suggested commands (default `"$DATABASE_URL"`). */
  readonly databaseUrlHint?: string | undefined
  /** The clock (tests). */
  readonly now?: Date | undefined
}

/**
 * The backup that let a run start, recorded in its parameters.
 *
 * @since 0.1.0
 * @category models
 */
export interface BackupEvidence {
  readonly manifest: string
  readonly file: string
  readonly sha256: string
  readonly createdAt: string
  readonly restoreTestedAt: string
  readonly ageSeconds: number
}

/**
 * The default maximum backup age: 24 hours.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_BACKUP_AGE_MS = 24 * 3_600_000

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  sec: 1_000,
  second: 1_000,
  seconds: 1_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000
}

/**
 * Parse a maximum age: a number and a unit (`90m`, `24h`, `2 days`, `3600s`).
 *
 * @example
 * ```ts
 * import { parseMaxAge } from "stage-normalization/migration"
 * parseMaxAge("24h")    // => Result.succeed(86400000)
 * parseMaxAge("90 min") // => Result.succeed(5400000)
 * parseMaxAge("soon")   // => Result.fail(MigrationError("InvalidOptions"))
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseMaxAge = (text: string): Result.Result<number, MigrationError> => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text)
  const unit = m === null ? undefined : UNITS[m[2]!.toLowerCase()]
  if (m === null || unit === undefined || Number(m[1]) <= 0) {
    return Result.fail(
      new MigrationError({
        reason: new InvalidOptions({
          detail: `--max-backup-age ${JSON.stringify(text)}: expected a positive duration such as 24h, 90m or 2d`
        })
      })
    )
  }
  return Result.succeed(Math.round(Number(m[1]) * unit))
}

const hours = (ms: number): string => `${(ms / 3_600_000).toFixed(1)} h`

/**
 * Find a fresh, restore-tested, intact backup of `table` (see the module header), or fail with
 * `BackupRequired` saying what to run.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { requireFreshBackup } from "stage-normalization/migration"
 * const program = requireFreshBackup("public.portfolio_companies", { dir: "backups", maxAgeMs: 24 * 3_600_000 })
 * ```
 *
 * @since 0.1.0
 * @category backups
 */
export const requireFreshBackup = Effect.fn("Migration.requireFreshBackup")(function*(
  table: string,
  options: BackupGateOptions
) {
  const sql = yield* SqlClient.SqlClient
  const server = yield* readServerInfo(queryWith(sql, "identifying the database", QueryFailed))
  const now = options.now ?? (yield* currentDate)
  const found = yield* listManifests(options.dir)
  const refused: Array<string> = []
  for (const entry of found) {
    if (entry._tag === "Invalid") {
      refused.push(`${entry.path}: ${entry.error}`)
      continue
    }
    const { manifest, path } = entry
    if (!manifest.tables.some((t) => t.table === table)) continue
    const created = Date.parse(manifest.createdAt)
    const age = now.getTime() - created
    const why = manifest.database.name !== server.name ||
        (manifest.database.systemIdentifier !== null && server.systemIdentifier !== null &&
          manifest.database.systemIdentifier !== server.systemIdentifier)
      ? `is a backup of another database (${manifest.database.location})`
      : Number.isNaN(created)
      ? "has no valid creation time"
      : age < -5 * 60_000
      ? `is dated in the future (${manifest.createdAt})`
      : age > options.maxAgeMs
      ? `is ${hours(age)} old (the limit is ${hours(options.maxAgeMs)})`
      : manifest.restoreTest === null
      ? "was never restore-tested"
      : !manifest.restoreTest.ok
      ? `failed its restore test at ${manifest.restoreTest.at}: ${manifest.restoreTest.error ?? "a smoke query differed"}`
      : manifest.restoreTest.sha256 !== manifest.sha256
      ? "was restore-tested with another checksum"
      : undefined
    if (why !== undefined) {
      refused.push(`${path} ${why}`)
      continue
    }
    const dump = dumpPathOf(path, manifest)
    const digest = yield* hashFile(dump).pipe(Effect.option)
    if (digest._tag === "None") {
      refused.push(`${path}: its dump ${dump} is missing or unreadable`)
      continue
    }
    if (digest.value.sha256 !== manifest.sha256 || digest.value.bytes !== manifest.bytes) {
      refused.push(`${path}: its dump ${dump} does not match its checksum (corrupted or replaced)`)
      continue
    }
    return {
      manifest: path,
      file: dump,
      sha256: manifest.sha256,
      createdAt: manifest.createdAt,
      restoreTestedAt: manifest.restoreTest!.at,
      ageSeconds: Math.round(age / 1000)
    } satisfies BackupEvidence as BackupEvidence
  }
  const url = options.databaseUrlHint ?? "\"$DATABASE_URL\""
  return yield* new MigrationError({
    reason: new BackupRequired({
      detail: [
        `migrate --apply refuses to write ${table} without a fresh, verified, restore-tested backup of it in ${options.dir} ` +
        `(newer than ${hours(options.maxAgeMs)}): ${refused.length === 0 ? "there is none" : `none qualifies — ${refused.join("; ")}`}.`,
        "Make one and test that it restores, then run migrate again:",
        `  stage-normalization backup create --database-url ${url} --table ${table} --dir ${options.dir}`,
        `  stage-normalization backup restore-test --database-url ${url} --dir ${options.dir} --table ${table}`,
        "or pass --no-backup-check to migrate without one (recorded in the run's parameters)."
      ].join("\n")
    })
  })
})
