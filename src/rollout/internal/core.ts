/**
 * The part of every `ModeStore` implementation that does not depend on where the document lives:
 * the in-process current value (read synchronously on the hot path), the change stream, and the
 * write protocol — validate, guard (finalisation), compare-and-set, audit, metrics.
 *
 * A {@link Backend} supplies the shared storage: memory (the process is the source of truth) or
 * Redis (the process holds a cache refreshed in the background).
 *
 * @internal
 */
import { Effect, Metric, PubSub, Stream } from "effect"
import {
  type AuditAction,
  type AuditEntry,
  type AuditOutcome,
  type ChangeMeta,
  logAuditEntry,
  makeAuditEntry
} from "../AuditLog.ts"
import { BackfillStatus } from "../BackfillStatus.ts"
import { decodeRolloutDocument, MODES, type RolloutDocument } from "../Config.ts"
import { checkFinalisation, enforcesReads } from "../FinalisationGuard.ts"
import { ModeStoreError } from "../ModeStoreError.ts"
import type { ChangeResult, ModeStoreService, ModifyRequest, RecordRequest, SetRequest } from "../ModeStoreService.ts"
import {
  enforcementPercentGauge,
  modeChangesTotal,
  modeFetchFailuresTotal,
  validationModeGauge
} from "../../observability/metrics.ts"
import { now } from "../../shared/WallClock.ts"

/** @internal */
export type CasResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly current: RolloutDocument | undefined }

/** @internal */
export interface Backend {
  /** A fresh read of the shared document (`undefined`: nothing stored yet). */
  readonly load: Effect.Effect<RolloutDocument | undefined, ModeStoreError>
  /** Stores `next` and appends `entry` iff the shared version is `expected` (missing counts as `missingVersion`). */
  readonly compareAndSet: (
    expected: number,
    missingVersion: number,
    next: RolloutDocument,
    entry: AuditEntry
  ) => Effect.Effect<CasResult, ModeStoreError>
  readonly append: (entry: AuditEntry) => Effect.Effect<void, ModeStoreError>
  readonly history: (limit: number) => Effect.Effect<ReadonlyArray<AuditEntry>, ModeStoreError>
}

/**
 * The in-process value. `accept` only moves forward in version, so a stale refresh racing a
 * newer pub/sub message can never roll the value back.
 *
 * @internal
 */
export class LocalState {
  private value: RolloutDocument
  readonly pubsub: PubSub.PubSub<RolloutDocument>

  constructor(initial: RolloutDocument, pubsub: PubSub.PubSub<RolloutDocument>) {
    this.value = initial
    this.pubsub = pubsub
    PubSub.publishUnsafe(pubsub, initial)
  }

  get current(): RolloutDocument {
    return this.value
  }

  /** Replaces the value when `doc` is newer; returns whether it did. */
  accept(doc: RolloutDocument): boolean {
    if (doc.version <= this.value.version) return false
    this.value = doc
    PubSub.publishUnsafe(this.pubsub, doc)
    return true
  }
}

/** @internal */
export const makeLocalState = (initial: RolloutDocument): Effect.Effect<LocalState> =>
  Effect.map(PubSub.unbounded<RolloutDocument>({ replay: 1 }), (pubsub) => new LocalState(initial, pubsub))

/** Sets the `stage_validation_mode{mode}` and `stage_validation_enforcement_percent` gauges. @internal */
export const recordGauges = (doc: RolloutDocument): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (const mode of MODES) {
      yield* Metric.update(Metric.withAttributes(validationModeGauge, { mode }), doc.defaultMode === mode ? 1 : 0)
    }
    yield* Metric.update(enforcementPercentGauge, doc.enforcementPercent)
  })

/** Accepts a document into the local state and updates the gauges when it was newer. @internal */
export const acceptDocument = (local: LocalState, doc: RolloutDocument): Effect.Effect<boolean> =>
  Effect.suspend(() => (local.accept(doc) ? Effect.as(recordGauges(doc), true) : Effect.succeed(false)))

const conflict = (expected: number, actual: number) =>
  new ModeStoreError({ reason: { _tag: "VersionConflict", expected, actual } })

const sameContent = (a: RolloutDocument, b: RolloutDocument): boolean =>
  JSON.stringify({ ...a, version: 0 }) === JSON.stringify({ ...b, version: 0 })

/**
 * Builds the service from a local state and a backend. Logs one structured warning when the boot
 * document already enforces reads while the backfill is not verified (the boot state is applied as
 * given; the guard protects changes).
 *
 * @internal
 */
