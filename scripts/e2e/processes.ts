/**
 * Child processes for end-to-end runs: each started in its own process group on 127.0.0.1, its
 * output kept (and teed to a log file), stopped with SIGTERM then SIGKILL to the whole group.
 * Every process started here is registered; `stopAll` stops them, and exit/signal handlers kill
 * any that are left, so nothing outlives the run whatever happens.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, type WriteStream } from "node:fs"
import { createServer } from "node:net"

/** A started child process. */
export interface Started {
  readonly name: string
  readonly pid: number
  /** Everything it printed so far (stdout and stderr interleaved). */
  readonly output: () => string
  /** Resolves with the exit code (or signal) once it exits. */
  readonly exited: Promise<string>
  readonly isRunning: () => boolean
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it has exited. */
  readonly stop: (graceMs?: number) => Promise<void>
}

export interface StartOptions {
  readonly name: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly cwd?: string
  /** also append the output here */
  readonly logFile?: string
}

const registry = new Set<Started>()
const cleanups: Array<() => Promise<void>> = []
let handlersInstalled = false

/** Registers a cleanup (e.g. deleting Redis keys) run by `runCleanups` and on SIGINT/SIGTERM/SIGHUP. */
export const addCleanup = (cleanup: () => Promise<void>): void => {
  cleanups.push(cleanup)
}

/** Runs (once) every registered cleanup, newest first, ignoring their failures. */
export const runCleanups = async (): Promise<void> => {
  for (const cleanup of cleanups.splice(0).toReversed()) {
    try {
      await cleanup()
    } catch (error) {
      process.stderr.write(`cleanup failed: ${(error as Error).message}\n`)
    }
  }
}

const killGroup = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

const installHandlers = (): void => {
  if (handlersInstalled) return
  handlersInstalled = true
  // Last resort: synchronous kill of every group still registered when this process exits.
  process.on("exit", () => {
    for (const p of registry) if (p.isRunning()) killGroup(p.pid, "SIGKILL")
  })
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      // nothing left to stop (a test runner ending a worker whose processes were stopped): no line
      if (registry.size > 0) process.stderr.write(`\n${signal}: stopping ${registry.size} child process(es)\n`)
      void stopAll().then(runCleanups).finally(() => process.exit(130))
    })
  }
}

/** Starts a command in its own process group. */
export const startProcess = (options: StartOptions): Started => {
  installHandlers()
  const child: ChildProcess = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env } as NodeJS.ProcessEnv,
    detached: true, // its own process group: stop() reaches grandchildren too
    stdio: ["ignore", "pipe", "pipe"]
  })
  if (child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`)
  const pid = child.pid
  let buffer = ""
  let running = true
  const log: WriteStream | undefined = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: "a" })
  const onData = (chunk: Buffer) => {
    const text = chunk.toString("utf8")
    buffer += text
    if (buffer.length > 2_000_000) buffer = buffer.slice(-1_000_000)
    log?.write(text)
  }
  child.stdout?.on("data", onData)
  child.stderr?.on("data", onData)
  const exited = new Promise<string>((resolve) => {
    child.on("exit", (code, signal) => {
      running = false
      log?.end()
      resolve(signal ?? String(code))
    })
    child.on("error", (error) => {
      running = false
      buffer += `\n[spawn error] ${error.message}\n`
      resolve("spawn-error")
    })
  })
  const started: Started = {
    name: options.name,
    pid,
    output: () => buffer,
    exited,
    isRunning: () => running,
    stop: async (graceMs = 5_000) => {
      if (running) {
        killGroup(pid, "SIGTERM")
        const timer = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs)
        await exited
        clearTimeout(timer)
      }
      killGroup(pid, "SIGKILL") // anything left in the group
      registry.delete(started)
    }
  }
  registry.add(started)
  return started
}

/** Stops every process started here (in reverse start order). */
export const stopAll = async (): Promise<void> => {
  for (const p of [...registry].toReversed()) await p.stop()
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `probe` until it returns a value other than `undefined`, or throws after `timeoutMs`. */
export const waitFor = async <A>(
  what: string,
  probe: () => Promise<A | undefined> | A | undefined,
  options: { readonly timeoutMs: number; readonly intervalMs?: number; readonly process?: Started }
): Promise<A> => {
  const deadline = Date.now() + options.timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    if (options.process !== undefined && !options.process.isRunning()) {
      throw new Error(`${options.process.name} exited while waiting for ${what}:\n${options.process.output().slice(-4000)}`)
    }
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    await sleep(options.intervalMs ?? 200)
  }
  const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : ""
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${detail}`)
}

/** `fetch` with a timeout (loopback calls should never take long). */
export const fetchWithTimeout = (url: string, init: RequestInit = {}, timeoutMs = 5_000): Promise<Response> =>
  fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
