/**
 * The service's first log line, written before the program is loaded: `serve` (`npm start`)
 * says what it is starting within a fraction of a second, although loading the program takes a
 * second or more and the embedded PostgreSQL's first start up to 20 s more. The line has the
 * format of the CLI's logs (`LogFormat.ts`): a JSON line on stderr, or the pretty format when
 * stderr is a terminal. This module imports nothing, so that it loads at once.
 *
 * @since 0.3.0
 */

/**
 * What `serve` says it is starting, from its flags and the environment.
 *
 * @example
 * ```ts
 * import { startingLine } from "./StartLine.ts" // internal: not part of the package's API
 * startingLine({ databaseUrl: undefined, redisUrl: undefined })
 * // => "starting: the embedded PostgreSQL (in memory; the first start takes up to 20 s), rollout state in memory…"
 * ```
 * @since 0.3.0
 * @category rendering
 */
export const startingLine = (options: { readonly databaseUrl: string | undefined; readonly redisUrl: string | undefined }): string =>
  "starting: " +
  (options.databaseUrl === undefined
    ? "the embedded PostgreSQL (in memory; the first start takes up to 20 s)"
    : options.databaseUrl.startsWith("pglite:")
    ? "the embedded PostgreSQL (DATABASE_URL)"
    : "connecting to PostgreSQL (DATABASE_URL)") +
  (options.redisUrl === undefined ? ", rollout state in memory…" : ", rollout state in Redis (REDIS_URL)…")

const flagValue = (argv: ReadonlyArray<string>, name: string): string | undefined => {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === name) return argv[i + 1]
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1)
  }
  return undefined
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s === "" ? undefined : s)

const NOT_A_START = new Set(["--help", "-h", "--version", "-v", "--wizard", "--completions"])

/**
 * Writes the starting line when `argv` runs `serve` (not `serve --help`); nothing otherwise.
 *
 * @example
 * ```ts
 * import { announceStart } from "./StartLine.ts" // internal: not part of the package's API
 * announceStart(["normalize", "Series A"], {}, process.stderr) // writes nothing
 * ```
 * @since 0.3.0
 * @category logging
 */
export const announceStart = (
  argv: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>,
  stderr: { readonly isTTY?: boolean; write(text: string): unknown }
): void => {
  if (argv[0] !== "serve" || argv.some((arg) => NOT_A_START.has(arg))) return
  const message = startingLine({
    databaseUrl: nonEmpty(flagValue(argv, "--database-url")) ?? nonEmpty(env["DATABASE_URL"]),
    redisUrl: nonEmpty(flagValue(argv, "--redis-url")) ?? nonEmpty(env["REDIS_URL"])
  })
  const now = new Date()
  stderr.write(
    stderr.isTTY === true
      ? `[${now.toTimeString().slice(0, 8)}.${String(now.getMilliseconds()).padStart(3, "0")}] INFO (#0): ${message}\n`
      : JSON.stringify({
        message,
        level: "INFO",
        timestamp: now.toISOString(),
        annotations: { event: "stage_validation.service_starting" },
        spans: {},
        fiberId: "#0"
      }) + "\n"
  )
}
