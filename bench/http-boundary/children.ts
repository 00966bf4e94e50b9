/**
 * The benchmark's server processes, seen from the parent: start one (`READY <url>` on its
 * stdout), ask it things over the IPC channel (its CPU time, a rollout mode, a CPU profile), stop
 * it. Internal to the benchmark.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { cpus } from "node:os"
import type { ModeName } from "./hosts.ts"

/** A running server process. */
export interface Child {
  readonly name: string
  readonly url: string
  readonly process: ChildProcess
  /** total CPU time (user + system) the process has used so far, microseconds */
  readonly cpu: () => Promise<number>
  /** garbage collections so far: count and total pause, milliseconds */
  readonly gc: () => Promise<{ readonly count: number; readonly ms: number }>
  readonly setMode: (mode: ModeName) => Promise<void>
  readonly profile: (action: "start" | "stop", file: string) => Promise<void>
  readonly stop: () => void
}

const ENTRY = new URL("../http-boundary.ts", import.meta.url).pathname

/** Extra Node flags for the servers (e.g. `--trace-gc`), from `HTTP_BOUNDARY_CHILD_FLAGS`. */
const CHILD_FLAGS = (process.env["HTTP_BOUNDARY_CHILD_FLAGS"] ?? "").split(" ").filter((f) => f.length > 0)

/**
 * Starts `node bench/http-boundary.ts --serve <name>` and waits for it to listen; with `cpu`,
 * pinned to that CPU (`taskset -c`).
 */
export const startChild = (name: string, options: { readonly cpu?: number | undefined } = {}): Promise<Child> =>
  new Promise((resolve, reject) => {
    const args = [...CHILD_FLAGS, ENTRY, "--serve", name]
    const child = options.cpu === undefined
      ? spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit", "ipc"] })
      : spawn("taskset", ["-c", String(options.cpu), process.execPath, ...args], { stdio: ["ignore", "pipe", "inherit", "ipc"] })
    let next = 0
    const pending = new Map<number, (reply: Record<string, unknown>) => void>()
    child.on("message", (reply: { id: number } & Record<string, unknown>) => {
      const settle = pending.get(reply.id)
      pending.delete(reply.id)
      settle?.(reply)
    })
    const ask = (command: Record<string, unknown>): Promise<Record<string, unknown>> =>
      new Promise((settle, fail) => {
        const id = next++
        pending.set(id, (reply) => (typeof reply["error"] === "string" ? fail(new Error(`${name}: ${reply["error"]}`)) : settle(reply)))
        child.send({ id, ...command })
      })
    let out = ""
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s`)), 60_000)
    const onExit = (code: number | null) => reject(new Error(`${name} exited with ${code}`))
    child.on("exit", onExit)
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const m = /READY (\S+)/.exec(out)
      if (m === null) return
      clearTimeout(timer)
      child.off("exit", onExit)
      child.stdout!.removeAllListeners("data")
      child.stdout!.resume()
      resolve({
        name,
        url: m[1]!,
        process: child,
        cpu: async () => (await ask({ cmd: "cpu" }))["cpu"] as number,
        gc: async () => {
          const reply = await ask({ cmd: "cpu" })
          return { count: reply["gcCount"] as number, ms: reply["gcMs"] as number }
        },
        setMode: async (mode) => void (await ask({ cmd: "mode", mode })),
        profile: async (action, file) => void (await ask({ cmd: "profile", action, file })),
        stop: () => {
          child.kill("SIGTERM")
        }
      })
    })
  })

/**
 * CPU pinning for the paired measurement, when `taskset` (util-linux) is there and the machine
 * has two CPUs or more: both servers on the last CPU, this process (the load) on the others.
 * Servers sharing one CPU take turns with every request, so each sees what the other leaves in
 * the caches, and neither competes with the load generator. `undefined`: no pinning.
 */
export const pinning = (): { readonly serverCpu: number; readonly loadCpus: string } | undefined => {
  const count = cpus().length
  if (count < 2) return undefined
  const serverCpu = count - 1
  const loadCpus = count === 2 ? "0" : `0-${count - 2}`
  try {
    execFileSync("taskset", ["-a", "-p", "-c", loadCpus, String(process.pid)], { stdio: "ignore" })
    return { serverCpu, loadCpus }
  } catch {
    return undefined
  }
}
