/**
 * The error of `ModeStore` operations, with a typed reason: a lost compare-and-set race
 * (`VersionConflict`), a rejected document (`InvalidDocument`), or a shared store that could not be
 * reached in time (`Unavailable`; reads never fail this way, they keep serving the last value).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * The shared document's version was not the expected one: someone else changed it first.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { VersionConflict } from "stage-normalization/rollout"
 * Schema.is(VersionConflict)({ _tag: "VersionConflict", expected: 3, actual: 4 }) // => true
 * ```
 * @since 0.1.0
 * @category errors
 */
export const VersionConflict = Schema.TaggedStruct("VersionConflict", {
  expected: Schema.Number,
  actual: Schema.Number
})

/**
 * The submitted (or stored) document does not decode (unknown key, out-of-range percentage, …).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { InvalidDocument } from "stage-normalization/rollout"
 * Schema.is(InvalidDocument)({ _tag: "InvalidDocument", message: "bad" }) // => true
 * ```
 * @since 0.1.0
 * @category errors
 */
export const InvalidDocument = Schema.TaggedStruct("InvalidDocument", {
  message: Schema.String,
  /** for an unreadable stored document: its `version` field, when it has a numeric one */
  storedVersion: Schema.optional(Schema.Number)
})

/**
 * The shared store did not answer (not connected, timed out, command failed). For a write that
 * timed out the outcome is unknown; retrying with the same expected version is safe, because the
 * compare-and-set then reports a `VersionConflict` if the first attempt landed.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Unavailable } from "stage-normalization/rollout"
 * Schema.is(Unavailable)({ _tag: "Unavailable", message: "timeout" }) // => true
 * ```
 * @since 0.1.0
 * @category errors
 */
export const Unavailable = Schema.TaggedStruct("Unavailable", { message: Schema.String })

/**
 * The failure of a `ModeStore` operation.
 *
 * @example
 * ```ts
 * import { ModeStoreError } from "stage-normalization/rollout"
 * const e = new ModeStoreError({ reason: { _tag: "VersionConflict", expected: 1, actual: 2 } })
 * e.message // => "rollout document version conflict: expected 1, found 2"
 * ```
 * @since 0.1.0
 * @category errors
 */
export class ModeStoreError extends Schema.TaggedError<ModeStoreError>("stage-normalization/rollout/ModeStoreError")(
  "ModeStoreError",
  {
    reason: Schema.Union([VersionConflict, InvalidDocument, Unavailable]),
    cause: Schema.optional(Schema.Defect())
  }
) {
  override get message(): string {
    const reason = this.reason
    switch (reason._tag) {
      case "VersionConflict":
        return `rollout document version conflict: expected ${reason.expected}, found ${reason.actual}`
      case "InvalidDocument":
        return `invalid rollout document: ${reason.message}`
      case "Unavailable":
        return `rollout store unavailable: ${reason.message}`
    }
  }

  /** Whether retrying (after re-reading the document for a conflict) may succeed. */
  get isRetryable(): boolean {
    return this.reason._tag !== "InvalidDocument"
  }
}
