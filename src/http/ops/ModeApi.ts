/**
 * The operator API over the rollout document (bearer or signature auth, like every ops route):
 *
 * - `GET /_ops/stage-validation/mode[?history=N]` → `{ version, document, synced, history? }`
 *   (the encoded rollout document this instance serves; `synced: false` while it has not read the
 *   shared document yet — then `document` is its boot document, capped at warn under the default
 *   `cautious` policy; `history` is the newest N audit entries, N ≤ 1,000);
 * - `PUT /_ops/stage-validation/mode` with `{ version, actor, reason, document, force? }`:
 *   `document` is merged over the current document (send the whole document, or only the keys
 *   to change), validated strictly, and written with compare-and-set on `version` (the version
 *   the caller read). An unsynced instance reads the shared document first; if it still cannot
 *   (a rejected stored document being repaired), the merge base is what it serves — send the
 *   whole document then. Audited with source `api`. 200 `{ version, document, changed }`, 409
 *   `VERSION_CONFLICT` (re-read and retry), 409 `BACKFILL_NOT_VERIFIED` (the finalisation guard;
 *   `force: true` overrides, audited), 400 `DOCUMENT_TOO_LARGE` when the merged document exceeds
 *   the bounds (`DocumentBounds`: 256 endpoint overrides, 64 KiB; the message names the limit),
 *   400 for an invalid body or document, 503 when the shared store is unreachable;
 * - `POST /_ops/stage-validation/toggle` with `{ mode, actor?, reason?, force? }`: the seeds'
 *   manual fallback, sets `defaultMode`; guarded like PUT (409 `BACKFILL_NOT_VERIFIED` unless
 *   `force: true`, audited as forced); 403 when `NODE_ENV=production`.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { HttpServerRequest, type HttpServerResponse } from "effect/http"
import { checkAuditText } from "../../rollout/AuditText.ts"
import { encodeRolloutDocument, Mode } from "../../rollout/Config.ts"
import { documentBoundsViolation } from "../../rollout/DocumentBounds.ts"
import type { BackfillNotVerifiedError } from "../../rollout/FinalisationGuard.ts"
import { ModeStore } from "../../rollout/ModeStore.ts"
import type { ModeStoreError } from "../../rollout/ModeStoreError.ts"
import { requestErrorBody } from "../ErrorBody.ts"
import { REQUEST_ID_HEADER, resolveRequestId } from "../RequestId.ts"
import { OpsConfig } from "./OpsConfig.ts"
import { isJsonContentType, opsJson, parseJsonBody, readOpsRequest, rejectionResponse } from "./OpsRequest.ts"

const NonEmpty = Schema.String.pipe(
  Schema.check(Schema.makeFilter((s: string) => (s.trim().length > 0 && s.length <= 500 ? undefined : "must be 1–500 characters")))
)

/** `actor`/`reason` with control characters: 400 naming the field (audited text is text). */
const auditTextResponse = (meta: { readonly actor?: string | undefined; readonly reason?: string | undefined }, requestId: string) => {
  const error = checkAuditText({ actor: meta.actor ?? "toggle", reason: meta.reason ?? "toggle" })
  return error === undefined ? undefined : opsJson(400, requestErrorBody("INVALID_BODY", error.message), requestId)
}

/**
 * Body of `PUT /_ops/stage-validation/mode`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ModeChangeBody = Schema.Struct({
  version: Schema.Int,
  actor: NonEmpty,
  reason: NonEmpty,
  document: Schema.Record(Schema.String, Schema.Unknown),
  force: Schema.optionalKey(Schema.Boolean)
})

/**
 * Body of `POST /_ops/stage-validation/toggle`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToggleBody = Schema.Struct({
  mode: Mode,
  actor: Schema.optionalKey(NonEmpty),
  reason: Schema.optionalKey(NonEmpty),
  force: Schema.optionalKey(Schema.Boolean)
})

const decodeChange = Schema.decodeUnknownExit(ModeChangeBody)
const decodeToggle = Schema.decodeUnknownExit(ToggleBody)

const storeErrorResponse = (error: ModeStoreError | BackfillNotVerifiedError, requestId: string) => {
  if (error._tag === "BackfillNotVerifiedError") {
    return opsJson(409, requestErrorBody("BACKFILL_NOT_VERIFIED", error.message), requestId)
  }
  const reason = error.reason
  switch (reason._tag) {
    case "VersionConflict":
      return opsJson(409, { error: "VERSION_CONFLICT", message: error.message, expected: reason.expected, actual: reason.actual }, requestId)
    case "InvalidDocument":
      return opsJson(400, requestErrorBody("INVALID_DOCUMENT", reason.message), requestId)
    case "Unavailable":
      return opsJson(503, requestErrorBody("STORE_UNAVAILABLE", error.message), requestId)
  }
}

type JsonBody = { readonly ok: true; readonly value: unknown; readonly requestId: string } | {
  readonly ok: false
  readonly response: HttpServerResponse.HttpServerResponse
}

const readJson: Effect.Effect<JsonBody, never, HttpServerRequest.HttpServerRequest | OpsConfig> = Effect.gen(function*() {
  const read = yield* Effect.result(readOpsRequest)
  if (read._tag === "Failure") return { ok: false, response: rejectionResponse(read.failure, read.failure.requestId) }
  const { requestId, headers, body } = read.success
  if (!isJsonContentType(headers["content-type"])) {
    return { ok: false, response: opsJson(415, requestErrorBody("UNSUPPORTED_MEDIA_TYPE", "expected content-type: application/json"), requestId) }
  }
  const parsed = parseJsonBody(body)
  if (!parsed.ok) return { ok: false, response: opsJson(400, requestErrorBody("INVALID_BODY", parsed.message), requestId) }
  return { ok: true, value: parsed.value, requestId }
})

/**
 * `GET /_ops/stage-validation/mode`.
 *
 * @since 0.1.0
 * @category handlers
 */
