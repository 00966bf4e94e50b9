/**
 * The service's lifecycle as an operator meets it through `npm start` (issue 28): signals reach
 * the service, SIGTERM / SIGINT drain an in-flight request, print one shutdown line and exit 0
 * (npm too), the port is freed and no `node … serve` is left; start-up says what it starts
 * before anything slow; a normal start with Redis healthy logs no WARN and nothing on stderr but
 * JSON lines. Runs `npm start` itself against a scratch database on the real PostgreSQL and a
 * unique Redis prefix (the embedded database would add ~19 s).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { Agent, request as httpRequest } from "node:http"
import { createConnection } from "node:net"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { SHUTDOWN_GRACE_MS } from "../../src/service/ServiceOptions.ts"
import { createScratchDatabase, deleteRedisKeys } from "./support/Service.ts"
import { REDIS_URL, uniquePrefix } from "../rollout/redisHarness.ts"

const root = fileURLToPath(new URL("../../", import.meta.url))
const prefix = uniquePrefix("serve-lifecycle")

interface Started {
  readonly npm: ChildProcess
  readonly url: string
  readonly port: number
  /** the process npm started (the service itself: the start script execs node) */
  readonly servicePid: number
  readonly stdout: () => string
  readonly stderr: () => string
  readonly firstLineMs: number
  readonly exited: Promise<number | null>
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const poll = async <A>(what: string, probe: () => A | undefined, timeoutMs = 30_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** The (first) child process of `pid`. */
const childOf = (pid: number): number | undefined => {
  const text = spawnSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" }).stdout.trim()
  return text === "" ? undefined : Number(text.split(/\s+/)[0])
}

let databaseUrl = ""
/** every process a test started, killed after the suite if one is left (a failing run) */
const started: Array<number> = []
let dropDatabase: () => Promise<void> = async () => {}

const npmStart = async (): Promise<Started> => {
  const t0 = Date.now()
  const npm = spawn("npm", ["start"], {
    cwd: root,
    // its own process group, so the test can also send a terminal's Ctrl+C (SIGINT to the group)
    detached: true,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      STAGE_VALIDATION_REDIS_PREFIX: prefix,
      PORT: "0",
      HOST: "127.0.0.1",
      STAGE_VALIDATION_OPS_TOKEN: "",
      NODE_ENV: "development",
      NO_COLOR: "1"
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  let firstLineMs = -1
  npm.stdout!.on("data", (c: Buffer) => (stdout += c.toString("utf8")))
  npm.stderr!.on("data", (c: Buffer) => {
    if (firstLineMs < 0) firstLineMs = Date.now() - t0
    stderr += c.toString("utf8")
  })
  const exited = new Promise<number | null>((resolve) => npm.on("exit", (code, signal) => resolve(code ?? (signal === null ? null : -1))))
  const url = await poll("the service to listen", () => /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(stdout)?.[1])
  const servicePid = await poll("the process npm started", () => childOf(npm.pid!))
  started.push(npm.pid!, servicePid)
  return {
    npm,
    url,
    port: Number(new URL(url).port),
    servicePid,
    stdout: () => stdout,
    stderr: () => stderr,
    firstLineMs,
    exited
  }
}

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resolve(false)
    })
    socket.once("error", () => resolve(true))
  })

/** A POST whose body is still arriving: the request is in flight until `finish` is called. */
const slowRequest = (url: string) => {
  // a client that keeps connections alive, as browsers and proxies do
  const body = JSON.stringify({ fundId: 1, runs: 100, stageDistribution: [{ stage: "Series A", weight: 1 }] })
  const req = httpRequest(`${url}/api/monte-carlo/simulate`, {
    method: "POST",
    agent: new Agent({ keepAlive: true }),
    headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }
  })
  const response = new Promise<number>((resolve, reject) => {
    req.on("response", (res) => {
      res.resume()
      res.on("end", () => resolve(res.statusCode ?? 0))
    })
    req.on("error", reject)
  })
  req.write(body.slice(0, 10))
  return { finish: () => req.end(body.slice(10)), response }
}

const stoppingLines = (stderr: string) => stderr.split("\n").filter((l) => l.includes("stage_validation.service_stopping"))

