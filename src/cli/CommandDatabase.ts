/**
 * The database a command works on: the `--database-url` flag (else `DATABASE_URL`), the check
 * that there is one, and running a migration program against it with the CLI's exit codes (input
 * errors exit 2, other failures 1).
 *
 * @since 0.2.0
 */
import type { PgClient } from "@effect/sql-pg"
import { Config, Effect, Option, Scope } from "effect"
import { Flag } from "effect/cli"
import type { SqlClient } from "effect/sql"
import { layerFromUrl } from "../migration/database/Database.ts"
import type { MigrationError } from "../migration/MigrationError.ts"
import type { MissingPeerDependencyError } from "../shared/PeerDependency.ts"
import { CliExitCode, CliInputError } from "./CliInputError.ts"

/**
 * `--database-url`, optional: the command falls back to `DATABASE_URL` itself (see
 * {@link requireDatabaseUrl}). The description says what the URL may be for this command.
 *
 * @since 0.2.0
 * @category flags
 */
export const databaseUrlFlag = (description = "postgres://… (else DATABASE_URL)"): Flag.Flag<Option.Option<string>> =>
  Flag.String("database-url").pipe(Flag.withDescription(description), Flag.optional)

/**
 * `--database-url` for a command whose database is optional: `DATABASE_URL` is read when the flag
 * is parsed, and neither being set is `None`.
 *
 * @since 0.2.0
 * @category flags
 */
export const optionalDatabaseUrlFlag = (description: string): Flag.Flag<Option.Option<string>> =>
  Flag.String("database-url").pipe(
    Flag.withDescription(description),
    Flag.withFallbackConfig(Config.String("DATABASE_URL")),
    Flag.optional
  )

/**
 * The database URL of a command: `--database-url`, else `DATABASE_URL`; required.
 *
 * @since 0.1.0
 * @category helpers
 */
export const requireDatabaseUrl = (flag: Option.Option<string>, command: string) => {
  const url = Option.getOrUndefined(flag) ?? process.env["DATABASE_URL"]
  return url === undefined || url.trim() === ""
    ? Effect.fail(
      new CliInputError({
        message: `${command} needs a database: pass --database-url postgres://user@host:5432/db or set DATABASE_URL ` +
          `(there is no embedded default for ${command})`
      })
    )
    : Effect.succeed(url)
}

/**
 * A database error as the CLI reports it: an input error (or a missing driver) exits 2, any
 * other failure 1.
 *
 * @since 0.2.0
 * @category helpers
 */
export const databaseErrorToCli = (e: MigrationError | MissingPeerDependencyError): CliInputError | CliExitCode =>
  e._tag === "MissingPeerDependencyError" || e.isInputError
    ? new CliInputError({ message: e.message })
    : new CliExitCode({ code: 1, reason: e.message })

/**
 * Run a migration program against a URL, mapping its errors to the CLI's exit codes: input
 * errors exit 2, other failures 1.
 *
 * @since 0.1.0
 * @category helpers
 */
export const withDatabase = <A>(
  url: string,
  applicationName: string,
  program: Effect.Effect<A, MigrationError, SqlClient.SqlClient | PgClient.PgClient | Scope.Scope>,
  /** Workers that need a connection each (plus the session's lock and a spare for health checks). */
  workers = 1
): Effect.Effect<A, CliInputError | CliExitCode> =>
  Effect.scoped(program).pipe(
    Effect.provide(layerFromUrl(url, { applicationName, ...(workers > 1 ? { maxConnections: workers + 2 } : {}) })),
    Effect.mapError(databaseErrorToCli)
  )
