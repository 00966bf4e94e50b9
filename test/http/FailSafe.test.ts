/**
 * Fail-safe edges of the reference service over loopback, with a real Redis behind the harness'
 * fault proxy (the machine's Redis is never stopped) and a scratch database on the real
 * PostgreSQL:
 *
 * - booting with enforce configured while the store is unreachable: `/readyz` 503 with the
 *   reason, an invalid request passes with warn headers; once the store answers with an enforce
 *   document, ready and enforcing;
 * - a poisoned shared document: the version the ops API reports is unchanged, the rejection is
 *   counted in `/metrics`, and the next PUT with the real version succeeds;
 * - the server's deliberate timeouts: a client that never finishes its headers is cut off after
 *   `headersTimeout` (408), not Node's default minute.
 */
import { createConnection } from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { DEFAULT_DOCUMENT, type StageValidationConfig } from "../../src/rollout/Config.ts"
import { serverTimeouts } from "../../src/service/ReferenceService.ts"
import { assertRedisReachable, rawCommand, REDIS_URL, RedisProxy, uniquePrefix } from "../rollout/redisHarness.ts"
import { deleteRedisKeys, OPS_TOKEN, request, type RunningService, stageHeadersOf, startService } from "./support/Service.ts"

const ENFORCE: StageValidationConfig = { ...DEFAULT_DOCUMENT, defaultMode: "enforce", enforcementPercent: 100 }
const INVALID = { fundId: 1, runs: 100, seed: 7, stageDistribution: [{ stage: "not-a-stage", weight: 1 }] }
const bearer = { authorization: `Bearer ${OPS_TOKEN}` }