export const makeCore = Effect.fnUntraced(function*(local: LocalState, backend: Backend) {
  const backfill = yield* BackfillStatus
  const withBackfill = <A, E>(effect: Effect.Effect<A, E, BackfillStatus>) =>
    Effect.provideService(effect, BackfillStatus, backfill)

  yield* recordGauges(local.current)
  yield* Metric.value(modeFetchFailuresTotal) // present (at 0) in /metrics from boot
  if (enforcesReads(local.current)) {
    const state = yield* backfill.status.pipe(Effect.orElseSucceed(() => undefined))
    if (state === undefined || !state.migrated || !state.verified) {
      yield* Effect.logWarning({
        event: "stage_validation.boot_enforces_reads_before_backfill",
        message: "the boot rollout document enforces stage validation on reads but the backfill is not verified; " +
          "applied as given — reads filtered by canonical stage may miss unmigrated rows",
        migrated: state?.migrated ?? null,
        verified: state?.verified ?? null,
        enforcementPercent: local.current.enforcementPercent,
        version: local.current.version
      }).pipe(Effect.annotateLogs({ event: "stage_validation.boot_enforces_reads_before_backfill" }))
    }
  }

  const record = Effect.fnUntraced(function*(entry: AuditEntry) {
    yield* backend.append(entry)
    yield* logAuditEntry(entry)
    return entry
  })

  /** from → to, with the guard, the CAS and the audit. `to.version` must be `from.version + 1`. */
  const commit = Effect.fnUntraced(function*(
    from: RolloutDocument,
    to: RolloutDocument,
    meta: ChangeMeta,
    action: AuditAction,
    force: boolean
  ) {
    const at = yield* now
    const guard = yield* withBackfill(checkFinalisation(from, to, force)).pipe(
      Effect.tapError(() =>
        // the refused proposal, at the unchanged version, so the diff shows what was asked for
        record(makeAuditEntry({ from, to: { ...to, version: from.version }, meta, action, outcome: "refused", forced: false, at })).pipe(
          Effect.ignore
        )
      )
    )
    const entry = makeAuditEntry({ from, to, meta, action, outcome: "applied", forced: force || guard.forced, at })
    const result = yield* backend.compareAndSet(from.version, from.version, to, entry)
    if (!result.ok) {
      if (result.current !== undefined) yield* acceptDocument(local, result.current)
      return yield* conflict(from.version, result.current?.version ?? -1)
    }
    local.accept(to) // no-op when the backend already did
    yield* recordGauges(to)
    yield* Metric.update(Metric.withAttributes(modeChangesTotal, { source: meta.source }), 1)
    yield* logAuditEntry(entry)
    return { document: to, entry } satisfies ChangeResult
  })

  /** Reads the shared document now and adopts it when newer; the local value when nothing is stored. */
  const refresh = Effect.gen(function*() {
    const shared = yield* backend.load
    if (shared === undefined) return local.current
    yield* acceptDocument(local, shared)
    return shared
  })

  // Stand-ins for an unreadable stored document: a change from one always writes, even when its
  // content equals the local document.
  const placeholders = new WeakSet<RolloutDocument>()
  const placeholder = (doc: RolloutDocument): RolloutDocument => {
    placeholders.add(doc)
    return doc
  }
  const unchanged = (from: RolloutDocument, to: RolloutDocument): boolean =>
    !placeholders.has(from) && sameContent(from, to)

  /**
   * The document a change starts from. Like `refresh`, except that an unreadable stored document
   * does not block the change: it is compared-and-set against by its stored version (or as missing)
   * and replaced, so an operator can repair it; it is never served.
   */
  const fresh = refresh.pipe(
    Effect.catchIf(
      (error) => error.reason._tag === "InvalidDocument",
      (error) =>
        Effect.as(
          Effect.logWarning({
            event: "stage_validation.stored_document_invalid",
            message: "the shared rollout document is unreadable; this change replaces it",
            error: error.message
          }),
          placeholder(
            error.reason._tag === "InvalidDocument" && error.reason.storedVersion !== undefined
              ? { ...local.current, version: error.reason.storedVersion }
              : { ...local.current }
          )
        )
    )
  )

  const set = Effect.fn("ModeStore.set")(function*(request: SetRequest) {
    const decoded = yield* decodeRolloutDocument(request.document).pipe(
      Effect.mapError((error) => new ModeStoreError({ reason: { _tag: "InvalidDocument", message: error.message } }))
    )
    const from = yield* fresh
    if (from.version !== request.expectedVersion) return yield* conflict(request.expectedVersion, from.version)
    const to: RolloutDocument = { ...decoded, version: from.version + 1 }
    if (unchanged(from, to)) return { document: from, entry: undefined } satisfies ChangeResult
    return yield* commit(from, to, request, request.action ?? "set", request.force === true)
  })

  const modify = Effect.fn("ModeStore.modify")(function*(request: ModifyRequest) {
    for (let attempt = 0;; attempt++) {
      const from = yield* fresh
      const proposed = request.update(from)
      const decoded = yield* decodeRolloutDocument(proposed).pipe(
        Effect.mapError((error) => new ModeStoreError({ reason: { _tag: "InvalidDocument", message: error.message } }))
      )
      const to: RolloutDocument = { ...decoded, version: from.version + 1 }
      if (unchanged(from, to)) return { document: from, entry: undefined } satisfies ChangeResult
      const result = yield* Effect.result(commit(from, to, request, request.action ?? "set", request.force === true))
      if (result._tag === "Success") return result.success
      const error = result.failure
      if (error._tag === "ModeStoreError" && error.reason._tag === "VersionConflict" && attempt < 4) continue
      return yield* Effect.fail(error)
    }
  })

  const audit = Effect.fn("ModeStore.audit")(function*(request: RecordRequest) {
    const current = local.current
    const at = yield* now
    const outcome: AuditOutcome = request.outcome
    return yield* record(
      makeAuditEntry({ from: current, to: current, meta: request, action: request.action, outcome, forced: false, at })
    )
  })

  const history = (limit?: number) => backend.history(Math.max(0, Math.min(limit ?? 100, 1_000)))

  const service: ModeStoreService = {
    current: () => local.current,
    get: Effect.sync(() => local.current),
    set,
    modify,
    audit,
    changes: Stream.fromPubSub(local.pubsub),
    history,
    refresh
  }
  return service
})
