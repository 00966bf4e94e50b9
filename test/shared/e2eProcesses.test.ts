/**
 * scripts/e2e/processes.ts in a process that is told to stop (as a test runner ends its worker
 * after the metric-name test): with every child already stopped it prints nothing — a green
 * `npm test` printed `SIGTERM: stopping 0 child process(es)` — and with one still running it
 * says so and stops it.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const processes = fileURLToPath(new URL("../../scripts/e2e/processes.ts", import.meta.url))

/** A node process that starts `sleep` children, stops `stopped` of them, then waits to be signalled. */
const host = (started: number, stopped: number): Promise<{ readonly code: number | null; readonly stderr: string }> =>
  new Promise((resolve) => {
    const script = `
      const { startProcess } = await import(${JSON.stringify(processes)})
      const children = Array.from({ length: ${started} }, (_, i) => startProcess({ name: "sleep" + i, command: "sleep", args: ["30"] }))
      for (const child of children.slice(0, ${stopped})) await child.stop()
      process.stdout.write("ready\\n")
      setInterval(() => {}, 1000)
    `
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")))
    child.stdout.on("data", (c: Buffer) => {
      if (c.toString("utf8").includes("ready")) child.kill("SIGTERM")
    })
    child.on("close", (code) => resolve({ code, stderr }))
  })

describe("scripts/e2e/processes.ts on SIGTERM", () => {
  it("prints nothing when no child is left to stop", { timeout: 20_000 }, async () => {
    const run = await host(1, 1)
    assert.strictEqual(run.stderr, "")
  })

  it("names what it stops when a child is still running", { timeout: 20_000 }, async () => {
    const run = await host(1, 0)
    assert.include(run.stderr, "SIGTERM: stopping 1 child process(es)")
  })
})
