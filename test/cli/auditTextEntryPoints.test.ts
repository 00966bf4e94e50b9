/**
 * Audited text is text at every entry point that records it (issue 25, defect 6): `mode set` and
 * `promote` exit 2 with one line naming the flag; the mode API's PUT and toggle answer 400 naming
 * the field; nothing is written. `mode history` prints an entry an older version stored raw with
 * its control characters escaped (the table and `--json`).
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { createClient } from "redis"
import { encodeAuditEntry } from "../../src/rollout/AuditLog.ts"
import { DEFAULT_DOCUMENT, encodeRolloutDocument } from "../../src/rollout/index.ts"
import { OPS_TOKEN, request, type RunningService, startService } from "../http/support/Service.ts"
import { assertRedisReachable, REDIS_URL, uniquePrefix } from "../rollout/redisHarness.ts"
import { runCliAsync } from "./run-cli.ts"

const ESC = "\u001b"
const cleanEnv = { REDIS_URL: undefined, DATABASE_URL: undefined, STAGE_VALIDATION_OPS_TOKEN: undefined }
// oxlint-disable-next-line no-control-regex -- the test looks for raw control characters
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/

describe("the CLI refuses control characters in --actor / --reason", () => {
  const redis = createClient({ url: REDIS_URL })
  const prefix = uniquePrefix("audit-text")

  beforeAll(async () => {
    await assertRedisReachable()
    await redis.connect()
    await redis.set(`${prefix}:document`, JSON.stringify(encodeRolloutDocument({ ...DEFAULT_DOCUMENT, version: 3 })))
  })
  afterAll(async () => {
    await redis.del([`${prefix}:document`, `${prefix}:history`])
    await redis.quit()
  })

  it("mode set and promote exit 2 with one line naming the flag; nothing is written", async () => {
    const store = ["--redis-url", REDIS_URL, "--prefix", prefix]
    const [reason, actor, promote] = await Promise.all([
      runCliAsync(["mode", "set", ...store, "--percent", "25", "--actor", "ops", "--reason", "ok\r\nforged line"], cleanEnv),
      runCliAsync(["mode", "set", ...store, "--percent", "25", "--actor", `ops${ESC}[31m`, "--reason", "r"], cleanEnv),
      runCliAsync(["promote", ...store, "--prometheus-url", "http://127.0.0.1:9", "--reason", "week\u202e2"], cleanEnv)
    ])
    assert.strictEqual(reason.status, 2, reason.stderr)
    assert.include(reason.stderr, "--reason must not contain control characters (found \\u000d at position 3)")
    assert.strictEqual(actor.status, 2, actor.stderr)
    assert.include(actor.stderr, "--actor must not contain control characters (found \\u001b at position 4)")
    assert.strictEqual(promote.status, 2, promote.stderr)
    assert.include(promote.stderr, "--reason must not contain control characters (found \\u202e at position 5)")
    for (const run of [reason, actor, promote]) assert.notMatch(run.stderr, RAW, "the refusal itself prints no raw control character")
    assert.strictEqual(JSON.parse((await redis.get(`${prefix}:document`)) ?? "{}").version, 3)
    assert.strictEqual(await redis.lLen(`${prefix}:history`), 0)
  }, 60_000)

  it("mode history escapes an entry an older version stored raw (table and --json)", async () => {
    const raw = encodeAuditEntry({
      from: DEFAULT_DOCUMENT,
      to: { ...DEFAULT_DOCUMENT, version: 3 },
      diff: [],
      actor: `ops${ESC}]0;owned\u0007`,
      reason: `x${ESC}[2K\r2026-01-01 set applied cli ceo (forged)\u009b31m`,
      source: "cli",
      at: "2026-01-01T00:00:00.000Z",
      version: 3,
      action: "set",
      outcome: "applied",
      forced: false
    })
    await redis.lPush(`${prefix}:history`, raw)
    const store = ["--redis-url", REDIS_URL, "--prefix", prefix]
    const [table, json] = await Promise.all([
      runCliAsync(["mode", "history", ...store], cleanEnv),
      runCliAsync(["mode", "history", ...store, "--json"], cleanEnv)
    ])
    assert.strictEqual(table.status, 0, table.stderr)
    assert.notMatch(table.stdout, RAW)
    assert.include(table.stdout, "ops\\u001b]0;owned\\u0007")
    assert.include(table.stdout, "x\\u001b[2K\\u000d2026-01-01 set applied cli ceo (forged)\\u009b31m")
    assert.strictEqual(json.status, 0, json.stderr)
    assert.notMatch(json.stdout, RAW)
    const [entry] = JSON.parse(json.stdout) as Array<{ reason: string }>
    assert.strictEqual(entry?.reason, `x${ESC}[2K\r2026-01-01 set applied cli ceo (forged)\u009b31m`, "--json: the same value, escaped as JSON")
    await redis.del(`${prefix}:history`)
  }, 60_000)
})

describe("the mode API refuses control characters in actor / reason (400 naming the field)", () => {
  let service: RunningService
  beforeAll(async () => {
    service = await startService({ prefix: "audittext" })
  }, 60_000)
  afterAll(async () => {
    await service?.close()
  })
  const bearer = { authorization: `Bearer ${OPS_TOKEN}` }

  it("PUT /mode and POST /toggle", async () => {
    const version = service.store.current().version
    const put = await request(`${service.url}/_ops/stage-validation/mode`, {
      method: "PUT",
      headers: bearer,
      body: { version, actor: "ops", reason: `ramp${ESC}[2K\nforged`, document: { enforcementPercent: 25 } }
    })
    assert.strictEqual(put.status, 400)
    assert.deepInclude(put.json as object, { error: "INVALID_BODY" })
    assert.include((put.json as { message: string }).message, "reason must not contain control characters")
    const toggle = await request(`${service.url}/_ops/stage-validation/toggle`, {
      headers: bearer,
      body: { mode: "off", actor: "ops\u0000root" }
    })
    assert.strictEqual(toggle.status, 400)
    assert.include((toggle.json as { message: string }).message, "actor must not contain control characters")
    assert.strictEqual(service.store.current().version, version, "nothing changed")
    const history = await service.run(service.store.history(10))
    assert.isFalse(history.some((e) => RAW.test(e.reason) || RAW.test(e.actor)))
  }, 30_000)
})
