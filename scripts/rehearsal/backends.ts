/**
 * Where the rehearsal runs. The real PostgreSQL and Redis when they answer: a scratch database
 * created for the run (dropped afterwards) and a fresh Redis key prefix (deleted afterwards).
 * Otherwise the embedded database — PGlite served on a loopback socket by this process, which the
 * service and the CLI reach like any server — and the service's in-memory mode store.
 */
import { randomBytes } from "node:crypto"
import { Effect, Layer, ManagedRuntime } from "effect"
import { SqlClient } from "effect/sql"
import { createClient } from "redis"
import { layerFromUrl } from "../../src/migration/database/Database.ts"
import { EmbeddedPostgres } from "../../src/migration/database/EmbeddedPostgres.ts"

export type DatabaseChoice = "auto" | "postgres" | "embedded"
export type StoreChoice = "auto" | "redis" | "memory"

export interface Database {
  readonly kind: "postgres" | "embedded"
  /** what the service and the CLI connect to */
  readonly url: string
  readonly query: <A extends object>(text: string, params?: ReadonlyArray<unknown>) => Promise<ReadonlyArray<A>>
  readonly close: () => Promise<void>
}

export interface Store {
  readonly kind: "redis" | "memory"
  readonly redisUrl: string | undefined
  readonly prefix: string | undefined
  readonly close: () => Promise<void>
}

const withDatabase = (url: string, name: string): string => {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

const sqlRuntime = (layer: Layer.Layer<SqlClient.SqlClient, unknown>) => {
  const runtime = ManagedRuntime.make(layer)
  const query = <A extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
    runtime.runPromise(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      return (yield* sql.unsafe<A>(text, params)) as ReadonlyArray<A>
    }))
  return { query, dispose: () => runtime.dispose() }
}

const reachablePostgres = async (adminUrl: string): Promise<boolean> => {
  const admin = sqlRuntime(layerFromUrl(adminUrl, { connectTimeoutMs: 3_000, maxConnections: 1 }))
  try {
    await admin.query("SELECT 1")
    return true
  } catch {
    return false
  } finally {
    await admin.dispose()
  }
}

/** A scratch database on the real server, or the embedded one; `choice` forces either. */
export const openDatabase = async (choice: DatabaseChoice, adminUrl: string): Promise<Database> => {
  const usePostgres = choice === "postgres" || (choice === "auto" && (await reachablePostgres(adminUrl)))
  if (usePostgres) {
    const name = `stage_rehearsal_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`
    const admin = sqlRuntime(layerFromUrl(adminUrl, { connectTimeoutMs: 5_000, maxConnections: 1 }))
    await admin.query(`CREATE DATABASE ${name}`)
    const url = withDatabase(adminUrl, name)
    const db = sqlRuntime(layerFromUrl(url, { applicationName: "stage-normalization rehearsal", maxConnections: 2 }))
    return {
      kind: "postgres",
      url,
      query: db.query,
      close: async () => {
        await db.dispose()
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((error: unknown) => {
          console.error(`could not drop the scratch database ${name} (drop it by hand): ${String(error)}`)
        })
        await admin.dispose()
      }
    }
  }
  // The service's pool (10), the CLI's (4) and ours share the one embedded backend: enough slots.
  const embedded = ManagedRuntime.make(EmbeddedPostgres.layer({ maxConnections: 24 }))
  const { url } = await embedded.runPromise(EmbeddedPostgres.useSync((db) => db))
  const db = sqlRuntime(layerFromUrl(url, { applicationName: "stage-normalization rehearsal", maxConnections: 1 }))
  return {
    kind: "embedded",
    url,
    query: db.query,
    close: async () => {
      await db.dispose()
      await embedded.dispose()
    }
  }
}

/** A fresh key prefix on the real Redis, or the service's memory store; `choice` forces either. */
export const openStore = async (choice: StoreChoice, redisUrl: string): Promise<Store> => {
  if (choice === "memory") return { kind: "memory", redisUrl: undefined, prefix: undefined, close: async () => {} }
  const client = createClient({ url: redisUrl, socket: { connectTimeout: 3_000, reconnectStrategy: false } })
  client.on("error", () => {})
  try {
    await client.connect()
    await client.ping()
  } catch (error) {
    if (choice === "redis") throw new Error(`Redis at ${redisUrl} is unreachable: ${(error as Error).message}`, { cause: error })
    return { kind: "memory", redisUrl: undefined, prefix: undefined, close: async () => {} }
  }
  const prefix = `stage-rehearsal-${process.pid}-${randomBytes(4).toString("hex")}`
  return {
    kind: "redis",
    redisUrl,
    prefix,
    close: async () => {
      const keys: Array<string> = []
      for await (const batch of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 100 })) keys.push(...batch)
      if (keys.length > 0) await client.del(keys)
      await client.quit()
    }
  }
}
