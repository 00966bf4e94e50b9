/**
 * Authentication of the ops routes, plain synchronous code over `node:crypto`:
 *
 * - **Bearer tokens** (`Authorization: Bearer <token>`, what Alertmanager's
 *   `http_config.authorization` sends; Alertmanager cannot sign payloads, its issue #4248).
 *   Compared in constant time: both sides are hashed with SHA-256 and the digests compared with
 *   `timingSafeEqual`, against every configured token (no early exit), so neither the content
 *   nor the length of a token leaks through timing. Several tokens may be active (rotation).
 * - **Standard Webhooks** signatures for a signing relay (standardwebhooks.com, spec v1):
 *   `webhook-id`, `webhook-timestamp` (unix seconds, accepted within ±300 s of now on both
 *   sides), `webhook-signature` (space-separated `v1,<base64>` entries; any may match). The
 *   signed content is `${id}.${timestamp}.` followed by the **raw body bytes**, HMAC-SHA256 with
 *   the base64-decoded secret (`whsec_` prefix optional). Several secrets may be active.
 *   Verified before the body is parsed. Interoperates with the `standardwebhooks` package.
 *
 * Rule: at least one credential must be presented, and every credential presented must be
 * valid (a wrong bearer token next to a valid signature is refused).
 *
 * @since 0.1.0
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto"

/**
 * Standard Webhooks timestamp tolerance, seconds (both directions).
 *
 * @since 0.1.0
 * @category constants
 */
export const SIGNATURE_TOLERANCE_SECONDS = 300

/**
 * The configured credentials.
 *
 * @since 0.1.0
 * @category models
 */
export interface OpsCredentials {
  /** accepted bearer tokens (rotation: several may be active) */
  readonly bearerTokens: ReadonlyArray<string>
  /** accepted Standard Webhooks secrets, `whsec_<base64>` or bare base64 */
  readonly signingSecrets: ReadonlyArray<string>
}

/**
 * Why a request was refused (logged and counted; the client gets a plain 401).
 *
 * @since 0.1.0
 * @category models
 */
export type AuthFailure =
  | "missing-credentials"
  | "malformed-authorization"
  | "invalid-token"
  | "incomplete-signature-headers"
  | "malformed-signature-headers"
  | "timestamp-too-old"
  | "timestamp-too-new"
  | "invalid-signature"
  | "no-credentials-configured"

/**
 * @since 0.1.0
 * @category models
 */
export type AuthResult =
  | { readonly ok: true; readonly method: "bearer" | "signature" | "bearer+signature"; readonly webhookId: string | undefined }
  | { readonly ok: false; readonly reason: AuthFailure }

const sha256 = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest()

/**
 * Constant-time check of a presented token against every configured one.
 *
 * @example
 * ```ts
 * import { tokenMatches } from "./WebhookAuth.ts" // internal: not part of the package's API
 * tokenMatches("s3cret-token", ["other", "s3cret-token"]) // => true
 * tokenMatches("s3cret", ["s3cret-token"])                // => false
 * ```
 * @since 0.1.0
 * @category authenticating
 */
export const tokenMatches = (presented: string, tokens: ReadonlyArray<string>): boolean => {
  const digest = sha256(presented)
  let ok = false
  for (const token of tokens) {
    // The comparison runs before the `||`: every token is compared, whatever matched earlier.
    ok = timingSafeEqual(digest, sha256(token)) || ok
  }
  return ok
}

const BEARER = /^Bearer +([\x21-\x7e]{1,4096}) *$/i

/**
 * Checks an `Authorization` header value.
 *
 * @example
 * ```ts
 * import { verifyBearer } from "./WebhookAuth.ts" // internal: not part of the package's API
 * verifyBearer("Bearer abc", ["abc"]) // => "ok"
 * verifyBearer("Basic abc", ["abc"])  // => "malformed-authorization"
 * ```
 * @since 0.1.0
 * @category authenticating
 */
export const verifyBearer = (
  header: string,
  tokens: ReadonlyArray<string>
): "ok" | "malformed-authorization" | "invalid-token" => {
  const m = BEARER.exec(header)
  if (m === null) return "malformed-authorization"
  return tokenMatches(m[1]!, tokens) ? "ok" : "invalid-token"
}

/**
 * Decodes a Standard Webhooks secret (`whsec_` + base64) to its key bytes; `undefined` when it
 * is not valid base64 or empty.
 *
 * @example
 * ```ts
 * import { decodeSigningSecret } from "./WebhookAuth.ts" // internal: not part of the package's API
 * decodeSigningSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?.length // => 24
 * ```
 * @since 0.1.0
 * @category authenticating
 */
