/**
 * Finding `pg_dump` / `pg_restore` of the server's major version, and running them. Backups and
 * restore tests refuse to start unless every tool they need is found with the server's major
 * version, and the refusal says exactly what is missing, where it looked and what to install.
 *
 * Search order for each tool: `--pg-bin-dir` when given (only there); otherwise
 * `/usr/lib/postgresql/<major>/bin` (Debian/Ubuntu), `/usr/pgsql-<major>/bin` (RHEL),
 * `/opt/homebrew/opt/postgresql@<major>/bin`, `/usr/local/opt/postgresql@<major>/bin`, then `PATH`.
 * The first candidate of the right major version wins; candidates of another version are named in
 * the error.
 *
 * Connection details go to the tools as a URL **without** its password (the password, if any,
 * travels in `PGPASSWORD`), so it never appears in a process list.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { delimiter, join } from "node:path"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { BackupFailed, BackupToolMissing, RestoreTestFailed } from "../MigrationErrorReason.ts"

/**
 * A PostgreSQL client tool.
 *
 * @since 0.1.0
 * @category models
 */
type PgToolName = "pg_dump" | "pg_restore"

/**
 * A tool found on this machine.
 *
 * @since 0.1.0
 * @category models
 */
export interface PgTool {
  readonly name: PgToolName
  readonly path: string
  /** `pg_dump (PostgreSQL) 15.20 (Debian …)` */
  readonly version: string
  readonly major: number
}

/**
 * The major version in a tool's `--version` output.
 *
 * @example
 * ```ts
 * import { toolMajorVersion } from "./PgTools.ts" // internal: not part of the package's API
 * toolMajorVersion("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)") // => 15
 * toolMajorVersion("pg_dump (PostgreSQL) 9.6.24")                          // => 9
 * ```
 *
 * @since 0.1.0
 * @category tools
 */
export const toolMajorVersion = (versionOutput: string): number | undefined => {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(versionOutput)
  if (m === null) return undefined
  const major = Number(m[1])
  // before 10 the major version was two numbers (9.6); only the first matters for comparison here
  return major
}

const candidateDirs = (major: number, binDir: string | undefined): ReadonlyArray<string> =>
  binDir !== undefined
    ? [binDir]
    : [
      `/usr/lib/postgresql/${major}/bin`,
      `/usr/pgsql-${major}/bin`,
      `/opt/homebrew/opt/postgresql@${major}/bin`,
      `/usr/local/opt/postgresql@${major}/bin`,
      ...(process.env["PATH"] ?? "").split(delimiter).filter((d) => d !== "")
    ]

const versionOf = (path: string) =>
  Effect.callback<string | undefined>((resume) => {
    const child = execFile(path, ["--version"], { timeout: 10_000 }, (error, stdout) =>
      resume(Effect.succeed(error === null ? stdout.trim() : undefined)))
    return Effect.sync(() => child.kill())
  })

/**
 * Find every tool in `names` with the server's major version, or fail with `BackupToolMissing`
 * naming what is missing, what was found instead, and what to install.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { findPgTools } from "./PgTools.ts" // internal: not part of the package's API
 * const program = findPgTools(["pg_dump", "pg_restore"], 15).pipe(Effect.map((t) => t.pg_dump?.path))
 * ```
 *
 * @since 0.1.0
 * @category tools
 */
