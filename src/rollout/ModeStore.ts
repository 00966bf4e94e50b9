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
 * The shared document carries a lineage: after Redis lost it, an instance restores its newest agreed
 * document over an empty store or an untouched boot seed, and otherwise adopts the store's document
 * whatever its version (see `internal/lineage.ts`), so every instance converges on one document.
 *
 * Layers: {@link ModeStore.layerMemory} (one process, tests), {@link ModeStore.layerRedis} (its own
 * Redis connection, made in the background), {@link ModeStore.layerRedisFrom} (an existing
 * `Redis` service), {@link ModeStore.layerRedisConfig} (boot document from the environment).
 * Every layer needs a `BackfillStatus` for the finalisation guard.
 *
 * @since 0.1.0
 */
import { Config, Context, Deferred, Duration, Effect, Layer, Option, Schema, type Scope } from "effect"
import { Redis } from "effect/persistence"
import { AUDIT_HISTORY_LIMIT } from "./AuditLog.ts"
import type { BackfillStatus } from "./BackfillStatus.ts"
import { type RolloutDocument, type StageValidationConfig, StageValidationConfig as ConfigSchema } from "./Config.ts"
import { loadStageValidationEnv } from "./EnvConfig.ts"
import { makeCore } from "./internal/core.ts"
import { makeLineage } from "./internal/lineage.ts"
import { makeLocalState } from "./internal/localState.ts"
import { makeMemoryBackend } from "./internal/memory.ts"
import { makeRedisBackend, redisKeys, startSync } from "./internal/redisBackend.ts"
import { makeRejections } from "./internal/redisDocument.ts"
import { ModeStoreError } from "./ModeStoreError.ts"
import type { ModeStoreService, UnsyncedPolicy } from "./ModeStoreService.ts"
import { connectInBackground, type RedisClientOptions, type RedisHolder } from "./RedisConnection.ts"
import type { MissingPeerDependencyError } from "../shared/PeerDependency.ts"

/**
 * Options of the Redis-backed store.
 *
 * @example
 * ```ts
 * import { PRODUCTION_CONFIG, type RedisModeStoreOptions } from "stage-normalization/rollout"
 * const options: RedisModeStoreOptions = {
 *   initial: PRODUCTION_CONFIG, prefix: "svc-a", refreshInterval: "5 seconds", readTimeout: "100 millis", unsynced: "cautious"
 * }
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
  /**
   * When Redis holds no document: seed the boot document as a new lineage (audited `seed`, source
   * `env`, marked `seeded: "boot"`), or — an instance that holds an agreed document — restore that
   * one (audited `restore`). Default true; false writes nothing into an empty store.
   */
  readonly seedIfEmpty?: boolean | undefined
  /**
   * What the instance decides before it has read the shared document once (Redis unreachable at
   * boot, or the stored document rejected). `"cautious"` (default): not ready (`sync().synced` is
   * false, `/readyz` 503) and at most `warn` — the boot document is served with `enforce` softened
   * to `warn`, `enforceWriteOnly` and `dryRun` off. `"boot-document"`: the boot document as given,
   * ready at once. Once synced, an outage keeps the last agreed document either way.
   */
  readonly unsynced?: UnsyncedPolicy | undefined
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

const decodeInitial = Schema.decodeUnknownEffect(ConfigSchema)

/**
 * The {@link UnsyncedPolicy} from `STAGE_VALIDATION_UNSYNCED` (`cautious` or `boot-document`);
 * absent → `cautious`; anything else → `cautious`, with a structured warning.
 *
 * @internal
 */
export const unsyncedPolicyFromEnv: Effect.Effect<UnsyncedPolicy> = Effect.gen(function*() {
  const raw = yield* Config.String("STAGE_VALIDATION_UNSYNCED").pipe(
    Config.option,
    Effect.orElseSucceed(() => Option.none<string>())
  )
  if (Option.isNone(raw) || raw.value.trim() === "") return "cautious"
  const value = raw.value.trim().toLowerCase()
  if (value === "cautious" || value === "boot-document") return value
  yield* Effect.logWarning({
    event: "stage_validation.invalid_env",
    field: "STAGE_VALIDATION_UNSYNCED",
    value: raw.value.slice(0, 100),
    fallback: "cautious"
  })
  return "cautious"
})