export const getModeHandler: Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  HttpServerRequest.HttpServerRequest | HttpServerRequest.ParsedSearchParams | OpsConfig | ModeStore
> = Effect.gen(function*() {
  const read = yield* Effect.result(readOpsRequest)
  if (read._tag === "Failure") return rejectionResponse(read.failure, read.failure.requestId)
  const requestId = read.success.requestId
  const store = yield* ModeStore
  const document = store.current()
  const params = yield* HttpServerRequest.ParsedSearchParams
  const raw = params["history"]
  const limit = typeof raw === "string" && /^[0-9]{1,4}$/.test(raw) ? Math.min(Number(raw), 1000) : 0
  const body = { version: document.version, document: encodeRolloutDocument(document), synced: store.sync().synced }
  if (limit === 0) return opsJson(200, body, requestId)
  const history = yield* Effect.result(store.history(limit))
  if (history._tag === "Failure") return storeErrorResponse(history.failure, requestId)
  return opsJson(200, { ...body, history: history.success }, requestId)
})

/**
 * `PUT /_ops/stage-validation/mode`.
 *
 * @since 0.1.0
 * @category handlers
 */
export const putModeHandler: Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  HttpServerRequest.HttpServerRequest | OpsConfig | ModeStore
> = Effect.gen(function*() {
  const body = yield* readJson
  if (!body.ok) return body.response
  const requestId = body.requestId
  const decoded = decodeChange(body.value, { errors: "all" })
  if (decoded._tag === "Failure") {
    return opsJson(400, requestErrorBody("INVALID_BODY", "expected { version, actor, reason, document, force? }"), requestId)
  }
  const change = decoded.value
  const refused = auditTextResponse(change, requestId)
  if (refused !== undefined) return refused
  const store = yield* ModeStore
  // an unsynced instance serves a capped boot document: merge over the shared one when it can
  if (!store.sync().synced) yield* Effect.ignore(store.refresh)
  const { version: _ignored, ...current } = encodeRolloutDocument(store.current()) as Record<string, unknown>
  const { version: _alsoIgnored, ...patch } = change.document
  const document = { ...current, ...patch }
  const tooLarge = documentBoundsViolation(document)
  if (tooLarge !== undefined) return opsJson(400, requestErrorBody("DOCUMENT_TOO_LARGE", tooLarge), requestId)
  const result = yield* Effect.result(store.set({
    document,
    expectedVersion: change.version,
    actor: change.actor,
    reason: change.reason,
    source: "api",
    force: change.force ?? false
  }))
  if (result._tag === "Failure") return storeErrorResponse(result.failure, requestId)
  const { document: written, entry } = result.success
  return opsJson(200, { version: written.version, document: encodeRolloutDocument(written), changed: entry !== undefined }, requestId)
})

/**
 * `POST /_ops/stage-validation/toggle`.
 *
 * @since 0.1.0
 * @category handlers
 */
export const toggleHandler: Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  HttpServerRequest.HttpServerRequest | OpsConfig | ModeStore
> = Effect.gen(function*() {
  const config = yield* OpsConfig
  if (config.production) {
    const request = yield* HttpServerRequest.HttpServerRequest
    const requestId = resolveRequestId(request.headers[REQUEST_ID_HEADER])
    return opsJson(403, requestErrorBody("FORBIDDEN", "the manual toggle is disabled in production; use PUT /_ops/stage-validation/mode"), requestId)
  }
  const body = yield* readJson
  if (!body.ok) return body.response
  const requestId = body.requestId
  const decoded = decodeToggle(body.value)
  if (decoded._tag === "Failure") {
    return opsJson(400, requestErrorBody("INVALID_BODY", "expected { mode: \"off\" | \"warn\" | \"enforce\", actor?, reason?, force? }"), requestId)
  }
  const toggle = decoded.value
  const refused = auditTextResponse(toggle, requestId)
  if (refused !== undefined) return refused
  const store = yield* ModeStore
  const result = yield* Effect.result(store.modify({
    update: (doc) => ({ ...doc, defaultMode: toggle.mode }),
    actor: toggle.actor ?? "toggle",
    reason: toggle.reason ?? `manual toggle to ${toggle.mode}`,
    source: "api",
    // the finalisation guard, exactly as for PUT: only an explicit force overrides it (audited)
    force: toggle.force ?? false
  }))
  if (result._tag === "Failure") return storeErrorResponse(result.failure, requestId)
  return opsJson(200, { mode: result.success.document.defaultMode, version: result.success.document.version }, requestId)
})
