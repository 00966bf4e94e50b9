/**
 * Issue 25, defect 1 (service side): one unauthenticated client sending distinct 4 MiB stage
 * strings must not crash the service. The reference service runs as an operator runs it (a
 * child process, `serve`, a scratch database on the real PostgreSQL, so the resident set is the
 * service's own and not the embedded database's) with a small heap (`--max-old-space-size=256`)
 * and in enforce mode. It receives 1,000 `POST /api/allocations` with distinct 4 MiB `stage`
 * strings (over the route's 64 KiB limit: 413) and 1,000 with distinct 60 KiB ones (under it:
 * 400 with the reason), 4 at a time; it stays up, every answer is the documented one, and its
 * resident set (VmRSS) stays under {@link RSS_BOUND_MIB}. Before the fix the memo kept every
 * input whole and the process died of heap exhaustion after a few dozen requests.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { createScratchDatabase } from "./support/Service.ts"

const BIN = new URL("../../src/cli/bin.ts", import.meta.url).pathname
const MiB = 1024 * 1024
/** The bound the test holds the service's resident set to, MiB. */
const RSS_BOUND_MIB = 300
const REQUESTS = 1_000
const CONCURRENCY = 4

interface Served {
  readonly child: ChildProcess
  readonly url: string
  readonly output: () => string
}

const serve = (databaseUrl: string): Promise<Served> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--max-old-space-size=256", BIN, "serve", "--port", "0"], {
      env: {
        ...process.env,
        STAGE_VALIDATION_OPS_TOKEN: "",
        DATABASE_URL: databaseUrl,
        REDIS_URL: "",
        NODE_ENV: "development",
        STAGE_VALIDATION_MODE: "enforce"
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`serve did not start:\n${out}`))
    }, 30_000)
    const onData = (chunk: Buffer) => {
      // keep the tail only: offender lines are sampled but keep coming
      out = (out + chunk.toString("utf8")).slice(-20_000)
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolve({ child, url: m[1]!, output: () => out })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`serve exited with ${code}:\n${out}`))
    })
  })

const rssMiB = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return m === null ? Number.NaN : Number(m[1]) / 1024
}

/** `{"fundId":1,"amount":1,"stage":"<i>:xxxx…"}` with a stage of exactly `length` characters, distinct per `i`. */
const body = (filler: Buffer, i: number): Buffer => {
  const head = Buffer.from(`{"fundId":1,"amount":1,"stage":"${i}:`)
  return Buffer.concat([head, filler.subarray(String(i).length + 1), Buffer.from(`"}`)])
}

interface Answer {
  readonly status: number
  readonly json: { readonly error?: string; readonly details?: { readonly invalid: ReadonlyArray<string>; readonly reasons?: Record<string, string> } }
  readonly bytes: number
}

const post = async (url: string, payload: Buffer): Promise<Answer> => {
  const r = await fetch(`${url}/api/allocations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: payload,
    signal: AbortSignal.timeout(15_000)
  })
  const text = await r.text()
  return { status: r.status, json: JSON.parse(text) as Answer["json"], bytes: text.length }
}

/** Sends `n` requests, `CONCURRENCY` at a time, sampling the service's RSS; stops early when the service dies. */
const flood = async (served: Served, n: number, filler: Buffer, rss: Array<number>) => {
  const answers: Array<Answer> = []
  let failure: string | undefined
  let next = 0
  const worker = async () => {
    while (next < n && failure === undefined) {
      const i = next++
      try {
        answers.push(await post(served.url, body(filler, i)))
      } catch (e) {
        failure ??= `request ${i} failed (${String(e)}) after ${answers.length} answers; ` +
          `service ${served.child.exitCode === null && served.child.signalCode === null ? "still running" : "exited"}, ` +
          `RSS samples ${rss.map((r) => r.toFixed(0)).join(", ")} MiB\n${served.output().slice(-1_500)}`
      }
      if (i % 25 === 0 && served.child.exitCode === null) rss.push(rssMiB(served.child.pid!))
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  assert.isUndefined(failure)
  assert.strictEqual(answers.length, n)
  return answers
}

describe("hostile input against the reference service (issue 25)", () => {
  it(`1,000 distinct 4 MiB stage strings, then 1,000 of 60 KiB, under a 256 MiB heap: stays up, RSS < ${RSS_BOUND_MIB} MiB`, {
    timeout: 120_000
  }, async () => {
    const database = await createScratchDatabase("hostile")
    const served = await serve(database.url).catch(async (e) => {
      await database.drop()
      throw e
    })
    const rss: Array<number> = [rssMiB(served.child.pid!)]
    try {
      const started = performance.now()
      for (const a of await flood(served, REQUESTS, Buffer.alloc(4 * MiB, "x"), rss)) {
        assert.strictEqual(a.status, 413)
        assert.strictEqual(a.json.error, "PAYLOAD_TOO_LARGE")
      }
      const bigSeconds = (performance.now() - started) / 1000
      for (const a of await flood(served, REQUESTS, Buffer.alloc(60 * 1024, "x"), rss)) {
        assert.strictEqual(a.status, 400)
        assert.strictEqual(a.json.error, "INVALID_STAGE")
        const listed = a.json.details!.invalid[0]!
        assert.isAtMost(listed.length, 257)
        assert.strictEqual(a.json.details!.reasons?.[listed], `longer than 64 characters (${60 * 1024})`)
        assert.isBelow(a.bytes, 2_000)
      }
      const health = await fetch(`${served.url}/healthz`)
      assert.strictEqual(health.status, 200)
      rss.push(rssMiB(served.child.pid!))
      const peak = Math.max(...rss)
      console.log(
        `hostile input: ${REQUESTS} × 4 MiB in ${bigSeconds.toFixed(1)} s, RSS start ${rss[0]!.toFixed(0)} MiB, ` +
          `peak ${peak.toFixed(0)} MiB, end ${rss.at(-1)!.toFixed(0)} MiB`
      )
      assert.isBelow(peak, RSS_BOUND_MIB, `peak RSS ${peak.toFixed(0)} MiB`)
    } finally {
      served.child.removeAllListeners("exit")
      served.child.kill("SIGKILL")
      await new Promise((resolve) => served.child.once("exit", resolve))
      await database.drop()
    }
  })
})
