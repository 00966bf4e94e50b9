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
import { Effect, Metric, Stream } from "effect"
import {
  type AuditAction,
  type AuditEntry,
  type AuditOutcome,
  type ChangeMeta,
  logAuditEntry,
  makeAuditEntry
} from "../AuditLog.ts"
import { auditTextProblem, hasUnsafeAuditCharacter } from "../AuditText.ts"
import { BackfillStatus } from "../BackfillStatus.ts"
import { decodeRolloutDocument, type RolloutDocument } from "../Config.ts"
import { checkFinalisation, enforcesReads } from "../FinalisationGuard.ts"
import { ModeStoreError } from "../ModeStoreError.ts"
import type { ChangeResult, ModeStoreService, ModifyRequest, RecordRequest, SetRequest } from "../ModeStoreService.ts"
import { modeChangesTotal, modeDocumentsRejectedTotal, modeFetchFailuresTotal } from "../../observability/metrics.ts"
import type { Backend } from "./backend.ts"
import { continueLineage, expectedOf, makeLineage, newLineageId } from "./lineage.ts"
import { type LocalState, markSynced, recordGauges } from "./localState.ts"
import { now } from "../../shared/WallClock.ts"

const conflict = (expected: number, actual: number) =>
  new ModeStoreError({ reason: { _tag: "VersionConflict", expected, actual } })

// `seeded` only marks a boot seed nobody changed: a change that changes nothing else keeps it
const sameContent = (a: RolloutDocument, b: RolloutDocument): boolean =>
  JSON.stringify({ ...a, version: 0, seeded: undefined }) === JSON.stringify({ ...b, version: 0, seeded: undefined })

// Audited text is text: a change whose actor or reason holds control or invisible characters is
// refused before anything is read or written (the HTTP and CLI entry points refuse it earlier,
// with their own 400 / exit 2, and bound its length; this is the library caller's typed error).
// Text the library composes itself (gate notes, alert reasons) is escaped where it is composed.
const refuseUnsafeText = (meta: { readonly actor: string; readonly reason: string }) => {
  for (const field of ["actor", "reason"] as const) {
    if (hasUnsafeAuditCharacter(meta[field])) {
      const message = auditTextProblem(field, meta[field]) ?? `${field} must not contain control characters`
      return Effect.fail(new ModeStoreError({ reason: { _tag: "InvalidDocument", message } }))
    }
  }
  return Effect.void
}

/**
 * Builds the service from a local state and a backend. Logs one structured warning when the boot
 * document already enforces reads while the backfill is not verified (the boot state is applied as
 * given; the guard protects changes).
 *
 * @internal
 */
