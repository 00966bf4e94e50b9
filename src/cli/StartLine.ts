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

const SERVE_FLAGS = new Set(["--port", "--host", "--database-url", "--redis-url", "--log-level"])

/**
 * `serve`'s flags when `args` (what follows `serve`) is a plain valid invocation, else undefined:
 * anything else (`--help`, an unknown flag, a port out of range) is left to the program, which
 * prints its error or help with no starting line before it.
 */
const serveFlags = (args: ReadonlyArray<string>): Map<string, string> | undefined => {
  const flags = new Map<string, string>()
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const eq = arg.indexOf("=")
    const name = eq > 0 ? arg.slice(0, eq) : arg
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i]
    if (!SERVE_FLAGS.has(name) || value === undefined) return undefined
    flags.set(name, value)
  }
  const port = flags.get("--port")
  if (port !== undefined && !(/^[0-9]{1,5}$/.test(port) && Number(port) <= 65_535)) return undefined
  return flags
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s === "" ? undefined : s)

/**
 * Writes the starting line when `argv` is a valid `serve` invocation (not `serve --help`, not
 * `serve --port 70000`); nothing otherwise.
 *
 * @example
 * ```ts
 * import { announceStart } from "./StartLine.ts" // internal: not part of the package's API
 * announceStart(["normalize", "Series A"], {}, process.stderr) // writes nothing
 * announceStart(["serve", "--port", "65536"], {}, process.stderr) // nothing: the program reports the error
 * ```
 * @since 0.3.0
 * @category logging
 */
export const announceStart = (
  argv: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>,
  stderr: { readonly isTTY?: boolean; write(text: string): unknown }
): void => {
  const flags = argv[0] === "serve" ? serveFlags(argv.slice(1)) : undefined
  if (flags === undefined) return
  const message = startingLine({
    databaseUrl: nonEmpty(flags.get("--database-url")) ?? nonEmpty(env["DATABASE_URL"]),
    redisUrl: nonEmpty(flags.get("--redis-url")) ?? nonEmpty(env["REDIS_URL"])
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