const until = async (predicate: () => Promise<boolean>, timeoutMs: number, what: string) => {
  const start = Date.now()
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe("boot without the store (cautious by default)", () => {
  const prefix = uniquePrefix("http-unsynced")
  const proxy = new RedisProxy()
  let service: RunningService

  beforeAll(async () => {
    await assertRedisReachable()
    // the shared document the store will answer with once reachable: enforce, version 5
    await rawCommand("SET", `${prefix}:document`, JSON.stringify({ ...ENFORCE, version: 5 }))
    await proxy.start("down")
    service = await startService({ prefix: "unsynced", redisUrl: proxy.url, redisPrefix: prefix, initial: ENFORCE })
  }, 60_000)
  afterAll(async () => {
    await service?.close()
    await proxy.stop()
    await deleteRedisKeys(prefix)
  })

  it("/readyz 503 with the reason; an invalid request passes with warn headers; enforce once the store answers", async () => {
    const notReady = await request(`${service.url}/readyz`)
    assert.strictEqual(notReady.status, 503)
    assert.strictEqual(notReady.json.checks.modeStore, "failing")
    assert.strictEqual(notReady.json.checks.database, "ok")
    assert.match(notReady.json.reasons.modeStore, /not synced/)
    assert.match(notReady.json.reasons.modeStore, /at most warn/)

    const warned = await request(`${service.url}/api/monte-carlo/simulate`, { body: INVALID })
    assert.strictEqual(warned.status, 200, "enforce configured at boot, but unsynced: warn")
    assert.strictEqual(warned.json.unclassifiedWeight, 1)
    assert.isString(stageHeadersOf(warned.headers)["x-stage-recommendation"])
    assert.isUndefined(stageHeadersOf(warned.headers)["x-stage-would-reject"])

    const metrics = (await request(`${service.url}/metrics`)).text
    assert.match(metrics, /^stage_validation_mode_store_synced 0$/m)
    assert.match(metrics, /^stage_validation_mode\{mode="warn"\} 1$/m)

    const mode = await request(`${service.url}/_ops/stage-validation/mode`, { headers: bearer })
    assert.strictEqual(mode.json.synced, false)
    assert.strictEqual(mode.json.document.defaultMode, "warn")

    proxy.setMode("forward")
    await until(async () => (await request(`${service.url}/readyz`)).status === 200, 10_000, "ready once Redis answers")
    const enforced = await request(`${service.url}/api/monte-carlo/simulate`, { body: INVALID })
    assert.strictEqual(enforced.status, 400)
    assert.strictEqual(enforced.json.error, "INVALID_STAGE_DISTRIBUTION")
    assert.strictEqual(service.store.current().version, 5)
    assert.match((await request(`${service.url}/metrics`)).text, /^stage_validation_mode_store_synced 1$/m)
  }, 30_000)
})

describe("a poisoned shared document", () => {
  const prefix = uniquePrefix("http-poison")
  let service: RunningService

  beforeAll(async () => {
    await assertRedisReachable()
    service = await startService({ prefix: "poison", redisUrl: REDIS_URL, redisPrefix: prefix, initial: ENFORCE, backfill: { migrated: true, verified: true } })
    await until(async () => (await request(`${service.url}/readyz`)).status === 200, 10_000, "synced")
  }, 60_000)
  afterAll(async () => {
    await service?.close()
    await deleteRedisKeys(prefix)
  })

  const rejectedCount = async () =>
    Number(/^stage_validation_mode_documents_rejected_total (\d+)$/m.exec((await request(`${service.url}/metrics`)).text)?.[1] ?? "NaN")

  it("is rejected whole: the version is unchanged, the rejection counted, and a PUT with the real version succeeds", async () => {
    const before = await request(`${service.url}/_ops/stage-validation/mode`, { headers: bearer })
    assert.strictEqual(before.status, 200)
    const version: number = before.json.version
    const rejectedBefore = await rejectedCount()

    await rawCommand("SET", `${prefix}:document`, JSON.stringify({ version: 999, document: { defaultMode: "off", evil: 1 } }))
    await service.run(service.store.refresh).catch(() => undefined) // the next refresh, now

    const after = await request(`${service.url}/_ops/stage-validation/mode`, { headers: bearer })
    assert.strictEqual(after.json.version, version, "the version never moves on a rejected document")
    assert.strictEqual(after.json.document.defaultMode, "enforce")
    assert.strictEqual(after.json.synced, true)
    assert.strictEqual(await rejectedCount(), rejectedBefore + 1)
    assert.strictEqual((await request(`${service.url}/readyz`)).status, 200, "a synced instance stays ready")

    const put = await request(`${service.url}/_ops/stage-validation/mode`, {
      method: "PUT",
      headers: bearer,
      body: { version, actor: "ops@example.com", reason: "replace the poisoned document", document: { enforcementPercent: 50 } }
    })
    assert.strictEqual(put.status, 200, JSON.stringify(put.json))
    assert.strictEqual(put.json.version, version + 1)
    assert.strictEqual(put.json.document.enforcementPercent, 50)
    assert.strictEqual(put.json.document.defaultMode, "enforce")
    assert.strictEqual((await service.run(service.store.refresh)).version, version + 1)
  }, 30_000)
})

describe("deliberate server timeouts", () => {
  let service: RunningService

  beforeAll(async () => {
    service = await startService({ prefix: "timeouts", headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, keepAliveTimeoutMs: 3_000 })
  }, 60_000)
  afterAll(async () => {
    await service?.close()
  })

  it("defaults differ from Node's and a headers timeout never exceeds the request timeout", () => {
    assert.deepStrictEqual(serverTimeouts({}), {
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 65_000,
      connectionsCheckingInterval: 1_000
    })
    assert.strictEqual(serverTimeouts({ headersTimeoutMs: 50_000, requestTimeoutMs: 20_000 }).headersTimeout, 20_000)
  })

  it("a client that never finishes its headers gets a 408 after the headers timeout", async () => {
    const { hostname, port } = new URL(service.url)
    const started = Date.now()
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ host: hostname, port: Number(port) })
      let data = ""
      socket.setTimeout(10_000, () => {
        socket.destroy()
        reject(new Error("the server kept the slow connection open"))
      })
      socket.on("connect", () => socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "))
      socket.on("data", (chunk) => void (data += chunk.toString()))
      socket.on("close", () => resolve(data))
      socket.on("error", reject)
    })
    const elapsed = Date.now() - started
    assert.match(reply, /^HTTP\/1\.1 408/)
    assert.isAtLeast(elapsed, 900)
    assert.isBelow(elapsed, 4_000, `cut off after ${elapsed} ms`)
  }, 15_000)
})
