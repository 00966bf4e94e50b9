/**
 * The `ModeStore` service interface and the requests and results of its operations: what every
 * implementation (memory, Redis) provides and what its callers send. Kept apart from the service
 * tag and its layers (`ModeStore.ts`), so that the shared core in `internal/` builds the service
 * without importing the module that wires it.
 *
 * @since 0.1.0
 */
import type { Effect, Stream } from "effect"
import type { AuditAction, AuditEntry, AuditOutcome, ChangeMeta } from "./AuditLog.ts"
import type { RolloutDocument } from "./Config.ts"
import type { BackfillNotVerifiedError } from "./FinalisationGuard.ts"
import type { ModeStoreError } from "./ModeStoreError.ts"

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
 * What an instance does with decisions before it has read the shared rollout document once (a
 * Redis store at boot, before Redis answered or while the stored document is rejected):
 *
 * - `"cautious"` (the default): it is not ready (`/readyz` answers 503 with the reason) and it
 *   decides at most `warn` — the boot document is served with every `enforce` softened to `warn`,
 *   `enforceWriteOnly` and shadow mode off, so nothing is rejected on the word of one instance's
 *   environment alone;
 * - `"boot-document"`: the boot document is served as it is and the instance is ready at once
 *   (the behaviour before 0.3.0).
 *
 * Once synced, losing the store keeps the last agreed document under either policy. A memory store
 * is always synced.
 *
 * @example
 * ```ts
 * import type { UnsyncedPolicy } from "stage-normalization/rollout"
 * const policy: UnsyncedPolicy = "cautious"
 * ```
 * @since 0.3.0
 * @category models
 */
export type UnsyncedPolicy = "cautious" | "boot-document"

/**
 * Whether an instance has read the shared document, under which {@link UnsyncedPolicy}, and, while
 * it has not, why (the last failure: store unreachable, stored document rejected, …).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ModeStore } from "stage-normalization/rollout"
 * const ready = ModeStore.use((store) => Effect.sync(() => store.sync().synced || store.sync().policy === "boot-document"))
 * ```
 * @since 0.3.0
 * @category models
 */
export interface ModeStoreSync {
  /** whether the shared document has been read (a memory store: always) */
  readonly synced: boolean
  /** what the instance decides while not synced */
  readonly policy: UnsyncedPolicy
  /** while not synced: why, for `/readyz` and logs; `undefined` once synced */
  readonly reason: string | undefined
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
  /**
   * The document decisions use, in process; a plain getter for the HTTP hot path. Once synced,
   * the last agreed shared document; before that, the boot document — capped at `warn` under the
   * `"cautious"` {@link UnsyncedPolicy}.
   */
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
  /** Whether this instance has read the shared document yet (synchronous; for readiness). */
  readonly sync: () => ModeStoreSync
}
