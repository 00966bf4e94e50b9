/**
 * The stored form of the rollout document in Redis: strict JSON decoding (a document that fails
 * it is rejected whole, content and version), the counting and logging of rejections, and what a
 * repair of a rejected document continues from.
 *
 * @internal
 */
import { Effect, Metric, Schema } from "effect"
import { type RolloutDocument, StageValidationConfig } from "../Config.ts"
import { ModeStoreError } from "../ModeStoreError.ts"
import { modeDocumentsRejectedTotal } from "../../observability/metrics.ts"

const DocumentJson = Schema.fromJsonString(StageValidationConfig)
const decodeDocumentJsonResult = Schema.decodeUnknownResult(DocumentJson)
/** Strict, like every other untrusted document: an unknown key rejects the whole document. @internal */
export const decodeDocumentJson = (json: string) => decodeDocumentJsonResult(json, { onExcessProperty: "error", errors: "all" })
const encodeDocumentJson = Schema.encodeSync(DocumentJson)

/**
 * Decodes a stored (or published) document strictly: unknown keys, out-of-range values or a
 * broken cross-field rule reject it whole. @internal
 */
export const decodeDocument = (json: string): Effect.Effect<RolloutDocument, ModeStoreError> => {
  const result = decodeDocumentJson(json)
  if (result._tag === "Success") return Effect.succeed(result.success)
  return Effect.fail(rejectedError(json, result.failure.message))
}

/** @internal */
export const rejectedError = (json: string, message: string): ModeStoreError => {
  const storedVersion = storedVersionOf(json)
  return new ModeStoreError({
    reason: {
      _tag: "InvalidDocument",
      message: `stored document: ${message}`,
      ...(storedVersion !== undefined ? { storedVersion } : {})
    }
  })
}

/**
 * Counts and logs rejected documents, once per distinct stored value in a row (a poisoned
 * document sitting in Redis is one rejection, not one per refresh). @internal
 */
export const makeRejections = (channel: string) => {
  let last: string | undefined
  return {
    /** A document that decoded: the next rejected one is counted again, even if seen before. */
    accepted: (): void => {
      last = undefined
    },
    rejected: (raw: string, error: ModeStoreError, via: "read" | "publish"): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (raw === last) return Effect.void
        last = raw
        return Effect.andThen(
          Metric.update(modeDocumentsRejectedTotal, 1),
          Effect.logWarning({
            event: "stage_validation.mode_document_rejected",
            message: "a shared rollout document failed decoding and was rejected whole (content and version); " +
              "serving the last agreed document",
            via,
            channel,
            error: error.message,
            claimedVersion: error.reason._tag === "InvalidDocument" ? error.reason.storedVersion ?? null : null,
            bytes: raw.length
          }).pipe(Effect.annotateLogs({ event: "stage_validation.mode_document_rejected" }))
        )
      })
  }
}

/**
 * The newest version the audit history records as applied (an entry is `{ version, outcome, … }`).
 *
 * @internal
 */
export const agreedVersionOf = (lines: ReadonlyArray<string>): number | undefined => {
  let agreed: number | undefined
  for (const line of lines) {
    try {
      const entry: unknown = JSON.parse(line)
      if (
        typeof entry === "object" && entry !== null && "outcome" in entry && entry.outcome === "applied" &&
        "version" in entry && typeof entry.version === "number" && Number.isSafeInteger(entry.version) &&
        (agreed === undefined || entry.version > agreed)
      ) agreed = entry.version
    } catch {
      // an unreadable history line says nothing
    }
  }
  return agreed
}

// The version the CAS script sees in an otherwise invalid document (it reads `version` only).
const storedVersionOf = (json: string): number | undefined => {
  try {
    const parsed: unknown = JSON.parse(json)
    if (typeof parsed === "object" && parsed !== null && "version" in parsed && typeof parsed.version === "number") {
      return parsed.version
    }
  } catch {
    // not JSON at all: the script treats it as missing
  }
  return undefined
}

/** @internal */
export const encodeDocument = (doc: RolloutDocument): string => encodeDocumentJson(doc)
