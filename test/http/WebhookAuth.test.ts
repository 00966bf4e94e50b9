/**
 * Ops authentication: bearer tokens in constant time, Standard Webhooks signatures (checked
 * against the reference `standardwebhooks` package in both directions), rotation, tolerance.
 */
import { assert, describe, it } from "@effect/vitest"
import { Webhook } from "standardwebhooks"
import {
  authenticateOpsRequest,
  decodeSigningSecret,
  signWebhook,
  tokenMatches,
  verifyBearer,
  verifySignature
} from "../../src/http/ops/WebhookAuth.ts"

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
const SECRET2 = "whsec_" + Buffer.from("another-secret-of-32-bytes-long!").toString("base64")
const TOKEN = "t0ken-".repeat(6)
const encode = (s: string) => new TextEncoder().encode(s)
const body = encode('{"version":"4","status":"firing"}')
const now = 1_760_000_000

describe("bearer tokens", () => {
  it("accepts a configured token, any of several", () => {
    assert.strictEqual(verifyBearer(`Bearer ${TOKEN}`, ["old-token-".repeat(4), TOKEN]), "ok")
    assert.strictEqual(verifyBearer(`bearer ${TOKEN}`, [TOKEN]), "ok")
  })
  it("refuses wrong, prefixed, suffixed and malformed tokens", () => {
    assert.strictEqual(verifyBearer(`Bearer ${TOKEN}x`, [TOKEN]), "invalid-token")
    assert.strictEqual(verifyBearer(`Bearer ${TOKEN.slice(1)}`, [TOKEN]), "invalid-token")
    assert.strictEqual(verifyBearer(`Basic ${TOKEN}`, [TOKEN]), "malformed-authorization")
    assert.strictEqual(verifyBearer("Bearer", [TOKEN]), "malformed-authorization")
    assert.isFalse(tokenMatches("", [TOKEN]))
    assert.isFalse(tokenMatches(TOKEN, []))
  })
})

describe("Standard Webhooks", () => {
  it("verifies what the standardwebhooks package signs", () => {
    const wh = new Webhook(SECRET)
    const signature = wh.sign("msg_1", new Date(now * 1000), Buffer.from(body).toString("utf8"))
    assert.strictEqual(verifySignature({ id: "msg_1", timestamp: String(now), signature }, body, [SECRET], now), "ok")
  })

  it("signs what the standardwebhooks package verifies", () => {
    const signature = signWebhook(decodeSigningSecret(SECRET)!, "msg_2", Math.floor(Date.now() / 1000), body)
    const wh = new Webhook(SECRET)
    const payload = wh.verify(Buffer.from(body).toString("utf8"), {
      "webhook-id": "msg_2",
      "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
      "webhook-signature": signature
    })
    assert.deepStrictEqual(payload, { version: "4", status: "firing" })
  })

  it("accepts any of several signatures and any of several secrets (rotation)", () => {
    const good = signWebhook(decodeSigningSecret(SECRET2)!, "m", now, body)
    const header = `v1,AAAA v2,zzz ${good}`
    assert.strictEqual(verifySignature({ id: "m", timestamp: String(now), signature: header }, body, [SECRET, SECRET2], now), "ok")
    assert.strictEqual(verifySignature({ id: "m", timestamp: String(now), signature: header }, body, [SECRET], now), "invalid-signature")
  })

  it("refuses another body, another id, stale and future timestamps", () => {
    const signature = signWebhook(decodeSigningSecret(SECRET)!, "m", now, body)
    const headers = { id: "m", timestamp: String(now), signature }
    assert.strictEqual(verifySignature(headers, encode('{"version":"4","status":"resolved"}'), [SECRET], now), "invalid-signature")
    assert.strictEqual(verifySignature({ ...headers, id: "m2" }, body, [SECRET], now), "invalid-signature")
    assert.strictEqual(verifySignature(headers, body, [SECRET], now + 301), "timestamp-too-old")
    assert.strictEqual(verifySignature(headers, body, [SECRET], now - 301), "timestamp-too-new")
    assert.strictEqual(verifySignature(headers, body, [SECRET], now + 300), "ok")
    assert.strictEqual(verifySignature({ ...headers, timestamp: `${now}abc` }, body, [SECRET], now), "malformed-signature-headers")
  })

  it("signs the raw bytes, not a re-serialisation", () => {
    const raw = encode('{ "version" : "4" }')
    const signature = signWebhook(decodeSigningSecret(SECRET)!, "m", now, raw)
    assert.strictEqual(verifySignature({ id: "m", timestamp: String(now), signature }, raw, [SECRET], now), "ok")
    assert.strictEqual(verifySignature({ id: "m", timestamp: String(now), signature }, encode('{"version":"4"}'), [SECRET], now), "invalid-signature")
  })
})

describe("authenticateOpsRequest", () => {
  const credentials = { bearerTokens: [TOKEN], signingSecrets: [SECRET] }
  const signed = (id: string) => ({
    "webhook-id": id,
    "webhook-timestamp": String(now),
    "webhook-signature": signWebhook(decodeSigningSecret(SECRET)!, id, now, body)
  })

  it("needs a credential, and every presented credential must be valid", () => {
    assert.deepStrictEqual(authenticateOpsRequest({}, body, credentials, now), { ok: false, reason: "missing-credentials" })
    assert.deepStrictEqual(authenticateOpsRequest({ authorization: `Bearer ${TOKEN}` }, body, credentials, now), {
      ok: true,
      method: "bearer",
      webhookId: undefined
    })
    assert.deepStrictEqual(authenticateOpsRequest(signed("a"), body, credentials, now), { ok: true, method: "signature", webhookId: "a" })
    assert.deepStrictEqual(
      authenticateOpsRequest({ ...signed("a"), authorization: "Bearer wrong-token-wrong-token-wrong-token" }, body, credentials, now),
      { ok: false, reason: "invalid-token" }
    )
    assert.deepStrictEqual(authenticateOpsRequest({ "webhook-id": "a" }, body, credentials, now), {
      ok: false,
      reason: "incomplete-signature-headers"
    })
  })

  it("refuses everything when nothing is configured", () => {
    assert.deepStrictEqual(authenticateOpsRequest({ authorization: "Bearer x" }, body, { bearerTokens: [], signingSecrets: [] }, now), {
      ok: false,
      reason: "no-credentials-configured"
    })
  })
})
