/**
 * The common front of every ops route: read the raw body (at most 1 MiB; 413 above it, checked
 * on `content-length` before reading), authenticate over the raw bytes (bearer or Standard
 * Webhooks, {@link authenticateOpsRequest}), then, for routes that take JSON, check the media type
 * (415) and parse (400). Each step answers with a small JSON error and never throws.
 *
 * @since 0.1.0
 */
import { ByteSize, Clock, Effect } from "effect"
import { HttpIncomingMessage, HttpServerRequest, HttpServerResponse } from "effect/http"
import { requestErrorBody } from "../ErrorBody.ts"
import { REQUEST_ID_HEADER, resolveRequestId } from "../RequestId.ts"
import { OpsConfig, OPS_MAX_BODY_BYTES } from "./OpsConfig.ts"
import { type AuthFailure, authenticateOpsRequest } from "./WebhookAuth.ts"

/**
 * An ops request that passed authentication.
 *
 * @since 0.1.0
 * @category models
 */
export interface OpsRequest {
  readonly requestId: string
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: Uint8Array
  readonly webhookId: string | undefined
}

/**
 * Why the front refused a request.
 *
 * @since 0.1.0
 * @category models
 */
type OpsRejection =
  | { readonly _tag: "TooLarge" }
  | { readonly _tag: "Unreadable" }
  | { readonly _tag: "Unauthorized"; readonly reason: AuthFailure }

/**
 * A JSON answer with the request id echoed.
 *
 * @since 0.1.0
 * @category constructors
 */
export const opsJson = (status: number, body: unknown, requestId: string): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.jsonUnsafe(body, { status, headers: { [REQUEST_ID_HEADER]: requestId } })

/**
 * The response for a refusal.
 *
 * @since 0.1.0
 * @category constructors
 */
export const rejectionResponse = (rejection: OpsRejection, requestId: string): HttpServerResponse.HttpServerResponse => {
  switch (rejection._tag) {
    case "TooLarge":
      return opsJson(413, requestErrorBody("PAYLOAD_TOO_LARGE", `the body exceeds ${OPS_MAX_BODY_BYTES} bytes`), requestId)
    case "Unreadable":
      return opsJson(400, requestErrorBody("INVALID_REQUEST_BODY", "the request body could not be read"), requestId)
    case "Unauthorized":
      return HttpServerResponse.jsonUnsafe(requestErrorBody("UNAUTHORIZED", "missing or invalid credentials"), {
        status: 401,
        headers: { [REQUEST_ID_HEADER]: requestId, "www-authenticate": "Bearer realm=\"stage-validation-ops\"" }
      })
  }
}

/**
 * Reads and authenticates the current request. Fails with an {@link OpsRejection}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { readOpsRequest } from "./OpsRequest.ts" // internal: not part of the package's API
 * const program = Effect.map(readOpsRequest, (request) => request.body.length)
 * ```
 * @since 0.1.0
 * @category reading
 */
export const readOpsRequest: Effect.Effect<
  OpsRequest,
  OpsRejection & { readonly requestId: string },
  HttpServerRequest.HttpServerRequest | OpsConfig
> = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const config = yield* OpsConfig
  const headers = request.headers
  const requestId = resolveRequestId(headers[REQUEST_ID_HEADER])
  const declared = Number(headers["content-length"])
  if (Number.isFinite(declared) && declared > OPS_MAX_BODY_BYTES) {
    return yield* Effect.fail({ _tag: "TooLarge" as const, requestId })
  }
  const buffer = yield* request.arrayBuffer.pipe(
    Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(OPS_MAX_BODY_BYTES)),
    Effect.mapError((error) =>
      error.reason._tag === "RequestParseError" && error.reason.reason === "BodyTooLarge"
        ? { _tag: "TooLarge" as const, requestId }
        : { _tag: "Unreadable" as const, requestId }
    )
  )
  const body = new Uint8Array(buffer)
  const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
  const auth = authenticateOpsRequest(headers, body, config.credentials, now, config.toleranceSeconds)
  if (!auth.ok) {
    yield* Effect.logWarning("stage_validation.ops_unauthorized").pipe(
      Effect.annotateLogs({ event: "stage_validation.ops_unauthorized", reason: auth.reason, url: request.url, requestId })
    )
    return yield* Effect.fail({ _tag: "Unauthorized" as const, reason: auth.reason, requestId })
  }
  return { requestId, headers, body, webhookId: auth.webhookId }
})

/**
 * Whether a `content-type` names JSON (`application/json` or `application/*+json`, any
 * parameters).
 *
 * @example
 * ```ts
 * import { isJsonContentType } from "./OpsRequest.ts" // internal: not part of the package's API
 * isJsonContentType("application/json; charset=utf-8") // => true
 * isJsonContentType("text/plain")                      // => false
 * ```
 * @since 0.1.0
 * @category predicates
 */
export const isJsonContentType = (contentType: string | undefined): boolean => {
  if (contentType === undefined) return false
  const media = contentType.split(";", 1)[0]!.trim().toLowerCase()
  return media === "application/json" || (media.startsWith("application/") && media.endsWith("+json"))
}

const decoder = new TextDecoder("utf-8", { fatal: true })

/**
 * Parses a JSON body strictly (valid UTF-8, valid JSON, not empty).
 *
 * @example
 * ```ts
 * import { parseJsonBody } from "./OpsRequest.ts" // internal: not part of the package's API
 * parseJsonBody(new TextEncoder().encode('{"a":1}')) // => { ok: true, value: { a: 1 } }
 * parseJsonBody(new Uint8Array())                   // => { ok: false, message: "the body is empty" }
 * ```
 * @since 0.1.0
 * @category parsing
 */
export const parseJsonBody = (
  body: Uint8Array
): { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string } => {
  if (body.length === 0) return { ok: false, message: "the body is empty" }
  let text: string
  try {
    text = decoder.decode(body)
  } catch {
    return { ok: false, message: "the body is not valid UTF-8" }
  }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false, message: "the body is not valid JSON" }
  }
}
