/**
 * The rollout document read and changed in the shared store itself: a `ModeStore` over one Redis
 * connection (see `SharedStore.ts`), so a change goes through the same protocol as every other —
 * strict decoding, the finalisation guard (the migration record when a database is given), the
 * compare-and-set on the version, the audit entry (source `cli`), the pub/sub notice every
 * instance follows.
 *
 * @since 0.2.0
 */
import { NodeRedis } from "@effect/platform-node"
import { Context, Effect, Layer, type Option, type Scope } from "effect"
import { type AuditEntry } from "../rollout/AuditLog.ts"
import { encodeRolloutDocument, type RolloutDocument } from "../rollout/Config.ts"
import type { BackfillNotVerifiedError } from "../rollout/FinalisationGuard.ts"
import { ModeStore } from "../rollout/ModeStore.ts"
import type { ModeStoreError } from "../rollout/ModeStoreError.ts"
import { CliInputError } from "./CliInputError.ts"
import { type ChangeRequest, refusalError, type RolloutSource, type RolloutView, type SourceError } from "./RolloutSource.ts"
import { backfillLayer, probeRedis, redisFailureMessage, requireSharedDocument, sharedStoreLayer } from "./SharedStore.ts"

/**
 * Where the finalisation guard reads the backfill's state: the database (`None`: not verified)
 * and the migrated table and column.
 *
 * @since 0.2.0
 * @category models
 */
export interface GuardTarget {
  readonly databaseUrl: Option.Option<string>
  readonly table: string
  readonly column: string
}

const viewOf = (document: RolloutDocument): RolloutView => ({
  version: document.version,
  document: encodeRolloutDocument(document) as Readonly<Record<string, unknown>>
})

const storeFailure = (error: ModeStoreError | BackfillNotVerifiedError): SourceError => {
  if (error._tag === "BackfillNotVerifiedError") return refusalError({ _tag: "BackfillNotVerified", message: error.message })
  const reason = error.reason
  switch (reason._tag) {
    case "VersionConflict":
      return refusalError({ _tag: "VersionConflict", message: error.message, actual: reason.actual })
    case "InvalidDocument":
      return refusalError({ _tag: "InvalidDocument", message: error.message })
    case "Unavailable":
      return refusalError({ _tag: "Unavailable", message: error.message })
  }
}

/**
 * Opens the shared store at `url` under `prefix` (in the caller's scope) and checks that it holds a
 * rollout document. A Redis that does not answer a `PING` within 5 s is not used at all. Fails with a `CliInputError` (exit 2) when Redis cannot be used, holds no
 * document there, or the guard's database cannot be read.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { redisRolloutSource } from "./RolloutSourceRedis.ts" // internal: not part of the package's API
 * const version = redisRolloutSource("redis://127.0.0.1:6379", "stage-validation", {
 *   databaseUrl: Option.none(), table: "portfolio_companies", column: "stage"
 * }).pipe(Effect.flatMap((source) => source.read), Effect.map((view) => view.version), Effect.scoped)
 * ```
 * @since 0.2.0
 * @category constructors
 */
export const redisRolloutSource = (
  url: string,
  prefix: string,
  guard: GuardTarget
): Effect.Effect<RolloutSource, SourceError, Scope.Scope> =>
  Effect.gen(function*() {
    const layer = sharedStoreLayer(
      url,
      prefix,
      backfillLayer(guard.databaseUrl, guard.table, guard.column, "stage-normalization mode")
    )
    yield* probeRedis(url, 5_000)
    const context = yield* Layer.build(layer)
    // Runs before the client's own (graceful) close: a command still waiting on a Redis that stopped
    // answering is rejected at once instead of holding the command (and its timeout) forever.
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        const client = Context.get(context, NodeRedis.NodeRedis).client
        if (client.isOpen) client.destroy()
      })
    )
    yield* requireSharedDocument(url, prefix).pipe(Effect.provide(context))
    const store = Context.get(context, ModeStore)

    const read = store.refresh.pipe(Effect.map(viewOf), Effect.mapError(storeFailure))

    const history = (limit: number): Effect.Effect<ReadonlyArray<AuditEntry>, SourceError> =>
      store.history(limit).pipe(Effect.mapError(storeFailure))

    const change = (request: ChangeRequest) =>
      Effect.gen(function*() {
        const current = yield* store.refresh
        const before = viewOf(current)
        const { version: _ignored, ...document } = before.document
        const { document: next, entry } = yield* store.set({
          document: { ...document, ...request.patch(before) },
          expectedVersion: request.expectedVersion ?? current.version,
          actor: request.actor,
          reason: request.reason,
          source: "cli",
          force: request.force
        })
        return { before, after: viewOf(next), changed: entry !== undefined }
      }).pipe(Effect.mapError(storeFailure))

    return { via: "redis", label: `${url} (prefix ${prefix})`, read, history, change } satisfies RolloutSource
  }).pipe(
    Effect.catchTags({
      RedisError: (e) => Effect.fail(new CliInputError({ message: redisFailureMessage(url, e) })),
      ModeStoreError: (e) => Effect.fail(new CliInputError({ message: e.message })),
      MigrationError: (e) => Effect.fail(new CliInputError({ message: `cannot read the migration record: ${e.message}` })),
      MissingPeerDependencyError: (e) => Effect.fail(new CliInputError({ message: e.message }))
    })
  )
