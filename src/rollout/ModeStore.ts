/**
 * `ModeStore`: the live, shared rollout state. It holds the **whole** versioned rollout document
 * (a {@link RolloutDocument}), so an operator moves 10 % → 25 %, flips shadow mode or downgrades
 * without restarting anything.
 *
 * - `current()` / `get`: the hot path — an in-process value, never waiting on I/O.
 * - `set`: validated, compare-and-set on the version, finalisation-guarded, audited.
 * - `modify`: read-modify-write with the same protocol, retried on a lost race.
 * - `audit`: records an event that changes nothing (a duplicate, an ignored signal).
 * - `changes`: a `Stream` of documents (the current one first).
 * - `history`: the bounded audit history, newest first.
 *
 * Layers: {@link ModeStore.layerMemory} (one process, tests), {@link ModeStore.layerRedis} (its own
 * Redis connection, made in the background), {@link ModeStore.layerRedisFrom} (an existing
 * `Redis` service), {@link ModeStore.layerRedisConfig} (boot document from the environment).
 * Every layer needs a `BackfillStatus` for the finalisation guard.
 *
 * @since 0.1.0
 */
import { Config, Context, Deferred, Duration, Effect, Layer, Option, Schema, type Scope, type Stream } from "effect"
import { Redis } from "effect/persistence"
import { AUDIT_HISTORY_LIMIT, type AuditAction, type AuditEntry, type AuditOutcome, type ChangeMeta } from "./AuditLog.ts"
import type { BackfillStatus } from "./BackfillStatus.ts"
import { type RolloutDocument, type StageValidationConfig, StageValidationConfig as ConfigSchema } from "./Config.ts"
import { loadStageValidationEnv } from "./EnvConfig.ts"
import type { BackfillNotVerifiedError } from "./FinalisationGuard.ts"
import { makeCore, makeLocalState } from "./internal/core.ts"
import { makeMemoryBackend } from "./internal/memory.ts"
import {
  connectInBackground,
  makeRedisBackend,
  type RedisClientOptions,
  type RedisHolder,
  redisKeys,
  startSync
} from "./internal/redis.ts"
import type { ModeStoreError } from "./ModeStoreError.ts"
import type { MissingPeerDependencyError } from "../shared/PeerDependency.ts"

/**
 * A whole-document change: `document` is untrusted input (decoded strictly, unknown keys
 * rejected); `expectedVersion` is the version the caller saw. The stored version becomes
 * `expectedVersion + 1`. `force` overrides the finalisation guard (audited as forced).
 *
 * @example
 * ```ts
 * import type { SetRequest } from "stage-normalization/rollout"
 * const request: SetRequest = {
 *   document: { defaultMode: "warn", dryRun: true }, expectedVersion: 4,
 *   actor: "ops@example.com", reason: "phase 2.7", source: "api"
 * }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface SetRequest extends ChangeMeta {
  readonly document: unknown
  readonly expectedVersion: number
  readonly force?: boolean | undefined
  readonly action?: AuditAction | undefined
}

/**
 * A read-modify-write change: `update` maps the current shared document to the next one (its
 * `version` is ignored). Retried a few times when another writer wins the race.
 *
 * @example
 * ```ts
 * import type { ModifyRequest } from "stage-normalization/rollout"
 * const request: ModifyRequest = {
 *   update: (doc) => ({ ...doc, enforcementPercent: 25 }),
 *   actor: "ops@example.com", reason: "ramp", source: "cli"
 * }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface ModifyRequest extends ChangeMeta {
  readonly update: (current: RolloutDocument) => RolloutDocument
  readonly force?: boolean | undefined
  readonly action?: AuditAction | undefined
}

/**
 * An audited event that changes nothing.
 *
 * @example
 * ```ts
 * import type { RecordRequest } from "stage-normalization/rollout"
 * const request: RecordRequest = { actor: "webhook", reason: "repeat", source: "webhook", action: "downgrade", outcome: "duplicate" }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface RecordRequest extends ChangeMeta {
  readonly action: AuditAction
  readonly outcome: Exclude<AuditOutcome, "applied">
}

/**
 * The result of a change: the document now in force, and the audit entry (`undefined` when the
 * request changed nothing, e.g. the same content again).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ModeStore } from "stage-normalization/rollout"
 * const changed = ModeStore.use((s) =>
 *   s.modify({ actor: "ops", reason: "shadow", source: "cli", update: (d) => ({ ...d, dryRun: true }) })
 * ).pipe(Effect.map((r) => r.entry !== undefined))
 * ```
 * @since 0.1.0
 * @category models
 */
export interface ChangeResult {
  readonly document: RolloutDocument
  readonly entry: AuditEntry | undefined
}

/**
 * The service interface.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ModeStore } from "stage-normalization/rollout"
 * const percent = ModeStore.use((store) => Effect.sync(() => store.current().enforcementPercent))
 * ```
 * @since 0.1.0
 * @category models
 */
