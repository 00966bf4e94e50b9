/**
 * The safety net gets through (issue 25, defects 3 and 4), with three reference-service instances
 * on one Redis prefix, as a fleet behind a load balancer:
 *
 * - a slow Redis (every reply held back 1.5 s by the harness' proxy, commands still executed):
 *   Alertmanager-style redeliveries of one firing notification, spread over the instances, end
 *   with the whole fleet in warn, and no delivery is answered `duplicate` before a downgrade
 *   committed (the deduplication key is only recorded once the downgrade is);
 * - a stored document this version cannot read (one extra key, as a newer release might write):
 *   the delivery downgrades, the unreadable document is replaced by a valid downgraded one, and
 *   every instance follows.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { DEFAULT_DOCUMENT, encodeRolloutDocument, type StageValidationConfig } from "../../src/rollout/Config.ts"
import { assertRedisReachable, rawCommand, REDIS_URL, RedisProxy, uniquePrefix } from "../rollout/redisHarness.ts"
import { deleteRedisKeys, OPS_TOKEN, type Reply, request, type RunningService, startService } from "./support/Service.ts"

const PATH = "/_ops/stage-validation/auto-downgrade"
const ENFORCE: StageValidationConfig = { ...DEFAULT_DOCUMENT, defaultMode: "enforce", enforcementPercent: 100 }
const bearer = { authorization: `Bearer ${OPS_TOKEN}` }

const firing = (group: string) =>
  JSON.stringify({
    version: "4",
    groupKey: `{}/{severity="critical"}:{alertname="StageValidationBlastRadius"}-${group}`,
    truncatedAlerts: 0,
    status: "firing",
    receiver: "stage-validation-webhook",
    groupLabels: { alertname: "StageValidationBlastRadius" },
    commonLabels: { alertname: "StageValidationBlastRadius", severity: "critical" },
    commonAnnotations: {},
    externalURL: "http://alertmanager:9093",
    alerts: [{
      status: "firing",
      labels: { alertname: "StageValidationBlastRadius", severity: "critical" },
      annotations: {},
      startsAt: "2026-01-19T10:00:00.000Z",
      endsAt: "0001-01-01T00:00:00Z",
      generatorURL: "http://prometheus:9090/graph",
      fingerprint: "0123456789abcdef"
    }]
  })

const until = async (predicate: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<number> => {
  const start = Date.now()
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return Date.now() - start
}

/** The shared document as Redis holds it (read directly, not through the proxy). */
const storedDocument = async (prefix: string): Promise<Record<string, unknown> | undefined> => {
  const reply = await rawBulk("GET", `${prefix}:document`)
  return reply === null ? undefined : JSON.parse(reply)
}

// rawCommand reads one-line replies only; a document is a bulk string
const rawBulk = async (...args: ReadonlyArray<string>): Promise<string | null> => {
  const { createConnection } = await import("node:net")
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port: 6379 })
    let buffer = Buffer.alloc(0)
    socket.once("error", reject)
    socket.once("connect", () =>
      socket.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")))
    socket.on("data", (data) => {
      buffer = Buffer.concat([buffer, data])
      const text = buffer.toString("utf8")
      if (text.startsWith("$-1\r\n")) {
        socket.destroy()
        return resolve(null)
      }
      const header = /^\$(\d+)\r\n/.exec(text)
      if (header === null) return
      const length = Number(header[1])
      const body = buffer.subarray(header[0].length)
      if (body.length >= length + 2) {
        socket.destroy()
        resolve(body.subarray(0, length).toString("utf8"))
      }
    })
  })
}

const startFleet = (prefix: string, redisUrl: string) =>
  Promise.all(["a", "b", "c"].map((name) =>
    startService({
      prefix: `net${name}`,
      redisUrl,
      redisPrefix: prefix,
      initial: ENFORCE,
      backfill: { migrated: true, verified: true }
    })
  ))

const ready = (fleet: ReadonlyArray<RunningService>) =>
  until(
    async () => (await Promise.all(fleet.map((s) => request(`${s.url}/readyz`)))).every((r) => r.status === 200),
    15_000,
    "every instance synced"
  )