export const findPgTools = Effect.fnUntraced(function*(
  names: ReadonlyArray<PgToolName>,
  serverMajor: number,
  binDir?: string | undefined
) {
  const dirs = [...new Set(candidateDirs(serverMajor, binDir))]
  const found: Partial<Record<PgToolName, PgTool>> = {}
  const problems: Array<string> = []
  for (const name of names) {
    const others: Array<string> = []
    for (const dir of dirs) {
      const path = join(dir, name)
      if (!existsSync(path)) continue
      const version = yield* versionOf(path)
      const major = version === undefined ? undefined : toolMajorVersion(version)
      if (major === serverMajor) {
        found[name] = { name, path, version: version!, major }
        break
      }
      others.push(`${path} is ${major === undefined ? "not runnable" : `version ${major}`}`)
    }
    if (found[name] === undefined) {
      problems.push(`${name} ${serverMajor} not found${others.length > 0 ? ` (${others.join("; ")})` : ""}`)
    }
  }
  if (problems.length > 0) {
    return yield* new MigrationError({
      reason: new BackupToolMissing({
        detail: `backups need ${names.join(" and ")} of the server's major version ${serverMajor}: ${problems.join("; ")}. ` +
          `Looked in ${binDir !== undefined ? binDir : `${dirs.slice(0, 4).join(", ")} and PATH`}. ` +
          `Install the PostgreSQL ${serverMajor} client tools (Debian/Ubuntu: apt-get install postgresql-client-${serverMajor}) ` +
          `or pass --pg-bin-dir /path/to/postgresql/${serverMajor}/bin`
      })
    })
  }
  return found
})

/**
 * How to reach a database from a tool: the URL without password, and the environment carrying it.
 *
 * @example
 * ```ts
 * import { toolConnection } from "./PgTools.ts" // internal: not part of the package's API
 * toolConnection("postgres://app:s3cret@db:5432/funds", "backup")
 * // => { url: "postgres://app@db:5432/funds", env: { PGPASSWORD: "s3cret", PGAPPNAME: "backup" } }
 * ```
 *
 * @since 0.1.0
 * @category tools
 */
export const toolConnection = (url: string, applicationName: string) => {
  const env: Record<string, string> = { PGAPPNAME: applicationName }
  if (!URL.canParse(url)) return { url, env }
  const u = new URL(url)
  if (u.password !== "") {
    env["PGPASSWORD"] = decodeURIComponent(u.password)
    u.password = ""
  }
  return { url: u.toString(), env }
}

/**
 * A database URL with another database name (for the restore test's scratch database).
 *
 * @example
 * ```ts
 * import { withDatabaseName } from "./PgTools.ts" // internal: not part of the package's API
 * withDatabaseName("postgres://app@db:5432/funds?sslmode=require", "scratch")
 * // => "postgres://app@db:5432/scratch?sslmode=require"
 * ```
 *
 * @since 0.1.0
 * @category tools
 */
export const withDatabaseName = (url: string, name: string): string => {
  if (!URL.canParse(url)) return url
  const u = new URL(url)
  u.pathname = `/${encodeURIComponent(name)}`
  return u.toString()
}

/**
 * A running tool: its process (stdout available for streaming) and its completion.
 *
 * @since 0.1.0
 * @category models
 */
interface RunningTool {
  readonly child: ChildProcess
  /** Succeeds when the tool exits 0; fails with its stderr otherwise. Kills it on interruption. */
  readonly done: Effect.Effect<void, MigrationError>
}

/**
 * Spawn a tool. Its stderr is collected for the error message; the process is killed if the
 * waiting fiber is interrupted.
 *
 * @since 0.1.0
 * @category tools
 */
export const spawnTool = (
  tool: PgTool,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>>,
  failure: typeof BackupFailed | typeof RestoreTestFailed
): RunningTool => {
  const child = spawn(tool.path, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
  let stderr = ""
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    if (stderr.length < 8_000) stderr += d
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on("error", (error) => resolve({ code: null, signal: null, error }))
    child.on("close", (code, signal) => resolve({ code, signal }))
  })
  const done = Effect.callback<void, MigrationError>((resume) => {
    void exited.then(({ code, signal, error }) => {
      if (code === 0) return resume(Effect.void)
      const why = error !== undefined
        ? describeCause(error)
        : `exit ${code ?? signal}${stderr.trim() === "" ? "" : `: ${stderr.trim()}`}`
      resume(Effect.fail(new MigrationError({ reason: new failure({ detail: `${tool.name} failed (${why})`, cause: error }) })))
    })
    return Effect.sync(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
    })
  })
  return { child, done }
}
