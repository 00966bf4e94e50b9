/**
 * Runs the package's CLI (`node src/cli/bin.ts …`) in a child process, asynchronously, so that
 * load keeps flowing while it works; its output (stdout and stderr interleaved) and exit code are
 * returned. Killed after `timeoutMs`, and by `runCleanups` (Ctrl-C, a watchdog) if still running.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { addCleanup } from "./processes.ts"

const ROOT = fileURLToPath(new URL("../../", import.meta.url))
const BIN = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url))

export interface CliRun {
  readonly code: number | null
  readonly output: string
  readonly stdout: string
  readonly durationMs: number
}

export const runCli = (
  args: ReadonlyArray<string>,
  options: { readonly env?: Readonly<Record<string, string | undefined>>; readonly cwd?: string; readonly timeoutMs?: number } = {}
): Promise<CliRun> =>
  new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    addCleanup(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    })
    let output = ""
    let stdout = ""
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString("utf8")
      stdout += c.toString("utf8")
    })
    child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, output, stdout, durationMs: Date.now() - started })
    })
  })
