/**
 * The shared rollout store for hosts that do not write Effect code: `createModeStoreClient`
 * returns plain functions and Promises over the same `ModeStore` the Effect layers give (Redis
 * with background refresh, pub/sub invalidation and compare-and-set, or memory), run on a
 * `ManagedRuntime` of its own.
 *
 * - `current()` is synchronous and never waits on I/O: pass it to the Node/Express adapter as
 *   `current`.
 * - `set`, `modify`, `history`, `refresh` return Promises; a refusal rejects with the store's
 *   typed error (`ModeStoreError` with a `VersionConflict` / `InvalidDocument` / `Unavailable`
 *   reason, or `BackfillNotVerifiedError` from the finalisation guard), each an `Error` with a
 *   `_tag`.
 * - `subscribe(listener)` calls `listener` with every newer document this process sees.
 * - `close()` stops the refresh, the subscription and the connection.
 *
 * @since 0.2.0
 */
import { type Duration, Effect, Fiber, Layer, type LogLevel, ManagedRuntime, References, Stream } from "effect"
import type { AuditEntry } from "./AuditLog.ts"
import { BACKFILL_PENDING, type BackfillState, BackfillStatus } from "./BackfillStatus.ts"
import type { RolloutDocument, StageValidationConfig } from "./Config.ts"
import type { RedisClientOptions } from "./RedisConnection.ts"
import { ModeStore, type RedisModeStoreOptions } from "./ModeStore.ts"
import type { ChangeResult, ModeStoreService, ModeStoreSync, ModifyRequest, SetRequest } from "./ModeStoreService.ts"

/**
 * Options of {@link createModeStoreClient}. With `redis` the document is shared through Redis
 * (the optional peers `@effect/platform-node` and `redis` must be installed); without it the
 * store lives in this process.
 *
 * @example
 * ```ts
 * import { PRODUCTION_CONFIG, type ModeStoreClientOptions } from "stage-normalization/rollout"
 * const options: ModeStoreClientOptions = {
 *   initial: PRODUCTION_CONFIG,
 *   redis: { url: "redis://127.0.0.1:6379" },
 *   prefix: "stage-validation"
 * }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface ModeStoreClientOptions extends Omit<RedisModeStoreOptions, "initial"> {
  /** The boot document, served until the shared store answers (and seeded into an empty one). */
  readonly initial: StageValidationConfig
  /** node-redis client options; absent: an in-process store. */
  readonly redis?: RedisClientOptions | undefined
  /**
   * What the finalisation guard knows of the historical data (default: not verified, so raising
   * read enforcement needs `force`).
   */
  readonly backfill?: BackfillState | undefined
  /**
   * How long `createModeStoreClient` waits to be synced with the shared store (the document read,
   * seeded or adopted) before it resolves unsynced, with the boot document (default 2 seconds;
   * Redis may come later, the store keeps retrying in the background).
   */
  readonly syncTimeout?: Duration.Input | undefined
  /**
   * The least severe of the client's own log lines that are written (default `"Info"`): a host
   * with a logger of its own passes `"Warn"` (only what needs attention) or `"None"`.
   */
  readonly logLevel?: LogLevel.LogLevel | undefined
}

/**
 * The Promise face of a `ModeStore`.
 *
 * @since 0.2.0
 * @category models
 */
export interface ModeStoreClient {
  /**
   * The in-process document decisions use: synchronous, never I/O (the HTTP hot path). Before
   * the shared document was read once, the boot document — capped at `warn` under the default
   * `unsynced: "cautious"` policy.
   */
  readonly current: () => RolloutDocument
  /** Whether the shared document has been read yet, and why not (for the host's readiness probe). */
  readonly sync: () => ModeStoreSync
  /** Compare-and-set of a whole document (see `SetRequest`); rejects with the store's typed errors. */
  readonly set: (request: Omit<SetRequest, "source"> & { readonly source?: SetRequest["source"] }) => Promise<ChangeResult>
  /** Read-modify-write, retried on a lost race (see `ModifyRequest`). */
  readonly modify: (
    request: Omit<ModifyRequest, "source"> & { readonly source?: ModifyRequest["source"] }
  ) => Promise<ChangeResult>
  /** Up to `limit` audit entries (default 100), newest first. */
  readonly history: (limit?: number) => Promise<ReadonlyArray<AuditEntry>>
  /** Reads the shared document now and returns it. */
  readonly refresh: () => Promise<RolloutDocument>
  /** Calls `listener` with every newer document; returns the function that stops it. */
  readonly subscribe: (listener: (document: RolloutDocument) => void) => () => void
  /** Stops the background work and closes the connection. */
  readonly close: () => Promise<void>
}