describe("a slow Redis (replies 1.5 s late): three instances, Alertmanager-style retries", () => {
  const prefix = uniquePrefix("http-slow-redis")
  const proxy = new RedisProxy()
  let fleet: Array<RunningService> = []

  beforeAll(async () => {
    await assertRedisReachable()
    await proxy.start("forward")
    fleet = await startFleet(prefix, proxy.url)
    await ready(fleet)
    await fleet[0]!.setDocument({ defaultMode: "enforce" })
    await until(() => fleet.every((s) => s.store.current().defaultMode === "enforce"), 10_000, "fleet enforcing")
  }, 60_000)
  afterAll(async () => {
    await Promise.all(fleet.map((s) => s.close()))
    await proxy.stop()
    await deleteRedisKeys(prefix)
  })

  it("ends with the whole fleet in warn; no duplicate before a downgrade committed", async () => {
    proxy.delayMs = 1_500
    proxy.setMode("delay")
    const body = firing("slow")
    const answers: Array<{ instance: number; status: number; outcome: string | undefined; ms: number; storedMode: unknown }> = []
    let reply: Reply | undefined
    // Alertmanager retries a failed notification (to the same or, behind a load balancer, another
    // instance) until one answers 2xx; a 2xx ends the retries
    for (let attempt = 0; attempt < 6; attempt++) {
      const instance = attempt % 3
      const started = Date.now()
      reply = await request(`${fleet[instance]!.url}${PATH}`, { method: "POST", body, headers: bearer })
      const stored = await storedDocument(prefix)
      answers.push({ instance, status: reply.status, outcome: reply.json?.outcome, ms: Date.now() - started, storedMode: stored?.["defaultMode"] })
      if (reply.status === 200) break
    }
    const trace = JSON.stringify(answers)
    for (const [i, answer] of answers.entries()) {
      if (answer.outcome === "duplicate") {
        assert.isTrue(
          answers.slice(0, i).some((a) => a.status === 200 && a.outcome === "downgraded") || answer.storedMode === "warn",
          `a duplicate before any downgrade committed: ${trace}`
        )
      }
    }
    assert.strictEqual(reply?.status, 200, trace)
    assert.strictEqual((await storedDocument(prefix))?.["defaultMode"], "warn", trace)
    const ms = await until(() => fleet.every((s) => s.store.current().defaultMode === "warn"), 15_000, `fleet in warn: ${trace}`)
    console.log(`slow Redis: ${trace}; every instance in warn ${ms} ms after the 2xx`)

    // a later redelivery of the same notification is the duplicate (its key was committed)
    proxy.setMode("forward")
    const again = await request(`${fleet[1]!.url}${PATH}`, { method: "POST", body, headers: bearer })
    assert.strictEqual(again.status, 200)
    assert.oneOf(again.json.outcome, ["duplicate"])
  }, 60_000)
})

describe("a slow Redis and an Alertmanager that gives up after 1 s", () => {
  const prefix = uniquePrefix("http-slow-abort")
  const proxy = new RedisProxy()
  let fleet: Array<RunningService> = []

  beforeAll(async () => {
    await assertRedisReachable()
    await proxy.start("forward")
    fleet = await startFleet(prefix, proxy.url)
    await ready(fleet)
    await fleet[0]!.setDocument({ defaultMode: "enforce" })
    await until(() => fleet.every((s) => s.store.current().defaultMode === "enforce"), 10_000, "fleet enforcing")
  }, 60_000)
  afterAll(async () => {
    await Promise.all(fleet.map((s) => s.close()))
    await proxy.stop()
    await deleteRedisKeys(prefix)
  })

  it("a delivery whose caller hung up still downgrades; the retry is answered 200", async () => {
    proxy.delayMs = 1_500
    proxy.setMode("delay")
    const body = firing("abort")
    const aborted = await fetch(`${fleet[0]!.url}${PATH}`, {
      method: "POST",
      body,
      headers: { ...bearer, "content-type": "application/json" },
      signal: AbortSignal.timeout(1_000)
    }).then((r) => `answered ${r.status}`, (e: Error) => e.name)
    assert.strictEqual(aborted, "TimeoutError")
    const ms = await until(() => fleet.every((s) => s.store.current().defaultMode === "warn"), 15_000, "fleet in warn")
    console.log(`caller gone after 1 s: every instance in warn ${ms + 1_000} ms after the delivery`)
    const retry = await request(`${fleet[1]!.url}${PATH}`, { method: "POST", body, headers: bearer })
    assert.strictEqual(retry.status, 200, retry.text)
    assert.oneOf(retry.json.outcome, ["duplicate", "already_downgraded"])
  }, 60_000)
})

describe("a stored document this version cannot read: three instances", () => {
  const prefix = uniquePrefix("http-unreadable")
  let fleet: Array<RunningService> = []

  beforeAll(async () => {
    await assertRedisReachable()
    fleet = await startFleet(prefix, REDIS_URL)
    await ready(fleet)
    await fleet[0]!.setDocument({ defaultMode: "enforce" })
    await until(() => fleet.every((s) => s.store.current().defaultMode === "enforce"), 10_000, "fleet enforcing")
  }, 60_000)
  afterAll(async () => {
    await Promise.all(fleet.map((s) => s.close()))
    await deleteRedisKeys(prefix)
  })

  it("the delivery downgrades: the unreadable document is replaced by a valid downgraded one", async () => {
    const version = fleet[0]!.store.current().version
    // what a newer release might write: the same document, one key this version does not know
    const newer = { ...encodeRolloutDocument(fleet[0]!.store.current()), version: version + 1, rolloutPlan: { step: 3 } }
    assert.strictEqual(await rawCommand("SET", `${prefix}:document`, JSON.stringify(newer)), "+OK")

    const reply = await request(`${fleet[1]!.url}${PATH}`, { method: "POST", body: firing("unreadable"), headers: bearer })
    assert.strictEqual(reply.status, 200, reply.text)
    assert.strictEqual(reply.json.outcome, "downgraded")
    assert.strictEqual(reply.json.mode, "warn")

    const stored = await storedDocument(prefix)
    assert.strictEqual(stored?.["defaultMode"], "warn")
    assert.notProperty(stored, "rolloutPlan", "replaced by a document this version reads")
    await until(() => fleet.every((s) => s.store.current().defaultMode === "warn"), 10_000, "fleet in warn")
    const [entry] = await fleet[2]!.run(fleet[2]!.store.history(1))
    assert.strictEqual(entry?.action, "downgrade")
    assert.strictEqual(entry?.outcome, "applied")

    // the redelivery (to another instance) is the duplicate
    const again = await request(`${fleet[2]!.url}${PATH}`, { method: "POST", body: firing("unreadable"), headers: bearer })
    assert.strictEqual(again.json.outcome, "duplicate")
  }, 30_000)
})
