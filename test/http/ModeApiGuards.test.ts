/**
 * The mode API's guards over loopback (issue 25, defects 7 and 8):
 *
 * - `POST /_ops/stage-validation/toggle` honours the finalisation guard exactly like PUT: with the
 *   backfill not verified, toggling to enforce answers 409 `BACKFILL_NOT_VERIFIED` and changes
 *   nothing; an explicit `force: true` applies it, audited as forced; lowering is never blocked;
 * - documents are bounded: an `endpointMode` with 40,000 keys, or a document over the byte limit,
 *   is answered 400 naming the limit, and nothing is written.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { MAX_DOCUMENT_BYTES, MAX_ENDPOINT_MODE_KEYS } from "../../src/rollout/DocumentBounds.ts"
import { DEFAULT_DOCUMENT } from "../../src/rollout/Config.ts"
import { assertRedisReachable, REDIS_URL, uniquePrefix } from "../rollout/redisHarness.ts"
import { deleteRedisKeys, OPS_TOKEN, request, type RunningService, startService } from "./support/Service.ts"

const bearer = { authorization: `Bearer ${OPS_TOKEN}` }
let service: RunningService

beforeAll(async () => {
  service = await startService({
    prefix: "guards",
    initial: { ...DEFAULT_DOCUMENT, defaultMode: "warn" },
    backfill: { migrated: false, verified: false }
  })
}, 60_000)
afterAll(async () => {
  await service?.close()
})

const toggle = (body: unknown) => request(`${service.url}/_ops/stage-validation/toggle`, { body, headers: bearer })
const put = (document: Record<string, unknown>) =>
  request(`${service.url}/_ops/stage-validation/mode`, {
    method: "PUT",
    headers: bearer,
    body: { version: service.store.current().version, actor: "ops@example.com", reason: "test", document }
  })
const lastEntry = async () => (await service.run(service.store.history(1)))[0]

describe("the toggle honours the finalisation guard", () => {
  it("toggle to enforce before the backfill is verified: 409 BACKFILL_NOT_VERIFIED, like PUT", async () => {
    const version = service.store.current().version
    const viaPut = await put({ defaultMode: "enforce" })
    assert.strictEqual(viaPut.status, 409)
    assert.strictEqual(viaPut.json.error, "BACKFILL_NOT_VERIFIED")

    const viaToggle = await toggle({ mode: "enforce", actor: "ops@example.com", reason: "try the toggle" })
    assert.strictEqual(viaToggle.status, 409, viaToggle.text)
    assert.strictEqual(viaToggle.json.error, "BACKFILL_NOT_VERIFIED")
    assert.strictEqual(service.store.current().defaultMode, "warn")
    assert.strictEqual(service.store.current().version, version)
    assert.strictEqual((await lastEntry())?.outcome, "refused")
  })

  it("an explicit force applies it, audited as forced; lowering is never blocked", async () => {
    const forced = await toggle({ mode: "enforce", actor: "ops@example.com", reason: "incident drill", force: true })
    assert.strictEqual(forced.status, 200, forced.text)
    assert.strictEqual(forced.json.mode, "enforce")
    const entry = await lastEntry()
    assert.strictEqual(entry?.outcome, "applied")
    assert.strictEqual(entry?.forced, true)

    const lowered = await toggle({ mode: "warn" })
    assert.strictEqual(lowered.status, 200, lowered.text)
    assert.strictEqual(service.store.current().defaultMode, "warn")
  })

  it("a non-boolean force is a 400", async () => {
    assert.strictEqual((await toggle({ mode: "enforce", force: "yes" })).status, 400)
  })
})

describe("documents are bounded", () => {
  it(`an endpointMode with 40,000 keys: 400 naming the ${MAX_ENDPOINT_MODE_KEYS}-key limit, nothing written`, async () => {
    const version = service.store.current().version
    const endpointMode: Record<string, string> = {}
    for (let i = 0; i < 40_000; i++) endpointMode[`/r${i}`] = "warn" // ~680 KB, under the 1 MiB body limit
    const started = Date.now()
    const reply = await put({ endpointMode })
    const ms = Date.now() - started
    assert.strictEqual(reply.status, 400, reply.text.slice(0, 300))
    assert.strictEqual(reply.json.error, "DOCUMENT_TOO_LARGE")
    assert.include(reply.json.message, String(MAX_ENDPOINT_MODE_KEYS))
    assert.include(reply.json.message, "endpointMode")
    assert.strictEqual(service.store.current().version, version)
    console.log(`40,000-key endpointMode refused in ${ms} ms`)
  })

  it(`a document over ${MAX_DOCUMENT_BYTES} bytes: 400 naming the byte limit`, async () => {
    const endpointMode: Record<string, string> = {}
    // 200 keys (under the key limit), ~400 bytes each: ~80 KB
    for (let i = 0; i < 200; i++) endpointMode[`/api/${"x".repeat(390)}/${i}`] = "warn"
    const reply = await put({ endpointMode })
    assert.strictEqual(reply.status, 400, reply.text.slice(0, 300))
    assert.strictEqual(reply.json.error, "DOCUMENT_TOO_LARGE")
    assert.include(reply.json.message, String(MAX_DOCUMENT_BYTES))
  })

  it("a document within the bounds is accepted", async () => {
    const endpointMode: Record<string, string> = {}
    for (let i = 0; i < MAX_ENDPOINT_MODE_KEYS; i++) endpointMode[`/api/r${i}`] = "warn"
    const reply = await put({ endpointMode })
    assert.strictEqual(reply.status, 200, reply.text.slice(0, 300))
    assert.strictEqual(Object.keys(reply.json.document.endpointMode).length, MAX_ENDPOINT_MODE_KEYS)
  })
})

describe("bounded documents keep the shared store responsive", () => {
  const prefix = uniquePrefix("http-bounded")
  let shared: RunningService

  beforeAll(async () => {
    await assertRedisReachable()
    shared = await startService({ prefix: "bounded", redisUrl: REDIS_URL, redisPrefix: prefix, backfill: { migrated: true, verified: true } })
    for (let i = 0; i < 100 && !shared.store.sync().synced; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  }, 60_000)
  afterAll(async () => {
    await shared?.close()
    await deleteRedisKeys(prefix)
  })

  it("20 concurrent PUTs of a document at the byte limit: none answered 503 with Redis healthy", async () => {
    // ~60 KB: the largest kind of document the bounds let through
    const endpointMode: Record<string, string> = {}
    for (let i = 0; i < 150; i++) endpointMode[`/api/${"y".repeat(380)}/${i}`] = "warn"
    const version = shared.store.current().version
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      request(`${shared.url}/_ops/stage-validation/mode`, {
        method: "PUT",
        headers: bearer,
        body: { version, actor: "ops@example.com", reason: `writer ${i}`, document: { endpointMode, enforcementPercent: i } }
      })
    ))
    const statuses = replies.map((r) => r.status)
    console.log(`20 concurrent PUTs of a ~60 KB document: ${JSON.stringify(statuses.reduce<Record<number, number>>((n, s) => ({ ...n, [s]: (n[s] ?? 0) + 1 }), {}))}`)
    assert.notInclude(statuses, 503, JSON.stringify(replies.filter((r) => r.status === 503).map((r) => r.json)))
    assert.strictEqual(statuses.filter((s) => s === 200).length, 1, "compare-and-set: one writer wins")
  }, 30_000)
})