/**
 * Reads the shared document until the store says it is synced, or until `timeout`. A read that
 * succeeds is not enough: an empty store answers "nothing stored" before the background sync
 * seeded it, and a document of another lineage is adopted only once a second read agrees; the
 * store's own `sync()` is what the host's readiness probe sees, so it is what this waits for.
 */
const untilSynced = (store: ModeStoreService, timeout: Duration.Input): Effect.Effect<void> =>
  Effect.gen(function*() {
    while (!store.sync().synced) {
      yield* Effect.ignore(store.refresh)
      if (store.sync().synced) return
      yield* Effect.sleep("50 millis")
    }
  }).pipe(Effect.timeout(timeout), Effect.ignore)

/**
 * Opens a rollout store for a host without Effect. With `redis`, resolves either synced (the
 * shared document was read, seeded or adopted: `sync().synced` is true when the Promise settles)
 * or, when Redis has not answered within `syncTimeout`, timed out — unsynced until Redis answers
 * (see `sync()` and the `unsynced` option); never in between. Rejects with `MissingPeerDependencyError`
 * when `redis` is given and its optional peers are not installed, and with a `ModeStoreError`
 * (reason `InvalidDocument`) when `initial` does not decode.
 *
 * @example
 * ```ts
 * import express from "express"
 * import { createStageValidationHandler, StageLocation } from "stage-normalization/http"
 * import { createModeStoreClient, PRODUCTION_CONFIG } from "stage-normalization/rollout"
 *
 * const store = await createModeStoreClient({ initial: PRODUCTION_CONFIG, redis: { url: process.env.REDIS_URL } })
 * const app = express().use(express.json())
 * app.get("/readyz", (_req, res) => res.status(store.sync().synced ? 200 : 503).json(store.sync()))
 * app.post("/api/allocations", createStageValidationHandler({
 *   endpoint: "/api/allocations", location: StageLocation.bodyStage("stage"), current: store.current
 * }), (req, res) => res.status(201).json(req.body))
 * // on shutdown: await store.close()
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const createModeStoreClient = async (options: ModeStoreClientOptions): Promise<ModeStoreClient> => {
  const { backfill, logLevel, redis, syncTimeout, ...storeOptions } = options
  const storeLayer = redis === undefined
    ? ModeStore.layerMemory(options.initial, { historyLimit: options.historyLimit })
    : ModeStore.layerRedis({ ...storeOptions, redis })
  const runtime = ManagedRuntime.make(
    storeLayer.pipe(
      Layer.provide(BackfillStatus.layerMemory(backfill ?? BACKFILL_PENDING)),
      // provided to the store's construction, so its background fibers log at this level too
      Layer.provideMerge(Layer.succeed(References.MinimumLogLevel)(logLevel ?? "Info"))
    )
  )
  const store = await runtime.runPromise(ModeStore.use(Effect.succeed)).catch(async (error: unknown) => {
    await runtime.dispose()
    throw error
  })
  if (redis !== undefined) await runtime.runPromise(untilSynced(store, syncTimeout ?? "2 seconds"))
  const listeners = new Set<Fiber.Fiber<void, unknown>>()
  return {
    current: store.current,
    sync: store.sync,
    set: (request) => runtime.runPromise(store.set({ source: "api", ...request })),
    modify: (request) => runtime.runPromise(store.modify({ source: "api", ...request })),
    history: (limit) => runtime.runPromise(store.history(limit)),
    refresh: () => runtime.runPromise(store.refresh),
    subscribe: (listener) => {
      const first = store.current().version
      const fiber = runtime.runFork(
        store.changes.pipe(
          Stream.filter((document) => document.version > first),
          Stream.runForEach((document) => Effect.sync(() => listener(document)))
        )
      )
      listeners.add(fiber)
      return () => {
        listeners.delete(fiber)
        runtime.runFork(Fiber.interrupt(fiber))
      }
    },
    close: async () => {
      await Promise.all([...listeners].map((fiber) => runtime.runPromise(Fiber.interrupt(fiber))))
      listeners.clear()
      await runtime.dispose()
    }
  }
}