export interface ModeStoreService {
  /** The in-process document; a plain getter for the HTTP hot path. */
  readonly current: () => RolloutDocument
  /** `current()` as an Effect. */
  readonly get: Effect.Effect<RolloutDocument>
  readonly set: (request: SetRequest) => Effect.Effect<ChangeResult, ModeStoreError | BackfillNotVerifiedError>
  readonly modify: (request: ModifyRequest) => Effect.Effect<ChangeResult, ModeStoreError | BackfillNotVerifiedError>
  readonly audit: (request: RecordRequest) => Effect.Effect<AuditEntry, ModeStoreError>
  /** The current document, then every newer one this process sees. */
  readonly changes: Stream.Stream<RolloutDocument>
  /** Up to `limit` (default 100, at most 1,000) audit entries, newest first. */
  readonly history: (limit?: number) => Effect.Effect<ReadonlyArray<AuditEntry>, ModeStoreError>
  /** Reads the shared document now (bypassing the refresh interval) and returns it. */
  readonly refresh: Effect.Effect<RolloutDocument, ModeStoreError>
}

/**
 * Options of the Redis-backed store.
 *
 * @example
 * ```ts
 * import { PRODUCTION_CONFIG, type RedisModeStoreOptions } from "stage-normalization/rollout"
 * const options: RedisModeStoreOptions = { initial: PRODUCTION_CONFIG, prefix: "svc-a", refreshInterval: "5 seconds", readTimeout: "100 millis" }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface RedisModeStoreOptions {
  /** The boot document (env or preset), served until Redis answers and seeded into an empty Redis. */
  readonly initial: StageValidationConfig
  /** Key prefix: `<prefix>:document`, `<prefix>:history`, channel `<prefix>:changes`. Default `stage-validation`. */
  readonly prefix?: string | undefined
  /** Background refresh period (the cache TTL). Default 5 seconds. */
  readonly refreshInterval?: Duration.Input | undefined
  /** Timeout of a document read. Default 100 ms. */
  readonly readTimeout?: Duration.Input | undefined
  /** Timeout of a write or history read. Default 1 second. */
  readonly writeTimeout?: Duration.Input | undefined
  /** Audit history cap. Default 1,000. */
  readonly historyLimit?: number | undefined
  /** Write the boot document when Redis holds none (audited, source `env`). Default true. */
  readonly seedIfEmpty?: boolean | undefined
}

/**
 * Options of {@link ModeStore.layerRedis}: the store options plus node-redis client options
 * (`url`, `socket`, …).
 *
 * @example
 * ```ts
 * import { PRODUCTION_CONFIG, type RedisConnectionModeStoreOptions } from "stage-normalization/rollout"
 * const options: RedisConnectionModeStoreOptions = { initial: PRODUCTION_CONFIG, redis: { url: "redis://127.0.0.1:6379" } }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface RedisConnectionModeStoreOptions extends RedisModeStoreOptions {
  readonly redis?: RedisClientOptions | undefined
}

const resolveInitial = (initial: StageValidationConfig): RolloutDocument =>
  Schema.decodeUnknownSync(ConfigSchema)(initial)

const settingsOf = (options: RedisModeStoreOptions) => ({
  keys: redisKeys(options.prefix ?? "stage-validation"),
  refreshInterval: Duration.fromInputUnsafe(options.refreshInterval ?? "5 seconds"),
  readTimeout: Duration.fromInputUnsafe(options.readTimeout ?? "100 millis"),
  writeTimeout: Duration.fromInputUnsafe(options.writeTimeout ?? "1 second"),
  historyLimit: Math.max(1, Math.floor(options.historyLimit ?? AUDIT_HISTORY_LIMIT)),
  seedIfEmpty: options.seedIfEmpty ?? true
})

const makeRedisStore = Effect.fnUntraced(function*<E>(
  options: RedisModeStoreOptions,
  connect: (holder: RedisHolder) => Effect.Effect<void, E, Scope.Scope>
) {
  const settings = settingsOf(options)
  const local = yield* makeLocalState(resolveInitial(options.initial))
  const holder: RedisHolder = { redis: undefined, connected: yield* Deferred.make<Redis.Redis["Service"]>() }
  const backend = makeRedisBackend(holder, settings)
  const service = yield* makeCore(local, backend)
  yield* connect(holder)
  yield* startSync(local, backend, holder, settings)
  return service
})

/**
 * The rollout-state service.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { BACKFILL_PENDING, BackfillStatus, DEFAULT_DOCUMENT, ModeStore } from "stage-normalization/rollout"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* ModeStore
 *   const { document } = yield* store.set({
 *     document: { ...DEFAULT_DOCUMENT, enforcementPercent: 25 },
 *     expectedVersion: store.current().version,
 *     actor: "ops@example.com", reason: "ramp", source: "cli"
 *   })
 *   return document.version // => 1
 * }).pipe(Effect.provide(ModeStore.layerMemory(DEFAULT_DOCUMENT).pipe(Layer.provide(BackfillStatus.layerMemory(BACKFILL_PENDING)))))
 * ```
 * @since 0.1.0
 * @category services
 */
