/**
 * The rollout document read and changed through a running service's mode API
 * (`GET` / `PUT /_ops/stage-validation/mode`, bearer token): the service's store applies the
 * change (its own finalisation guard, its own database), audited with source `api`. Its refusals
 * come back as the store's messages (`409 VERSION_CONFLICT`, `409 BACKFILL_NOT_VERIFIED`,
 * `400 INVALID_DOCUMENT`, `503 STORE_UNAVAILABLE`) and are reported like the direct store's.
 *
 * @since 0.2.0
 */
import { Effect, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { AuditEntry } from "../rollout/AuditLog.ts"
import { CliExitCode, CliInputError } from "./CliInputError.ts"
import { type ChangeRequest, refusalError, type RolloutSource, type RolloutView, type SourceError } from "./RolloutSource.ts"

/**
 * The path of the mode API under a service's base URL.
 *
 * @example
 * ```ts
 * import { MODE_API_PATH } from "./RolloutSourceApi.ts" // internal: not part of the package's API
 * MODE_API_PATH // => "/_ops/stage-validation/mode"
 * ```
 * @since 0.2.0
 * @category constants
 */
export const MODE_API_PATH = "/_ops/stage-validation/mode"

const ModeReply = Schema.Struct({
  version: Schema.Int,
  document: Schema.Record(Schema.String, Schema.Unknown),
  history: Schema.optionalKey(Schema.Array(AuditEntry)),
  changed: Schema.optionalKey(Schema.Boolean)
})
const ErrorReply = Schema.Struct({
  error: Schema.String,
  message: Schema.optionalKey(Schema.String),
  actual: Schema.optionalKey(Schema.Number)
})
const decodeModeReply = Schema.decodeUnknownExit(ModeReply)
const decodeErrorReply = Schema.decodeUnknownExit(ErrorReply)

const viewOf = (reply: typeof ModeReply.Type): RolloutView => ({ version: reply.version, document: reply.document })

/** A non-2xx answer as the CLI reports it. */
const httpFailure = (base: string, status: number, body: unknown): SourceError => {
  const decoded = decodeErrorReply(body)
  const error = decoded._tag === "Success" ? decoded.value : undefined
  const message = error?.message ?? `HTTP ${status}`
  switch (error?.error) {
    case "VERSION_CONFLICT":
      return refusalError({ _tag: "VersionConflict", message, actual: error.actual })
    case "INVALID_DOCUMENT":
      return refusalError({ _tag: "InvalidDocument", message: `invalid rollout document: ${message}` })
    case "BACKFILL_NOT_VERIFIED":
      return refusalError({ _tag: "BackfillNotVerified", message })
    case "STORE_UNAVAILABLE":
      return refusalError({ _tag: "Unavailable", message })
  }
  if (status === 401) {
    return new CliInputError({
      message: `the service at ${base} refused the ops token (401): check --token-file or STAGE_VALIDATION_OPS_TOKEN`
    })
  }
  if (status === 404) {
    return new CliInputError({ message: `${base} has no mode API (404 on ${MODE_API_PATH}): is this the service's base URL?` })
  }
  if (status === 400 || status === 413 || status === 415) {
    return new CliInputError({ message: `the mode API refused the request (${status} ${error?.error ?? ""}): ${message}` })
  }
  return new CliExitCode({ code: 1, reason: `the mode API at ${base} answered ${status}${error ? ` ${error.error}` : ""}: ${message}` })
}

/**
 * A source over the mode API of the service at `baseUrl`, authenticated with `token`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { apiRolloutSource } from "./RolloutSourceApi.ts" // internal: not part of the package's API
 * const version = apiRolloutSource("http://127.0.0.1:3333", process.env.STAGE_VALIDATION_OPS_TOKEN ?? "").read.pipe(
 *   Effect.map((view) => view.version)
 * )
 * ```
 * @since 0.2.0
 * @category constructors
 */
export const apiRolloutSource = (baseUrl: string, token: string): RolloutSource => {
  const base = baseUrl.replace(/\/+$/, "")
  const endpoint = `${base}${MODE_API_PATH}`

  const call = (request: HttpClientRequest.HttpClientRequest) =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const response = yield* client.execute(
        request.pipe(HttpClientRequest.bearerToken(token), HttpClientRequest.acceptJson)
      )
      const body: unknown = yield* response.json.pipe(Effect.orElseSucceed(() => undefined))
      if (response.status < 200 || response.status >= 300) return yield* Effect.fail(httpFailure(base, response.status, body))
      const decoded = decodeModeReply(body)
      if (decoded._tag === "Failure") {
        return yield* new CliExitCode({ code: 1, reason: `the mode API at ${base} answered something that is not a rollout document` })
      }
      return decoded.value
    }).pipe(
      Effect.catchTag("HttpClientError", (e) =>
        Effect.fail(new CliInputError({ message: `cannot reach the mode API at ${endpoint}: ${e.message}` }))),
      Effect.timeoutOrElse({
        duration: "10 seconds",
        orElse: () => Effect.fail(new CliInputError({ message: `the mode API at ${endpoint} did not answer within 10 s` }))
      }),
      Effect.provide(FetchHttpClient.layer)
    )

  const read = Effect.map(call(HttpClientRequest.get(endpoint)), viewOf)

  const history = (limit: number) =>
    call(HttpClientRequest.get(endpoint).pipe(HttpClientRequest.setUrlParam("history", String(limit)))).pipe(
      Effect.map((reply) => reply.history ?? [])
    )

  const change = (request: ChangeRequest) =>
    Effect.gen(function*() {
      const before = yield* read
      const reply = yield* call(
        HttpClientRequest.put(endpoint).pipe(
          HttpClientRequest.bodyJsonUnsafe({
            version: request.expectedVersion ?? before.version,
            actor: request.actor,
            reason: request.reason,
            document: request.patch(before),
            ...(request.force ? { force: true } : {})
          })
        )
      )
      return { before, after: viewOf(reply), changed: reply.changed ?? true }
    })

  return { via: "api", label: `${base} (mode API)`, read, history, change }
}
