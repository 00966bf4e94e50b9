/**
 * The contract between the `ModeStore` core and where the shared document lives (memory, Redis):
 * a read that tells a missing, a valid and an unreadable document apart, an atomic
 * compare-and-set on the document's version and lineage, and the audit history.
 *
 * @internal
 */
import type { Effect } from "effect"
import type { AuditEntry } from "../AuditLog.ts"
import type { RolloutDocument } from "../Config.ts"
import type { ModeStoreError } from "../ModeStoreError.ts"

/** What a compare-and-set expects the stored document to be. @internal */
export interface Expected {
  readonly version: number
  /** `""`: the legacy lineage (a document without one) */
  readonly lineage: string
}

/** @internal */
export type CasResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly current: RolloutDocument | undefined }

/**
 * A read of the shared document: nothing stored, a document that decoded, or one that did not
 * (rejected whole: neither its content nor its version is ever adopted). `raw` is what was stored,
 * so that a repair compare-and-sets against exactly that value; `agreedVersion` is the newest
 * version the shared audit history records as applied (the version a repair continues from).
 *
 * @internal
 */
export type Loaded =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Valid"; readonly document: RolloutDocument }
  | {
    readonly _tag: "Rejected"
    readonly raw: string
    readonly error: ModeStoreError
    readonly agreedVersion: number | undefined
  }

/** @internal */
export interface Backend {
  /** A fresh read of the shared document. Fails only when the store cannot be read. */
  readonly load: Effect.Effect<Loaded, ModeStoreError>
  /**
   * Stores `next` and appends `entry` iff the shared document is `expected` (version and lineage;
   * missing counts as `missingVersion` of the expected lineage; so does the stored value
   * `replacing`, a rejected document being repaired).
   */
  readonly compareAndSet: (
    expected: Expected,
    missingVersion: number,
    next: RolloutDocument,
    entry: AuditEntry,
    replacing?: string | undefined
  ) => Effect.Effect<CasResult, ModeStoreError>
  readonly append: (entry: AuditEntry) => Effect.Effect<void, ModeStoreError>
  readonly history: (limit: number) => Effect.Effect<ReadonlyArray<AuditEntry>, ModeStoreError>
}
