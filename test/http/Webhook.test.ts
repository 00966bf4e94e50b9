/**
 * The Alertmanager webhook and the ops API over loopback: the attack matrix (every forged,
 * replayed, stale, truncated, oversized or mistyped delivery refused, the mode unchanged), a
 * firing alert delivered three times downgrading once, resolved never re-arming, idempotency in
 * Redis, 503 when the store is unreachable, and the mode / toggle routes.
 */
import { afterAll, assert, beforeAll, beforeEach, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Webhook } from "standardwebhooks"
import { decodeSigningSecret, signWebhook } from "../../src/http/ops/WebhookAuth.ts"
import { deleteRedisKeys, OPS_TOKEN, request, type RunningService, startService, WEBHOOK_SECRET } from "./support/Service.ts"

const PATH = "/_ops/stage-validation/auto-downgrade"
const ALERT = "StageValidationBlastRadius"
let counter = 0

const payload = (status: "firing" | "resolved", alertname = ALERT) => {
  const n = ++counter
  return {
    version: "4",
    groupKey: `{}/{severity="critical"}:{alertname="${alertname}"}-${n}`,
    truncatedAlerts: 0,
    status,
    receiver: "stage-validation-webhook",
    groupLabels: { alertname },
    commonLabels: { alertname, severity: "critical" },
    commonAnnotations: { summary: "reject ratio above 0.5 %" },
    externalURL: "http://alertmanager:9093",
    futureField: { tolerated: true },
    alerts: [{
      status,
      labels: { alertname, severity: "critical" },
      annotations: { summary: "reject ratio above 0.5 %" },
      startsAt: "2026-01-19T10:00:00.000Z",
      endsAt: status === "resolved" ? "2026-01-19T10:20:00.000Z" : "0001-01-01T00:00:00Z",
      generatorURL: "http://prometheus:9090/graph",
      fingerprint: `f${n.toString(16).padStart(15, "0")}`
    }]
  }
}

const bearer = { authorization: `Bearer ${OPS_TOKEN}` }
const now = () => Math.floor(Date.now() / 1000)
const signedHeaders = (body: string, id = `msg_${++counter}`, timestamp = now(), secret = WEBHOOK_SECRET) => ({
  "webhook-id": id,
  "webhook-timestamp": String(timestamp),
  "webhook-signature": signWebhook(decodeSigningSecret(secret)!, id, timestamp, new TextEncoder().encode(body))
})