/** The boot document with every default filled in; an invalid one is the layer's typed failure. */
const resolveInitial = (initial: StageValidationConfig): Effect.Effect<RolloutDocument, ModeStoreError> =>
  decodeInitial(initial).pipe(
    Effect.mapError((error) =>
      new ModeStoreError({ reason: { _tag: "InvalidDocument", message: `boot document: ${error.message}` }, cause: error })
    )
  )

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
  const local = yield* makeLocalState(yield* resolveInitial(options.initial), {
    synced: false,
    policy: options.unsynced ?? "cautious"
  })
  const holder: RedisHolder = { redis: undefined, connected: yield* Deferred.make<Redis.Redis["Service"]>() }
  const rejections = makeRejections(settings.keys.channel)
  const backend = makeRedisBackend(holder, settings, rejections)
  const lineage = makeLineage(local, backend, settings)
  // connect first: a missing optional peer fails the layer before the store says anything
  yield* connect(holder)
  const service = yield* makeCore(local, backend, lineage)
  yield* startSync(local, backend, holder, settings, rejections, lineage)
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
   * Fails only when the boot document does not decode: a `ModeStoreError` with an
   * `InvalidDocument` reason (out-of-range percentage, equal salts, sunset before deprecation, …).
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
  ): Layer.Layer<ModeStore, ModeStoreError, BackfillStatus> =>
    Layer.effect(
      ModeStore,
      Effect.gen(function*() {
        const local = yield* makeLocalState(yield* resolveInitial(initial))
        return ModeStore.of(yield* makeCore(local, makeMemoryBackend(local, options.historyLimit)))
      })
    )

  /**
   * A store shared through Redis over its own node-redis connection, made in the background: a
   * Redis that does not answer never fails the layer. Until the shared document is read once the
   * instance is unsynced: by default (`unsynced: "cautious"`) not ready and serving the boot
   * document capped at `warn`; with `unsynced: "boot-document"`, the boot document as given.
   * Needs the optional peers `@effect/platform-node` and `redis` (`npm install
   * @effect/platform-node redis`); without them the layer fails with
   * `MissingPeerDependencyError`. A boot document that does not decode fails it with a
   * `ModeStoreError` (reason `InvalidDocument`).
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
  ): Layer.Layer<ModeStore, MissingPeerDependencyError | ModeStoreError, BackfillStatus> =>
    Layer.effect(
      ModeStore,
      Effect.map(
        makeRedisStore(options, (holder) => connectInBackground(holder, options.redis ?? {}, "ModeStore.layerRedis")),
        ModeStore.of
      )
    )

  /**
   * A store shared through an existing `Redis` service (e.g. the host's `NodeRedis.layer`). Fails
   * only when the boot document does not decode (`ModeStoreError`, reason `InvalidDocument`).
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
  ): Layer.Layer<ModeStore, ModeStoreError, BackfillStatus | Redis.Redis> =>
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
   * (default `redis://127.0.0.1:6379`), the prefix from `STAGE_VALIDATION_REDIS_PREFIX`, the
   * {@link UnsyncedPolicy} from `STAGE_VALIDATION_UNSYNCED` (`cautious`, the default, or
   * `boot-document`). Fails as
   * {@link ModeStore.layerRedis} does (the environment's values themselves never fail it: an
   * invalid one falls back, with a warning).
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
  ): Layer.Layer<ModeStore, MissingPeerDependencyError | ModeStoreError, BackfillStatus> =>
    Layer.unwrap(
      Effect.gen(function*() {
        const { document } = yield* loadStageValidationEnv
        const url = yield* Config.String("REDIS_URL").pipe(Config.option, Effect.orElseSucceed(() => Option.none()))
        const prefix = yield* Config.String("STAGE_VALIDATION_REDIS_PREFIX").pipe(
          Config.option,
          Effect.orElseSucceed(() => Option.none())
        )
        const unsynced = options.unsynced ?? (yield* unsyncedPolicyFromEnv)
        return ModeStore.layerRedis({
          ...options,
          initial: document,
          unsynced,
          prefix: options.prefix ?? Option.getOrElse(prefix, () => "stage-validation"),
          redis: { url: Option.getOrElse(url, () => "redis://127.0.0.1:6379"), ...options.redis }
        })
      })
    )
}