export class ModeStore extends Context.Service<ModeStore, ModeStoreService>()("stage-normalization/rollout/ModeStore") {
  /**
   * A store held in this process: the boot document as given, an in-memory audit ring of 1,000.
   *
   * @example
   * ```ts
   * import { Layer } from "effect"
   * import { BACKFILL_VERIFIED, BackfillStatus, ModeStore, PRODUCTION_CONFIG } from "stage-normalization/rollout"
   * const layer = ModeStore.layerMemory(PRODUCTION_CONFIG).pipe(Layer.provide(BackfillStatus.layerMemory(BACKFILL_VERIFIED)))
   * ```
   * @since 0.1.0
   * @category layers
   */
  static readonly layerMemory = (
    initial: StageValidationConfig,
    options: { readonly historyLimit?: number | undefined } = {}
  ): Layer.Layer<ModeStore, never, BackfillStatus> =>
    Layer.effect(
      ModeStore,
      Effect.gen(function*() {
        const local = yield* makeLocalState(resolveInitial(initial))
        return ModeStore.of(yield* makeCore(local, makeMemoryBackend(local, options.historyLimit)))
      })
    )

  /**
   * A store shared through Redis over its own node-redis connection, made in the background: a
   * Redis that does not answer never fails the layer, the boot document is served until it does.
   * Needs the optional peers `@effect/platform-node` and `redis` (`npm install
   * @effect/platform-node redis`); without them the layer fails with
   * `MissingPeerDependencyError`.
   *
   * @example
   * ```ts
   * import { Layer } from "effect"
   * import { BACKFILL_PENDING, BackfillStatus, ModeStore, PRODUCTION_CONFIG } from "stage-normalization/rollout"
   * const layer = ModeStore.layerRedis({ initial: PRODUCTION_CONFIG, redis: { url: "redis://127.0.0.1:6379" } }).pipe(
   *   Layer.provide(BackfillStatus.layerMemory(BACKFILL_PENDING))
   * )
   * ```
   * @since 0.1.0
   * @category layers
   */
  static readonly layerRedis = (
    options: RedisConnectionModeStoreOptions
  ): Layer.Layer<ModeStore, MissingPeerDependencyError, BackfillStatus> =>
    Layer.effect(
      ModeStore,
      Effect.map(
        makeRedisStore(options, (holder) => connectInBackground(holder, options.redis ?? {}, "ModeStore.layerRedis")),
        ModeStore.of
      )
    )

  /**
   * A store shared through an existing `Redis` service (e.g. the host's `NodeRedis.layer`).
   *
   * @example
   * ```ts
   * import { NodeRedis } from "@effect/platform-node"
   * import { Layer } from "effect"
   * import { BACKFILL_PENDING, BackfillStatus, ModeStore, PRODUCTION_CONFIG } from "stage-normalization/rollout"
   * const layer = ModeStore.layerRedisFrom({ initial: PRODUCTION_CONFIG }).pipe(
   *   Layer.provide([NodeRedis.layer({ url: "redis://127.0.0.1:6379" }), BackfillStatus.layerMemory(BACKFILL_PENDING)])
   * )
   * ```
   * @since 0.1.0
   * @category layers
   */
  static readonly layerRedisFrom = (
    options: RedisModeStoreOptions
  ): Layer.Layer<ModeStore, never, BackfillStatus | Redis.Redis> =>
    Layer.effect(
      ModeStore,
      Effect.gen(function*() {
        const redis = yield* Redis.Redis
        return ModeStore.of(
          yield* makeRedisStore(options, (holder) =>
            Effect.gen(function*() {
              holder.redis = redis
              yield* Deferred.succeed(holder.connected, redis)
            }))
        )
      })
    )

  /**
   * {@link ModeStore.layerRedis} configured from the environment: the boot document from
   * `loadStageValidationEnv` (preset + overrides, warnings logged), the connection from `REDIS_URL`
   * (default `redis://127.0.0.1:6379`), the prefix from `STAGE_VALIDATION_REDIS_PREFIX`.
   *
   * @example
   * ```ts
   * import { Layer } from "effect"
   * import { BACKFILL_PENDING, BackfillStatus, ModeStore } from "stage-normalization/rollout"
   * const layer = ModeStore.layerRedisConfig().pipe(Layer.provide(BackfillStatus.layerMemory(BACKFILL_PENDING)))
   * ```
   * @since 0.1.0
   * @category layers
   */
  static readonly layerRedisConfig = (
    options: Partial<Omit<RedisConnectionModeStoreOptions, "initial">> = {}
  ): Layer.Layer<ModeStore, MissingPeerDependencyError, BackfillStatus> =>
    Layer.unwrap(
      Effect.gen(function*() {
        const { document } = yield* loadStageValidationEnv
        const url = yield* Config.String("REDIS_URL").pipe(Config.option, Effect.orElseSucceed(() => Option.none()))
        const prefix = yield* Config.String("STAGE_VALIDATION_REDIS_PREFIX").pipe(
          Config.option,
          Effect.orElseSucceed(() => Option.none())
        )
        return ModeStore.layerRedis({
          ...options,
          initial: document,
          prefix: options.prefix ?? Option.getOrElse(prefix, () => "stage-validation"),
          redis: { url: Option.getOrElse(url, () => "redis://127.0.0.1:6379"), ...options.redis }
        })
      })
    )
}
