/**
 * Test harness: the reference service on a real loopback socket (port 0), against a scratch
 * database on the real PostgreSQL (created per suite, dropped with FORCE afterwards) or the
 * embedded one. A suite needing PostgreSQL fails — never skips — when it is unreachable.
 */
import { NodeRedis } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Exit, Layer, type LogLevel, Redacted, References, Scope } from "effect"
import { HttpServer } from "effect/http"
import { Redis } from "effect/persistence"
import { SqlClient } from "effect/sql"
import type { OffenderLogLine } from "../../../src/observability/OffenderLog.ts"
import { DEFAULT_DOCUMENT, type StageValidationConfig } from "../../../src/rollout/Config.ts"
import { ModeStore } from "../../../src/rollout/ModeStore.ts"
import { referenceServiceLayer, type ReferenceServiceOptions } from "../../../src/service/ReferenceService.ts"

export const ADMIN_URL = process.env["HTTP_TEST_ADMIN_URL"] ?? "postgres://postgres@127.0.0.1:5432/test"

/** Log level of the services under test (HTTP_TEST_LOG_LEVEL, default Fatal: audit and expected error lines are noise here). */
const LOG_LEVEL = (process.env["HTTP_TEST_LOG_LEVEL"] ?? "Fatal") as LogLevel.LogLevel

export const OPS_TOKEN = "test-ops-token-0123456789-abcdefghij"
export const WEBHOOK_SECRET = "whsec_" + Buffer.from("webhook-secret-for-the-http-tests!").toString("base64")

const admin = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* f(sql)
  }).pipe(
    Effect.provide(PgClient.layer({ url: Redacted.make(ADMIN_URL), maxConnections: 1, connectTimeout: 5_000 })),
    Effect.scoped
  )

const withDatabase = (url: string, name: string): string => {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/** Creates a scratch database; returns its URL and a function dropping it. */
export const createScratchDatabase = async (prefix: string) => {
  const name = `http_${prefix}_${process.pid}_${Math.floor(Math.random() * 1e9).toString(36)}`
  await Effect.runPromise(admin((sql) => sql.unsafe(`CREATE DATABASE ${name}`).unprepared))
  return {
    url: withDatabase(ADMIN_URL, name),
    drop: () => Effect.runPromise(admin((sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).unprepared).pipe(Effect.ignore))
  }
}

export interface RunningService {
  readonly url: string
  readonly store: ModeStore["Service"]
  readonly offenders: Array<OffenderLogLine>
  readonly run: <A, E>(effect: Effect.Effect<A, E, ModeStore | SqlClient.SqlClient>) => Promise<A>
  /** Replaces the rollout document (forced past the finalisation guard; tests set what they need). */
  readonly setDocument: (changes: Partial<StageValidationConfig>) => Promise<void>
  readonly close: () => Promise<void>
}

/** Starts the service. `database: "postgres"` makes (and later drops) a scratch database. */
export const startService = async (
  options: Partial<ReferenceServiceOptions> & { readonly database?: "postgres" | "embedded"; readonly prefix?: string } = {}
): Promise<RunningService> => {
  const scratch = options.database === "embedded" ? undefined : await createScratchDatabase(options.prefix ?? "svc")
  const scope = Effect.runSync(Scope.make())
  const offenders: Array<OffenderLogLine> = []
  try {
    const context = await Effect.runPromise(
      Layer.buildWithScope(
        referenceServiceLayer({
          port: 0,
          host: "127.0.0.1",
          initial: options.initial ?? DEFAULT_DOCUMENT,
          ops: options.ops ?? {
            credentials: { bearerTokens: [OPS_TOKEN], signingSecrets: [WEBHOOK_SECRET] },
            alertName: "StageValidationBlastRadius",
            deduplicationTtlSeconds: 600,
            toleranceSeconds: 300,
            production: false
          },
          offenderSamplePercent: options.offenderSamplePercent ?? 100,
          offenderSink: options.offenderSink ?? ((line) => void offenders.push(line)),
          ...options,
          databaseUrl: scratch?.url ?? options.databaseUrl
        }),
        scope
      ).pipe(Effect.provideService(References.MinimumLogLevel, LOG_LEVEL))
    )
    const server = Context.get(context, HttpServer.HttpServer)
    const store = Context.get(context, ModeStore)
    const run = <A, E>(effect: Effect.Effect<A, E, ModeStore | SqlClient.SqlClient>) =>
      Effect.runPromise(
        Effect.provide(effect, context as Context.Context<ModeStore | SqlClient.SqlClient>).pipe(
          Effect.provideService(References.MinimumLogLevel, LOG_LEVEL)
        )
      )
    return {
      url: HttpServer.formatAddress(server.address),
      store,
      offenders,
      run,
      setDocument: (changes) =>
        run(Effect.gen(function*() {
          const current = store.current()
          const { version: _v, ...rest } = { ...current, ...changes }
          yield* store.set({
            document: rest,
            expectedVersion: current.version,
            actor: "test",
            reason: "test setup",
            source: "cli",
            force: true
          })
        })).then(() => undefined),
      close: async () => {
        await Effect.runPromise(Scope.close(scope, Exit.void))
        await scratch?.drop()
      }
    }
  } catch (error) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await scratch?.drop()
    throw error
  }
}

export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: any
}

/** One request; the body is JSON-encoded unless it is a string. */
export const request = async (
  url: string,
  init: { readonly method?: string; readonly body?: unknown; readonly headers?: Record<string, string> } = {}
): Promise<Reply> => {
  const body = init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body)
  const response = await fetch(url, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers },
    ...(body !== undefined ? { body } : {})
  })
  const text = await response.text()
  let json: unknown = undefined
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}

/** The X-Stage-* / Deprecation / Sunset / Link headers of a reply, lower-case names. */
export const stageHeadersOf = (headers: Headers): Record<string, string> => {
  const out: Record<string, string> = {}
  headers.forEach((value, name) => {
    if (name.startsWith("x-stage-") || name === "deprecation" || name === "sunset" || name === "link") out[name] = value
  })
  return out
}

/** Runs `tasks` with at most `concurrency` in flight. */
export const pool = async <A>(tasks: ReadonlyArray<() => Promise<A>>, concurrency: number): Promise<Array<A>> => {
  const results = new Array<A>(tasks.length)
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++
      results[i] = await tasks[i]!()
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker))
  return results
}

/** Deletes the Redis keys under a prefix (test cleanup). */
export const deleteRedisKeys = (prefix: string, url = "redis://127.0.0.1:6379") =>
  Effect.runPromise(Effect.gen(function*() {
    const redis = yield* Redis.Redis
    const keys = yield* redis.send<ReadonlyArray<string>>("KEYS", `${prefix}*`)
    if (keys.length > 0) yield* redis.send("DEL", ...keys)
  }).pipe(Effect.provide(NodeRedis.layer({ url })), Effect.scoped, Effect.ignore))
