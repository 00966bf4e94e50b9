/**
 * The lineage of the shared rollout document: what an instance does when the store's document is
 * not a newer version of its own — the store was lost (Redis restarted without persistence, failed
 * over to an empty or stale replica) and re-created.
 *
 * Every document carries the `lineage` id created when an empty store was seeded (absent: the
 * legacy lineage of documents written before lineages existed); a boot seed is marked
 * `seeded: "boot"` until someone changes it. An instance that holds an agreed document and sees
 * the store hold another lineage, or an older version of its own, reads the store again and then
 *
 * - **restores** its document into the store when the store holds only an untouched boot seed (or
 *   nothing at all), or an untouched restore of an older version of the same lineage: the newest
 *   agreed document wins over a boot default (a restored document is marked `seeded: "restore"`);
 * - otherwise **adopts** the store's document, whatever its version: the store is the truth.
 *
 * Both are counted in `stage_validation_mode_lineage_changes_total{outcome}`, logged
 * (`stage_validation.mode_lineage_changed`) and audited (`restore` / `adopt`, actor `mode-store`).
 *
 * @internal
 */
import { Effect, Metric, Semaphore } from "effect"
import { type AuditAction, type AuditEntry, logAuditEntry, makeAuditEntry } from "../AuditLog.ts"
import type { RolloutDocument } from "../Config.ts"
import { modeLineageChangesTotal } from "../../observability/metrics.ts"
import { now } from "../../shared/WallClock.ts"
import type { Backend, Expected } from "./backend.ts"
import { acceptDocument, type LocalState, markSynced, recordGauges } from "./localState.ts"

/** The lineage of a document; `""` for the legacy lineage (no `lineage` key). @internal */
export const lineageOf = (doc: RolloutDocument): string => doc.lineage ?? ""

/** @internal */
export const expectedOf = (doc: RolloutDocument): Expected => ({ version: doc.version, lineage: lineageOf(doc) })

/** A fresh lineage id. @internal */
export const newLineageId = (): string => globalThis.crypto.randomUUID()

/** A change's next document keeps the lineage it continues and is no longer an untouched seed. @internal */
export const continueLineage = (from: RolloutDocument, to: RolloutDocument, version: number): RolloutDocument => {
  const { lineage: _lineage, seeded: _seeded, ...rest } = to
  return from.lineage === undefined ? { ...rest, version } : { ...rest, version, lineage: from.lineage }
}

const sameBut = (a: RolloutDocument, b: RolloutDocument): boolean =>
  JSON.stringify({ ...a, seeded: undefined }) === JSON.stringify({ ...b, seeded: undefined })

const STORE_META = { actor: "mode-store", source: "env" } as const

/**
 * The lineage protocol over one local state and one backend. `observe` takes every valid document
 * the store shows (a read, a published change, a lost compare-and-set) and returns the document
 * this instance holds afterwards; `onMissing` handles an empty store (restore or boot seed).
 *
 * @internal
 */