let service: RunningService
const post = (body: string, headers: Record<string, string>) =>
  request(`${service.url}${PATH}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } })
const mode = () => service.store.current().defaultMode
const downgrades = () =>
  service.run(Effect.map(Effect.flatMap(Effect.succeed(service.store), (s) => s.history(1000)), (h) =>
    h.filter((e) => e.action === "downgrade" && e.outcome === "applied").length))

beforeAll(async () => {
  service = await startService({ prefix: "hook" })
})
afterAll(async () => {
  await service?.close()
})

const firing = () => JSON.stringify(payload("firing"))

describe("the attack matrix: refused, mode unchanged", () => {
  beforeEach(() => service.setDocument({ defaultMode: "enforce", dryRun: false, enforceWriteOnly: false, enforcementPercent: 100 }))

  const cases: ReadonlyArray<readonly [string, () => Promise<number>, number]> = [
    ["no credentials", () => post(firing(), {}).then((r) => r.status), 401],
    ["wrong bearer token", () => post(firing(), { authorization: `Bearer ${OPS_TOKEN.slice(0, -1)}X` }).then((r) => r.status), 401],
    ["token as Basic auth", () => post(firing(), { authorization: `Basic ${OPS_TOKEN}` }).then((r) => r.status), 401],
    ["forged signature", () => {
      const body = firing()
      return post(body, { ...signedHeaders(body), "webhook-signature": "v1,Zm9yZ2VkLXNpZ25hdHVyZS1mb3JnZWQtc2lnbmF0dXJlIQ==" }).then((r) => r.status)
    }, 401],
    ["signature with another secret", () => {
      const body = firing()
      return post(body, signedHeaders(body, undefined, undefined, "whsec_" + Buffer.from("x".repeat(32)).toString("base64"))).then((r) => r.status)
    }, 401],
    ["stale timestamp (-301 s)", () => {
      const body = firing()
      return post(body, signedHeaders(body, undefined, now() - 301)).then((r) => r.status)
    }, 401],
    ["future timestamp (+301 s)", () => {
      const body = firing()
      return post(body, signedHeaders(body, undefined, now() + 301)).then((r) => r.status)
    }, 401],
    ["valid signature over a different body", () => {
      const signedBody = JSON.stringify(payload("resolved"))
      return post(firing(), signedHeaders(signedBody)).then((r) => r.status)
    }, 401],
    ["truncated body (signed)", () => {
      const body = firing()
      return post(body.slice(0, body.length - 10), signedHeaders(body)).then((r) => r.status)
    }, 401],
    ["truncated body (bearer)", () => {
      const body = firing()
      return post(body.slice(0, body.length - 10), bearer).then((r) => r.status)
    }, 400],
    ["empty body (bearer)", () => post("", bearer).then((r) => r.status), 400],
    ["empty body (signed over the real one)", () => post("", signedHeaders(firing())).then((r) => r.status), 401],
    ["body over 1 MB", () => post(JSON.stringify({ ...payload("firing"), pad: "x".repeat(1_100_000) }), bearer).then((r) => r.status), 413],
    ["wrong content type", () =>
      request(`${service.url}${PATH}`, { method: "POST", body: firing(), headers: { ...bearer, "content-type": "text/plain" } })
        .then((r) => r.status), 415],
    ["not an Alertmanager payload", () => post(JSON.stringify({ version: "3", alerts: [] }), bearer).then((r) => r.status), 400],
    ["bearer right, signature forged", () => {
      const body = firing()
      return post(body, { ...bearer, ...signedHeaders(body), "webhook-signature": "v1,AAAA" }).then((r) => r.status)
    }, 401]
  ]
  for (const [name, attack, status] of cases) {
    it(name, async () => {
      const before = await downgrades()
      assert.strictEqual(await attack(), status)
      assert.strictEqual(mode(), "enforce")
      assert.strictEqual(await downgrades(), before)
    })
  }

  it("a replayed signed delivery is acknowledged as a duplicate and changes nothing", async () => {
    const body = JSON.stringify(payload("firing"))
    const headers = signedHeaders(body)
    const first = await post(body, headers)
    assert.strictEqual(first.json.outcome, "downgraded")
    assert.strictEqual(mode(), "warn")
    // an operator re-arms enforcement; the attacker replays the captured request
    await service.setDocument({ defaultMode: "enforce" })
    const replay = await post(body, headers)
    assert.strictEqual(replay.status, 200)
    assert.strictEqual(replay.json.outcome, "duplicate")
    assert.strictEqual(mode(), "enforce")
  })
})

describe("deliveries", () => {
  beforeEach(() => service.setDocument({ defaultMode: "enforce", dryRun: false, enforceWriteOnly: false, enforcementPercent: 100 }))

  it("a valid firing alert delivered three times downgrades once", async () => {
    const before = await downgrades()
    const body = JSON.stringify(payload("firing"))
    const outcomes = []
    for (let i = 0; i < 3; i++) {
      const r = await post(body, bearer)
      assert.strictEqual(r.status, 200)
      outcomes.push(r.json.outcome)
    }
    assert.deepStrictEqual(outcomes, ["downgraded", "duplicate", "duplicate"])
    assert.strictEqual(mode(), "warn")
    assert.strictEqual(await downgrades(), before + 1)
  })

  it("a new, distinct firing alert while already in warn is already_downgraded (answer, metric label, audit), not a duplicate", async () => {
    const first = await post(JSON.stringify(payload("firing")), bearer)
    assert.strictEqual(first.json.outcome, "downgraded")
    const version = service.store.current().version
    const other = JSON.stringify(payload("firing")) // another group: a different alert
    const r = await post(other, bearer)
    assert.strictEqual(r.status, 200)
    assert.strictEqual(r.json.outcome, "already_downgraded")
    assert.strictEqual(r.json.mode, "warn")
    assert.strictEqual(service.store.current().version, version, "nothing changed")
    const [entry] = await service.run(Effect.flatMap(Effect.succeed(service.store), (s) => s.history(1)))
    assert.strictEqual(entry?.action, "downgrade")
    assert.strictEqual(entry?.outcome, "already_downgraded")
    // its redelivery is the duplicate
    assert.strictEqual((await post(other, bearer)).json.outcome, "duplicate")
    const metrics = (await request(`${service.url}/metrics`)).text
    assert.match(metrics, /^stage_validation_webhook_total\{outcome="already_downgraded"\} [1-9]/m)
  })

  it("resolved is logged and never re-arms", async () => {
    await post(JSON.stringify(payload("firing")), bearer)
    assert.strictEqual(mode(), "warn")
    const r = await post(JSON.stringify(payload("resolved")), bearer)
    assert.strictEqual(r.json.outcome, "resolved")
    assert.strictEqual(mode(), "warn")
  })

  it("other alerts are ignored", async () => {
    const r = await post(JSON.stringify(payload("firing", "SomethingElse")), bearer)
    assert.strictEqual(r.json.outcome, "ignored")
    assert.strictEqual(mode(), "enforce")
  })

  it("a relay signing with the standardwebhooks package is accepted", async () => {
    const body = JSON.stringify(payload("firing"))
    const id = `msg_pkg_${counter}`
    const ts = new Date()
    const signature = new Webhook(WEBHOOK_SECRET).sign(id, ts, body)
    const r = await post(body, { "webhook-id": id, "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)), "webhook-signature": signature })
    assert.strictEqual(r.status, 200)
    assert.strictEqual(mode(), "warn")
  })

  it("counts outcomes in stage_validation_webhook_total, always labelled", async () => {
    const metrics = (await request(`${service.url}/metrics`)).text
    for (const outcome of ["downgraded", "already_downgraded", "duplicate", "unauthorized", "invalid", "resolved", "ignored"]) {
      assert.match(metrics, new RegExp(`stage_validation_webhook_total\\{outcome="${outcome}"\\} [1-9]`), outcome)
    }
    assert.match(metrics, /^stage_validation_webhook_total\{outcome="unavailable"\} \d+$/m)
    assert.notMatch(metrics, /^stage_validation_webhook_total [0-9]/m, "no label-less series beside the labelled ones")
  })
})

describe("ops mode API", () => {
  it("GET needs the token", async () => {
    assert.strictEqual((await request(`${service.url}/_ops/stage-validation/mode`)).status, 401)
    const r = await request(`${service.url}/_ops/stage-validation/mode?history=5`, { headers: bearer })
    assert.strictEqual(r.status, 200)
    assert.strictEqual(r.json.version, service.store.current().version)
    assert.isArray(r.json.history)
  })

  it("PUT is compare-and-set, needs actor and reason, and is audited", async () => {
    const version = service.store.current().version
    const put = (body: unknown) =>
      request(`${service.url}/_ops/stage-validation/mode`, { method: "PUT", body, headers: bearer })
    assert.strictEqual((await put({ version, document: { enforcementPercent: 25 } })).status, 400)
    assert.strictEqual((await put({ version, actor: "ops", reason: "", document: { enforcementPercent: 25 } })).status, 400)
    const ok = await put({ version, actor: "ops@example.com", reason: "ramp to 25 %", document: { enforcementPercent: 25 } })
    assert.strictEqual(ok.status, 200)
    assert.strictEqual(ok.json.version, version + 1)
    assert.strictEqual(ok.json.document.enforcementPercent, 25)
    const stale = await put({ version, actor: "ops", reason: "again", document: { enforcementPercent: 50 } })
    assert.strictEqual(stale.status, 409)
    assert.strictEqual(stale.json.error, "VERSION_CONFLICT")
    const invalid = await put({ version: version + 1, actor: "ops", reason: "typo", document: { enforcmentPercent: 50 } })
    assert.strictEqual(invalid.status, 400)
    assert.strictEqual(invalid.json.error, "INVALID_DOCUMENT")
    const history = await request(`${service.url}/_ops/stage-validation/mode?history=10`, { headers: bearer })
    assert.isTrue(history.json.history.some((e: { actor: string; reason: string }) => e.actor === "ops@example.com" && e.reason === "ramp to 25 %"))
  })

  it("the toggle sets the default mode outside production", async () => {
    const r = await request(`${service.url}/_ops/stage-validation/toggle`, { body: { mode: "off" }, headers: bearer })
    assert.strictEqual(r.status, 200)
    assert.strictEqual(mode(), "off")
    assert.strictEqual((await request(`${service.url}/_ops/stage-validation/toggle`, { body: { mode: "loud" }, headers: bearer })).status, 400)
    assert.strictEqual((await request(`${service.url}/_ops/stage-validation/toggle`, { body: { mode: "warn" } })).status, 401)
  })
})

describe("production and stores", () => {
  it("the toggle answers 403 in production", async () => {
    const prod = await startService({
      prefix: "prod",
      ops: {
        credentials: { bearerTokens: [OPS_TOKEN], signingSecrets: [] },
        alertName: ALERT,
        deduplicationTtlSeconds: 600,
        toleranceSeconds: 300,
        production: true
      }
    })
    try {
      const r = await request(`${prod.url}/_ops/stage-validation/toggle`, { body: { mode: "off" }, headers: bearer })
      assert.strictEqual(r.status, 403)
      assert.strictEqual(prod.store.current().defaultMode, "warn")
    } finally {
      await prod.close()
    }
  })

  it("idempotency keys live in Redis when the service uses Redis", async () => {
    const prefix = `http-test-${process.pid}-${Date.now()}`
    const make = () => startService({ prefix: "redis", redisUrl: "redis://127.0.0.1:6379", redisPrefix: prefix, initial: { defaultMode: "enforce", endpointMode: {}, enforceWriteOnly: false, enforcementPercent: 100, dryRun: false } })
    const a = await make()
    const b = await make()
    try {
      const body = JSON.stringify(payload("firing"))
      // both instances connect to Redis in the background: until then a delivery answers 503
      let first = await request(`${a.url}${PATH}`, { method: "POST", body, headers: bearer })
      for (let i = 0; i < 50 && first.status === 503; i++) {
        await new Promise((r) => setTimeout(r, 100))
        first = await request(`${a.url}${PATH}`, { method: "POST", body, headers: bearer })
      }
      let second = await request(`${b.url}${PATH}`, { method: "POST", body, headers: bearer })
      for (let i = 0; i < 50 && second.status === 503; i++) {
        await new Promise((r) => setTimeout(r, 100))
        second = await request(`${b.url}${PATH}`, { method: "POST", body, headers: bearer })
      }
      assert.strictEqual(first.json.outcome, "downgraded")
      assert.strictEqual(second.json.outcome, "duplicate")
    } finally {
      await a.close()
      await b.close()
      await deleteRedisKeys(prefix)
    }
  })

  it("503 when the store is unreachable (Alertmanager retries), counted as a downgrade failure", async () => {
    // boot-document: the unreachable store's instance serves its boot document as given, so the
    // check below sees that the failed delivery changed nothing (cautious would serve it capped)
    const down = await startService({
      prefix: "down",
      redisUrl: "redis://127.0.0.1:1",
      unsynced: "boot-document",
      initial: { defaultMode: "enforce", endpointMode: {}, enforceWriteOnly: false, enforcementPercent: 100, dryRun: false }
    })
    try {
      const r = await request(`${down.url}${PATH}`, { method: "POST", body: JSON.stringify(payload("firing")), headers: bearer })
      assert.strictEqual(r.status, 503)
      assert.strictEqual(r.json.error, "STORE_UNAVAILABLE")
      assert.strictEqual(down.store.current().defaultMode, "enforce")
      assert.strictEqual(down.store.current().version, 0)
      // every failed downgrade is counted (the StageValidationDowngradeFailing alert's input)
      const metrics = (await request(`${down.url}/metrics`)).text
      assert.match(metrics, /^stage_validation_downgrade_failures_total\{reason="unavailable"\} [1-9]/m)
      assert.match(metrics, /^stage_validation_downgrade_failures_total\{reason="conflict"\} 0$/m)
    } finally {
      await down.close()
    }
  })
})
