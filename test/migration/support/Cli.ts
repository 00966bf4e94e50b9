/**
 * The CLI as operators run it: a child process (`node src/cli/bin.ts …`), with its output
 * collected line by line so a test can wait for an event (JSON lines on stderr when not a TTY)
 * and then signal or SIGKILL it.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const bin = fileURLToPath(new URL("../../../src/cli/bin.ts", import.meta.url))

export interface CliChild {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** JSON events printed so far (stderr lines that parse as `{ "event": … }`). */
  readonly events: () => ReadonlyArray<Record<string, unknown>>
  readonly exit: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  /** Resolve once `count` events satisfy `predicate` (rejects after `timeoutMs` or on exit). */
  readonly waitForEvents: (predicate: (e: Record<string, unknown>) => boolean, count?: number, timeoutMs?: number) => Promise<void>
}

export const startCli = (args: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>> = {}): CliChild => {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  let err = ""
  const waiters = new Set<() => void>()
  const notify = () => waiters.forEach((w) => w())
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d
    notify()
  })
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    err += d
    notify()
  })
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      resolve({ code, signal })
      notify()
    })
  )
  const events = () =>
    [...err.split("\n"), ...out.split("\n")].flatMap((line) => {
      if (!line.startsWith("{\"event\"")) return []
      try {
        return [JSON.parse(line) as Record<string, unknown>]
      } catch {
        return []
      }
    })
  const waitForEvents = (predicate: (e: Record<string, unknown>) => boolean, count = 1, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (events().filter(predicate).length >= count) {
          cleanup()
          resolve()
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup()
          reject(new Error(`CLI exited before the event; stdout:\n${out}\nstderr:\n${err}`))
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out waiting for an event; stdout:\n${out}\nstderr:\n${err}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })
  return { child, stdout: () => out, stderr: () => err, events, exit, waitForEvents }
}

export interface CliResult {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

export const runCli = async (args: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>> = {}): Promise<CliResult> => {
  const c = startCli(args, env)
  const { code } = await c.exit
  return { status: code, stdout: c.stdout(), stderr: c.stderr() }
}