export const makeCore = Effect.fnUntraced(function*(
  local: LocalState,
  backend: Backend,
  lineage: ReturnType<typeof makeLineage> = makeLineage(local, backend, { seedIfEmpty: false })
) {
  const backfill = yield* BackfillStatus
  const withBackfill = <A, E>(effect: Effect.Effect<A, E, BackfillStatus>) =>
    Effect.provideService(effect, BackfillStatus, backfill)

  yield* recordGauges(local)
  yield* Metric.value(modeFetchFailuresTotal) // present (at 0) in /metrics from boot
  yield* Metric.value(modeDocumentsRejectedTotal)
  if (!local.isSynced && local.policy === "cautious") {
    const capped = !sameContent(local.current, local.served)
    // every Redis-backed start passes through this state: information, not a warning (a store
    // that does not answer is warned about by the refresh, `mode_fetch_failed`)
    yield* Effect.logInfo({
      event: "stage_validation.unsynced_cautious",
      message: capped
        ? "the shared rollout document has not been read yet: the boot document is served capped at warn " +
          "(nothing is enforced, real or shadow) and the instance is not ready until the store answers"
        : "the shared rollout document has not been read yet: the instance is not ready until the store answers",
      bootMode: local.current.defaultMode,
      servedMode: local.served.defaultMode,
      bootEnforceWriteOnly: local.current.enforceWriteOnly,
      bootDryRun: local.current.dryRun,
      version: local.current.version
    }).pipe(Effect.annotateLogs({ event: "stage_validation.unsynced_cautious" }))
  }
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
    const replacing = placeholders.get(from)
    const entry = makeAuditEntry({ from, to, meta, action, outcome: "applied", forced: force || guard.forced, at, replaced: replacing })
    const result = yield* backend.compareAndSet(expectedOf(from), from.version, to, entry, replacing)
    if (!result.ok) {
      if (result.current !== undefined) yield* lineage.observe(result.current)
      return yield* conflict(from.version, result.current?.version ?? -1)
    }
    local.accept(to) // no-op when the backend already did
    yield* markSynced(local) // what we wrote is the agreed document
    yield* recordGauges(local)
    yield* Metric.update(Metric.withAttributes(modeChangesTotal, { source: meta.source }), 1)
    yield* logAuditEntry(entry)
    return { document: to, entry } satisfies ChangeResult
  })

  /**
   * Reads the shared document now and adopts it when newer; the local value when nothing is
   * stored. A stored document that does not decode is rejected whole (`InvalidDocument`).
   */
  const refresh = Effect.flatMap(backend.load, (loaded) => {
    switch (loaded._tag) {
      case "Missing":
        return Effect.succeed(local.current)
      case "Valid":
        return lineage.observe(loaded.document)
      case "Rejected":
        return Effect.fail(loaded.error)
    }
  })

  // Stand-ins for a rejected stored document, with the stored value they replace: a change from
  // one always writes, even when its content equals the local document, and its compare-and-set
  // matches exactly that stored value.
  const placeholders = new WeakMap<RolloutDocument, string>()
  const unchanged = (from: RolloutDocument, to: RolloutDocument): boolean =>
    !placeholders.has(from) && sameContent(from, to)

  /**
   * The document a change starts from. Like `refresh`, except that a rejected stored document
   * does not block the change: the change continues from the last agreed version (this
   * instance's, or the newest the shared audit history records as applied, whichever is higher —
   * never the rejected document's own `version`) and replaces exactly the rejected value, so an
   * operator can repair it with the version they know; it is never served.
   */
  const fresh = Effect.flatMap(backend.load, (loaded) => {
    switch (loaded._tag) {
      case "Missing":
        // a change into an empty store: the document this instance agreed on continues its lineage;
        // a boot document starts a new one
        return Effect.succeed(local.agreed ? local.current : { ...local.current, lineage: newLineageId() })
      case "Valid":
        return lineage.observe(loaded.document)
      case "Rejected": {
        const version = Math.max(local.current.version, loaded.agreedVersion ?? 0)
        const from: RolloutDocument = { ...local.current, version }
        placeholders.set(from, loaded.raw)
        return Effect.as(
          Effect.logWarning({
            event: "stage_validation.stored_document_invalid",
            message: "the shared rollout document was rejected; this change replaces it",
            error: loaded.error.message,
            continuesFromVersion: version
          }),
          from
        )
      }
    }
  })

  const set = Effect.fn("ModeStore.set")(function*(request: SetRequest) {
    yield* refuseUnsafeText(request)
    const decoded = yield* decodeRolloutDocument(request.document).pipe(
      Effect.mapError((error) => new ModeStoreError({ reason: { _tag: "InvalidDocument", message: error.message } }))
    )
    const from = yield* fresh
    if (from.version !== request.expectedVersion) return yield* conflict(request.expectedVersion, from.version)
    const to = continueLineage(from, decoded, from.version + 1)
    if (unchanged(from, to)) return { document: from, entry: undefined } satisfies ChangeResult
    return yield* commit(from, to, request, request.action ?? "set", request.force === true)
  })

  const modify = Effect.fn("ModeStore.modify")(function*(request: ModifyRequest) {
    yield* refuseUnsafeText(request)
    for (let attempt = 0;; attempt++) {
      const from = yield* fresh
      const proposed = request.update(from)
      const decoded = yield* decodeRolloutDocument(proposed).pipe(
        Effect.mapError((error) => new ModeStoreError({ reason: { _tag: "InvalidDocument", message: error.message } }))
      )
      const to = continueLineage(from, decoded, from.version + 1)
      if (unchanged(from, to)) return { document: from, entry: undefined } satisfies ChangeResult
      const result = yield* Effect.result(commit(from, to, request, request.action ?? "set", request.force === true))
      if (result._tag === "Success") return result.success
      const error = result.failure
      if (error._tag === "ModeStoreError" && error.reason._tag === "VersionConflict" && attempt < 4) continue
      return yield* Effect.fail(error)
    }
  })

  const audit = Effect.fn("ModeStore.audit")(function*(request: RecordRequest) {
    yield* refuseUnsafeText(request)
    const current = local.current
    const at = yield* now
    const outcome: AuditOutcome = request.outcome
    return yield* record(
      makeAuditEntry({ from: current, to: current, meta: request, action: request.action, outcome, forced: false, at })
    )
  })

  const history = (limit?: number) => backend.history(Math.max(0, Math.min(limit ?? 100, 1_000)))

  const service: ModeStoreService = {
    current: () => local.served,
    get: Effect.sync(() => local.served),
    set,
    modify,
    audit,
    changes: Stream.fromPubSub(local.pubsub),
    history,
    refresh,
    sync: () => local.sync
  }
  return service
})