/** Every stderr line is a JSON log line below WARN. */
const assertQuietJson = (stderr: string) => {
  for (const line of stderr.split("\n").filter((l) => l.trim() !== "")) {
    const parsed = JSON.parse(line) as { level: string }
    assert.include(["INFO", "DEBUG"], parsed.level, line)
  }
}

describe("npm start: a service that behaves like one", () => {
  beforeAll(async () => {
    const scratch = await createScratchDatabase("lifecycle")
    databaseUrl = scratch.url
    dropDatabase = scratch.drop
  }, 30_000)
  afterAll(async () => {
    for (const pid of started) if (alive(pid)) process.kill(pid, "SIGKILL")
    await dropDatabase()
    await deleteRedisKeys(prefix)
  }, 30_000)

  it("SIGTERM to npm: the in-flight request completes, one shutdown line, exit 0, port freed, no serve left; no WARN at start", { timeout: 60_000 }, async () => {
    const s = await npmStart()
    try {
      // the first thing the service says is what it starts
      assert.match(s.stderr().split("\n")[0]!, /starting: connecting to PostgreSQL \(DATABASE_URL\), rollout state in Redis/)
      const ok = await fetch(`${s.url}/api/funds/1/companies?stage=series-a`)
      assert.strictEqual(ok.status, 200)
      const inFlight = slowRequest(s.url)
      await new Promise((r) => setTimeout(r, 50))
      process.kill(s.npm.pid!, "SIGTERM")
      await poll("the shutdown line", () => stoppingLines(s.stderr()).length > 0 ? true : undefined, 10_000)
      inFlight.finish()
      const finished = Date.now()
      assert.strictEqual(await inFlight.response, 200, "the in-flight request was drained, not cut")
      assert.strictEqual(await s.exited, 0, "npm start exits 0")
      // the drain ends with the last in-flight request (its kept-alive connection is closed), not
      // with the grace period
      assert.isBelow(Date.now() - finished, SHUTDOWN_GRACE_MS)
      await poll("the service to exit", () => alive(s.servicePid) ? undefined : true, 10_000)
      assert.isTrue(await refused(s.port), "the port is freed")
      assert.lengthOf(stoppingLines(s.stderr()), 1)
      assert.match(stoppingLines(s.stderr())[0]!, /SIGTERM: stopping/)
      assertQuietJson(s.stderr())
      assert.notMatch(s.stdout(), /WARN|ERROR/)
    } finally {
      if (alive(s.servicePid)) process.kill(s.servicePid, "SIGKILL")
    }
  })

  it("the first line says what is starting, within a second, before the program has loaded", { timeout: 30_000 }, async () => {
    const t0 = Date.now()
    const child = spawn(process.execPath, [fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url)), "serve", "--port", "0"], {
      env: { ...process.env, DATABASE_URL: "", REDIS_URL: "" },
      stdio: ["ignore", "ignore", "pipe"]
    })
    started.push(child.pid!)
    const line = await new Promise<string>((resolve) => child.stderr.once("data", (c: Buffer) => resolve(c.toString("utf8"))))
    const elapsed = Date.now() - t0
    const exited = new Promise((resolve) => child.on("exit", resolve))
    child.kill("SIGKILL")
    await exited
    assert.isBelow(elapsed, 1_000)
    assert.strictEqual(
      (JSON.parse(line.split("\n")[0]!) as { message: string }).message,
      "starting: the embedded PostgreSQL (in memory; the first start takes up to 20 s), rollout state in memory…"
    )
  })

  it("SIGINT to the process npm started, and a terminal's Ctrl+C (the whole group): exit 0, one line", { timeout: 60_000 }, async () => {
    const direct = await npmStart()
    process.kill(direct.servicePid, "SIGINT")
    assert.strictEqual(await direct.exited, 0)
    assert.isFalse(alive(direct.servicePid))
    assert.lengthOf(stoppingLines(direct.stderr()), 1)
    assert.match(stoppingLines(direct.stderr())[0]!, /SIGINT: stopping/)

    const group = await npmStart()
    // Ctrl+C: the terminal signals the group, and npm forwards its own SIGINT as well
    process.kill(-group.npm.pid!, "SIGINT")
    const code = await group.exited
    await poll("the service to exit", () => alive(group.servicePid) ? undefined : true, 10_000)
    assert.include([0, 130], code, "npm itself may report the signal it received")
    assert.lengthOf(stoppingLines(group.stderr()), 1)
    assertQuietJson(group.stderr())
  })
})