export const makeLineage = (local: LocalState, backend: Backend, options: { readonly seedIfEmpty: boolean }) => {
  const lock = Semaphore.makeUnsafe(1)

  const announce = Effect.fnUntraced(function*(
    outcome: "adopted" | "restored" | "seeded",
    entry: AuditEntry,
    store: RolloutDocument | null,
    held: RolloutDocument
  ) {
    if (outcome !== "seeded") {
      yield* Effect.logWarning({
        event: "stage_validation.mode_lineage_changed",
        message: outcome === "adopted"
          ? "the shared rollout document is not a newer version of this instance's: the store was lost and " +
            "re-created; adopted the store's document"
          : "the shared rollout document was lost (empty, or an untouched boot seed): restored this instance's " +
            "newest agreed document into the store",
        outcome,
        storeLineage: store === null ? null : lineageOf(store),
        storeVersion: store?.version ?? null,
        storeSeeded: store?.seeded ?? null,
        heldLineage: lineageOf(held),
        heldVersion: held.version,
        nowLineage: lineageOf(local.current),
        nowVersion: local.current.version,
        nowDefaultMode: local.current.defaultMode
      }).pipe(Effect.annotateLogs({ event: "stage_validation.mode_lineage_changed" }))
    }
    yield* logAuditEntry(entry)
  })

  const entryOf = Effect.fnUntraced(function*(
    from: RolloutDocument | null,
    to: RolloutDocument,
    action: AuditAction,
    reason: string
  ) {
    const at = yield* now
    const meta = { ...STORE_META, actor: action === "seed" ? "boot" : STORE_META.actor, reason }
    return makeAuditEntry({ from, to, meta, action, outcome: "applied", forced: false, at })
  })

  /** Writes `held` back into a store that holds `store` (an untouched boot seed) or nothing. */
  const restore = Effect.fnUntraced(function*(held: RolloutDocument, store: RolloutDocument | null) {
    const restored: RolloutDocument = held.seeded === undefined ? { ...held, seeded: "restore" } : held
    const entry = yield* entryOf(
      store,
      restored,
      "restore",
      store === null
        ? "the shared rollout document was lost: restore this instance's newest agreed document"
        : "the shared rollout document was lost and re-seeded from a boot configuration nobody changed: " +
          "restore this instance's newest agreed document"
    )
    // an empty store matches only when the expected version is the missing one (-1 never is stored)
    const expected = store === null ? { version: -1, lineage: lineageOf(held) } : expectedOf(store)
    const result = yield* Effect.result(backend.compareAndSet(expected, -1, restored, entry))
    // lost the race (another instance restored or someone changed it) or the store did not
    // answer: the winner's publish or the next read decides
    if (result._tag === "Failure" || !result.success.ok) return local.current
    yield* Metric.update(Metric.withAttributes(modeLineageChangesTotal, { outcome: "restored" }), 1)
    local.replace(restored)
    yield* markSynced(local, true)
    yield* announce("restored", entry, store, held)
    return local.current
  })

  const adopt = Effect.fnUntraced(function*(held: RolloutDocument, store: RolloutDocument) {
    const entry = yield* entryOf(
      held,
      store,
      "adopt",
      "the shared rollout document is of another lineage (or an older version of this one): the store was " +
        "lost and re-created; this instance adopts the store's document"
    )
    yield* Metric.update(Metric.withAttributes(modeLineageChangesTotal, { outcome: "adopted" }), 1)
    local.replace(store)
    yield* markSynced(local)
    yield* recordGauges(local)
    yield* backend.append(entry).pipe(Effect.ignore)
    yield* announce("adopted", entry, store, held)
    return local.current
  })

  /** The store's document, read again, against the one this instance holds (under the lock). */
  const reconcile = Effect.gen(function*() {
    const loaded = yield* Effect.result(backend.load)
    if (loaded._tag === "Failure" || loaded.success._tag !== "Valid") return local.current
    const store = loaded.success.document
    const held = local.current
    if (!local.agreed) {
      local.replace(store)
      yield* markSynced(local, true)
      return store
    }
    const sameLineage = lineageOf(store) === lineageOf(held)
    if (sameLineage && store.version > held.version) {
      yield* acceptDocument(local, store)
      return local.current
    }
    if (sameLineage && store.version === held.version) {
      // the same document, but for its mark (a restore of it): take the store's
      if (sameBut(store, held)) local.replace(store)
      else yield* adopt(held, store)
      return local.current
    }
    const overwritable = store.seeded === "boot" || (store.seeded === "restore" && sameLineage)
    if (overwritable && held.seeded !== "boot") return yield* restore(held, store)
    return yield* adopt(held, store)
  })

  // read after the effect ran, never when it is built
  const current = (): RolloutDocument => local.current

  const observe = (doc: RolloutDocument): Effect.Effect<RolloutDocument> =>
    Effect.suspend(() => {
      const held = local.current
      if (
        local.agreed && lineageOf(doc) === lineageOf(held) &&
        (doc.version > held.version || (doc.version === held.version && doc.seeded === held.seeded))
      ) {
        return Effect.map(acceptDocument(local, doc), current)
      }
      if (!local.agreed && doc.version > held.version) return Effect.map(acceptDocument(local, doc), current)
      return lock.withPermit(reconcile)
    })

  const seed = Effect.gen(function*() {
    const boot = local.current
    const next: RolloutDocument = { ...boot, version: boot.version + 1, lineage: newLineageId(), seeded: "boot" }
    const entry = yield* entryOf(null, next, "seed", "seed the empty shared rollout document from the boot configuration")
    const result = yield* backend.compareAndSet(expectedOf(boot), boot.version, next, entry)
    if (!result.ok) return result.current
    yield* acceptDocument(local, next)
    yield* announce("seeded", entry, null, boot)
    return undefined
  })

  /**
   * Nothing stored: an instance holding an agreed document restores it; a booting one seeds. A
   * seed that lost the race observes the winner's document (outside the lock, which is not re-entrant).
   */
  const onMissing: Effect.Effect<void, unknown> = Effect.flatMap(
    lock.withPermit(Effect.suspend((): Effect.Effect<RolloutDocument | undefined, unknown> => {
      if (!options.seedIfEmpty) return Effect.as(markSynced(local), undefined)
      return local.agreed ? Effect.as(restore(local.current, null), undefined) : seed
    })),
    (winner) => (winner === undefined ? Effect.void : Effect.asVoid(observe(winner)))
  )

  return { observe, onMissing }
}
