/**
 * The in-process state every `ModeStore` implementation shares: the last agreed (or boot)
 * document, whether the shared document has been read yet, and what decisions are served from
 * meanwhile (the cautious view), with the gauges that report it.
 *
 * @internal
 */
import { Effect, Metric, PubSub } from "effect"
import { MODES, type RolloutDocument } from "../Config.ts"
import type { ModeStoreSync, UnsyncedPolicy } from "../ModeStoreService.ts"
import { enforcementPercentGauge, modeStoreSyncedGauge, validationModeGauge } from "../../observability/metrics.ts"

const soften = (mode: RolloutDocument["defaultMode"]) => (mode === "enforce" ? "warn" : mode)

/**
 * The boot document as an unsynced, cautious instance serves it: nothing enforces, real or shadow
 * (every `enforce` becomes `warn`, `enforceWriteOnly` and `dryRun` are off). Same version.
 *
 * @internal
 */
export const cautiousDocument = (doc: RolloutDocument): RolloutDocument => {
  const endpointMode: Record<string, RolloutDocument["defaultMode"]> = {}
  for (const [template, mode] of Object.entries(doc.endpointMode)) endpointMode[template] = soften(mode)
  return { ...doc, defaultMode: soften(doc.defaultMode), endpointMode, enforceWriteOnly: false, dryRun: false }
}

/** @internal */
export interface LocalStateOptions {
  /** false: the shared document has not been read yet (a Redis store at boot) */
  readonly synced: boolean
  readonly policy: UnsyncedPolicy
}

/**
 * The in-process value. `accept` only moves forward in version, so a stale refresh racing a
 * newer pub/sub message can never roll the value back. `current` is the last agreed (or boot)
 * document; `served` is what decisions use — `current`, or while unsynced under the cautious
 * policy, `current` capped at warn.
 *
 * @internal
 */
export class LocalState {
  private value: RolloutDocument
  private view: RolloutDocument
  private synced: boolean
  private why: string | undefined
  private fromStore: boolean
  readonly policy: UnsyncedPolicy
  readonly pubsub: PubSub.PubSub<RolloutDocument>

  constructor(initial: RolloutDocument, pubsub: PubSub.PubSub<RolloutDocument>, options: LocalStateOptions) {
    this.value = initial
    this.synced = options.synced
    this.fromStore = options.synced
    this.policy = options.policy
    this.why = options.synced ? undefined : "the shared rollout document has not been read yet"
    this.view = this.viewOf(initial)
    this.pubsub = pubsub
    PubSub.publishUnsafe(pubsub, initial)
  }

  private viewOf(doc: RolloutDocument): RolloutDocument {
    return this.synced || this.policy === "boot-document" ? doc : cautiousDocument(doc)
  }

  get current(): RolloutDocument {
    return this.value
  }

  get served(): RolloutDocument {
    return this.view
  }

  get isSynced(): boolean {
    return this.synced
  }

  get sync(): ModeStoreSync {
    return { synced: this.synced, policy: this.policy, reason: this.synced ? undefined : this.why }
  }

  /** While unsynced: records why (the last read failure), for readiness. */
  notSynced(reason: string): void {
    if (!this.synced) this.why = reason
  }

  /**
   * Whether `current` is a document the shared store held (read, written or restored), as opposed
   * to the boot document of an instance that has not read one yet.
   */
  get agreed(): boolean {
    return this.fromStore
  }

  /** Replaces the value when `doc` is newer; returns whether it did. */
  accept(doc: RolloutDocument): boolean {
    if (doc.version <= this.value.version) return false
    this.replace(doc)
    return true
  }

  /**
   * Replaces the value whatever its version: the shared store's document of another lineage (or
   * one the store went back to), which the store says is the truth.
   */
  replace(doc: RolloutDocument): void {
    this.fromStore = true
    if (doc === this.value) return
    this.value = doc
    this.view = this.viewOf(doc)
    PubSub.publishUnsafe(this.pubsub, doc)
  }

  /** Marks the shared document as read; returns whether this was the first time. */
  markSynced(): boolean {
    if (this.synced) return false
    this.synced = true
    this.why = undefined
    this.view = this.value
    return true
  }
}

/** @internal */
export const makeLocalState = (
  initial: RolloutDocument,
  options: LocalStateOptions = { synced: true, policy: "cautious" }
): Effect.Effect<LocalState> =>
  Effect.map(PubSub.unbounded<RolloutDocument>({ replay: 1 }), (pubsub) => new LocalState(initial, pubsub, options))

/**
 * Sets the `stage_validation_mode{mode}`, `stage_validation_enforcement_percent` and
 * `stage_validation_mode_store_synced` gauges from what this instance serves. @internal
 */
export const recordGauges = (local: LocalState): Effect.Effect<void> =>
  Effect.gen(function*() {
    const doc = local.served
    for (const mode of MODES) {
      yield* Metric.update(Metric.withAttributes(validationModeGauge, { mode }), doc.defaultMode === mode ? 1 : 0)
    }
    yield* Metric.update(enforcementPercentGauge, doc.enforcementPercent)
    yield* Metric.update(modeStoreSyncedGauge, local.isSynced ? 1 : 0)
  })

/**
 * Adopts a document read from the shared store: accepted when newer, and the instance counts as
 * synced from then on (logged once). Updates the gauges when anything changed. @internal
 */
export const acceptDocument = (local: LocalState, doc: RolloutDocument): Effect.Effect<boolean> =>
  Effect.suspend(() => {
    const accepted = local.accept(doc)
    return Effect.andThen(markSynced(local, accepted), Effect.succeed(accepted))
  })

/**
 * Marks the instance synced (the shared store answered; nothing stored, or a document adopted):
 * logs the transition once and updates the gauges when anything changed. @internal
 */
export const markSynced = (local: LocalState, changed = false): Effect.Effect<void> =>
  Effect.suspend(() => {
    const first = local.markSynced()
    const gauges = first || changed ? recordGauges(local) : Effect.void
    if (!first) return gauges
    return Effect.andThen(
      gauges,
      Effect.logInfo({
        event: "stage_validation.mode_store_synced",
        message: "read the shared rollout document; decisions follow it from now on",
        version: local.current.version,
        defaultMode: local.current.defaultMode
      }).pipe(Effect.annotateLogs({ event: "stage_validation.mode_store_synced" }))
    )
  })

