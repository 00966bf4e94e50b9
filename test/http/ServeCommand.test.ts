/**
 * `stage-normalization serve` as an operator runs it (a child process, the embedded database,
 * port 0): the acceptance requests in shadow and enforce mode, the banner, the generated
 * ops token, /metrics through promtool when present, and a clean exit (0) on SIGTERM / SIGINT.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"

const BIN = new URL("../../src/cli/bin.ts", import.meta.url).pathname

interface Served {
  readonly child: ChildProcess
  readonly url: string
  readonly output: () => string
}

const serve = (env: Record<string, string>): Promise<Served> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0"], {
      env: { ...process.env, STAGE_VALIDATION_OPS_TOKEN: "", DATABASE_URL: "", REDIS_URL: "", NODE_ENV: "development", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`serve did not start:\n${out}`))
    }, 30_000)
    const onData = (chunk: Buffer) => {
      out += chunk.toString("utf8")
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolve({ child, url: m[1]!, output: () => out })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.on("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`serve exited with ${code}:\n${out}`))
    })
  })

const stop = (served: Served, signal: NodeJS.Signals): Promise<number | null> =>
  new Promise((resolve) => {
    served.child.removeAllListeners("exit")
    served.child.on("exit", (code, sig) => resolve(code ?? (sig === null ? null : 128)))
    served.child.kill(signal)
  })

const acceptance = (url: string) =>
  fetch(`${url}/api/monte-carlo/simulate`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ fundId: 1, runs: 1000, stageDistribution: [{ stage: "invalid", weight: 1.0 }] })
  })

describe("stage-normalization serve", () => {
  it("shadow mode: 200 with X-Stage-Would-Reject; prints the banner and where the token is", { timeout: 60_000 }, async () => {
    const served = await serve({ STAGE_VALIDATION_DRY_RUN: "true" })
    try {
      const r = await acceptance(served.url)
      assert.strictEqual(r.status, 200)
      assert.strictEqual(r.headers.get("x-stage-would-reject"), "true")
      const out = served.output()
      assert.include(out, "curl -i -X POST")
      assert.include(out, "/api/deprecations | jq '.items[0].current_mode'")
      const tokenPath = /ops token: generated for this run, in (\S+)/.exec(out)![1]!
      const token = readFileSync(tokenPath, "utf8").trim()
      assert.isAtLeast(token.length, 32)
      assert.notInclude(out, token)
      const mode = await fetch(`${served.url}/_ops/stage-validation/mode`, { headers: { authorization: `Bearer ${token}` } })
      assert.strictEqual(mode.status, 200)
      const deprecations = await (await fetch(`${served.url}/api/deprecations`)).json() as { items: Array<{ current_mode: string }> }
      assert.strictEqual(deprecations.items[0]!.current_mode, "warn")
      const metrics = await (await fetch(`${served.url}/metrics`)).text()
      let promtool = ""
      try {
        promtool = execFileSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" }).trim()
      } catch {
        assert.notStrictEqual(process.env["CI"], "true", "promtool is required in CI")
      }
      if (promtool !== "") assert.strictEqual(execFileSync(promtool, ["check", "metrics"], { input: metrics, encoding: "utf8" }).trim(), "")
    } finally {
      // a requested stop: exit 0, after the finalizers (server, database, token file) ran
      assert.strictEqual(await stop(served, "SIGTERM"), 0)
      assert.notMatch(served.output(), /ERROR|Error:|defect/i)
      const tokenPath = /ops token: generated for this run, in (\S+)/.exec(served.output())?.[1]
      assert.isFalse(tokenPath === undefined || existsSync(tokenPath), "the generated token file is removed on shutdown")
    }
  })

  it("enforce: 400 with the contract body; SIGINT exits", { timeout: 60_000 }, async () => {
    const served = await serve({ STAGE_VALIDATION_MODE: "enforce" })
    try {
      const r = await acceptance(served.url)
      assert.strictEqual(r.status, 400)
      assert.deepStrictEqual(await r.json(), {
        error: "INVALID_STAGE_DISTRIBUTION",
        details: {
          invalid: ["invalid"],
          suggestions: { invalid: [] },
          validStages: ["pre-seed", "seed", "series-a", "series-b", "series-c", "series-c+"]
        }
      })
      const companies = await (await fetch(`${served.url}/api/funds/1/companies?stage=Series%20A`)).json() as { items: ReadonlyArray<unknown> }
      assert.strictEqual(companies.items.length, 2)
    } finally {
      const code = await stop(served, "SIGINT")
      assert.strictEqual(code, 0)
      assert.notMatch(served.output(), /ERROR|Error:|defect/i)
    }
  })

  it("a too-short configured ops token is refused with a clear message", { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0"], {
      env: { ...process.env, STAGE_VALIDATION_OPS_TOKEN: "short", NODE_ENV: "production", DATABASE_URL: "" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stdout.on("data", (c: Buffer) => (out += c.toString()))
    child.stderr.on("data", (c: Buffer) => (out += c.toString()))
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
    assert.strictEqual(code, 2)
    assert.include(out, "STAGE_VALIDATION_OPS_TOKEN must be at least 32 characters")
  })
})