export const decodeSigningSecret = (secret: string): Buffer | undefined => {
  const body = secret.startsWith("whsec_") ? secret.slice(6) : secret
  if (body.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return undefined
  const key = Buffer.from(body, "base64")
  return key.length > 0 ? key : undefined
}

/**
 * The `v1,<base64>` signature of a message under one key (what a sender puts in
 * `webhook-signature`).
 *
 * @example
 * ```ts
 * import { decodeSigningSecret } from "./WebhookAuth.ts" // internal: not part of the package's API
 * import { signWebhook } from "stage-normalization/http"
 * const key = decodeSigningSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")!
 * signWebhook(key, "msg_1", 1700000000, new TextEncoder().encode("{}")).startsWith("v1,") // => true
 * ```
 * @since 0.1.0
 * @category signing
 */
export const signWebhook = (key: Uint8Array, id: string, timestamp: number, body: Uint8Array): string =>
  "v1," + createHmac("sha256", key).update(`${id}.${timestamp}.`, "utf8").update(body).digest("base64")

const WEBHOOK_ID = /^[\x21-\x7e]{1,256}$/
const TIMESTAMP = /^[0-9]{1,15}$/

/**
 * Verifies Standard Webhooks headers over the raw body.
 *
 * @example
 * ```ts
 * import { decodeSigningSecret, verifySignature } from "./WebhookAuth.ts" // internal: not part of the package's API
 * import { signWebhook } from "stage-normalization/http"
 * const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
 * const body = new TextEncoder().encode('{"version":"4"}')
 * const signature = signWebhook(decodeSigningSecret(secret)!, "msg_1", 1700000000, body)
 * verifySignature({ id: "msg_1", timestamp: "1700000000", signature }, body, [secret], 1700000100) // => "ok"
 * ```
 * @since 0.1.0
 * @category authenticating
 */
export const verifySignature = (
  headers: { readonly id: string; readonly timestamp: string; readonly signature: string },
  body: Uint8Array,
  secrets: ReadonlyArray<string>,
  nowSeconds: number,
  toleranceSeconds: number = SIGNATURE_TOLERANCE_SECONDS
): "ok" | "malformed-signature-headers" | "timestamp-too-old" | "timestamp-too-new" | "invalid-signature" => {
  if (!WEBHOOK_ID.test(headers.id) || !TIMESTAMP.test(headers.timestamp) || headers.signature.length > 8192) {
    return "malformed-signature-headers"
  }
  const timestamp = Number(headers.timestamp)
  if (nowSeconds - timestamp > toleranceSeconds) return "timestamp-too-old"
  if (timestamp - nowSeconds > toleranceSeconds) return "timestamp-too-new"
  const presented: Array<Buffer> = []
  for (const part of headers.signature.split(" ")) {
    if (part.startsWith("v1,")) presented.push(Buffer.from(part.slice(3), "utf8"))
  }
  let ok = false
  for (const secret of secrets) {
    const key = decodeSigningSecret(secret)
    if (key === undefined) continue
    const expected = Buffer.from(signWebhook(key, headers.id, timestamp, body).slice(3), "utf8")
    for (const candidate of presented) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) ok = true
    }
  }
  return ok ? "ok" : "invalid-signature"
}

const single = (v: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof v === "string" ? v : undefined

/**
 * Authenticates an ops request from its (lower-case) headers and raw body: see the module notes.
 *
 * @example
 * ```ts
 * import { authenticateOpsRequest } from "stage-normalization/http"
 * const credentials = { bearerTokens: ["t".repeat(32)], signingSecrets: [] }
 * authenticateOpsRequest({ authorization: "Bearer " + "t".repeat(32) }, new Uint8Array(), credentials, 0)
 * // => { ok: true, method: "bearer", webhookId: undefined }
 * ```
 * @since 0.1.0
 * @category authenticating
 */
export const authenticateOpsRequest = (
  headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>,
  body: Uint8Array,
  credentials: OpsCredentials,
  nowSeconds: number,
  toleranceSeconds: number = SIGNATURE_TOLERANCE_SECONDS
): AuthResult => {
  if (credentials.bearerTokens.length === 0 && credentials.signingSecrets.length === 0) {
    return { ok: false, reason: "no-credentials-configured" }
  }
  const authorization = headers["authorization"]
  const id = headers["webhook-id"]
  const timestamp = headers["webhook-timestamp"]
  const signature = headers["webhook-signature"]
  const hasBearer = authorization !== undefined
  const hasSignature = id !== undefined || timestamp !== undefined || signature !== undefined
  if (!hasBearer && !hasSignature) return { ok: false, reason: "missing-credentials" }
  if (hasBearer) {
    const value = single(authorization)
    if (value === undefined) return { ok: false, reason: "malformed-authorization" }
    const r = verifyBearer(value, credentials.bearerTokens)
    if (r !== "ok") return { ok: false, reason: r }
  }
  let webhookId: string | undefined
  if (hasSignature) {
    const i = single(id), t = single(timestamp), s = single(signature)
    if (i === undefined || t === undefined || s === undefined) return { ok: false, reason: "incomplete-signature-headers" }
    const r = verifySignature({ id: i, timestamp: t, signature: s }, body, credentials.signingSecrets, nowSeconds, toleranceSeconds)
    if (r !== "ok") return { ok: false, reason: r }
    webhookId = i
  }
  return { ok: true, method: hasBearer && hasSignature ? "bearer+signature" : hasBearer ? "bearer" : "signature", webhookId }
}
