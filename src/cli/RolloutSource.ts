/**
 * Where `mode` and `status` read and change the rollout document: the shared store itself (Redis,
 * {@link RolloutSource} `via: "redis"`) or a running service's mode API (`via: "api"`). Both
 * answer in the mode API's shapes — the encoded document with its version, audit entries — and
 * refuse a change with the same messages: the store's own (`ModeStoreError`,
 * `BackfillNotVerifiedError`), which the mode API passes on.
 *
 * Exit codes of a refusal: a version conflict or an invalid document exits 2 (bad input: re-read
 * and retry, or fix the value), the finalisation guard and an unavailable store exit 1.
 *
 * @since 0.2.0
 */
import type { Effect } from "effect"
import type { AuditEntry } from "../rollout/AuditLog.ts"
import { auditTextProblem } from "../rollout/AuditText.ts"
import { CliExitCode, CliInputError } from "./CliInputError.ts"

/**
 * The rollout document as the mode API shows it: encoded (JSON values), with its version.
 *
 * @since 0.2.0
 * @category models
 */
export interface RolloutView {
  readonly version: number
  readonly document: Readonly<Record<string, unknown>>
}

/**
 * A change: the keys to write, computed from the document read just before (so a record field
 * such as `endpointMode` is written whole), and the compare-and-set version — the one the caller
 * saw (`--expect-version`), else the one just read.
 *
 * @since 0.2.0
 * @category models
 */
export interface ChangeRequest {
  readonly patch: (current: RolloutView) => Readonly<Record<string, unknown>>
  readonly expectedVersion: number | undefined
  readonly actor: string
  readonly reason: string
  readonly force: boolean
}

/**
 * What a change did: the document before and after, and whether anything changed (the same
 * content again changes nothing and is not audited).
 *
 * @since 0.2.0
 * @category models
 */
export interface ChangeOutcome {
  readonly before: RolloutView
  readonly after: RolloutView
  readonly changed: boolean
}

/**
 * The failure of a source: bad input (exit 2) or a negative answer (exit 1), already worded.
 *
 * @since 0.2.0
 * @category errors
 */
export type SourceError = CliInputError | CliExitCode

/**
 * The message of a {@link SourceError}.
 *
 * @example
 * ```ts
 * import { CliInputError } from "./CliInputError.ts" // internal: not part of the package's API
 * import { sourceErrorMessage } from "./RolloutSource.ts" // internal: not part of the package's API
 * sourceErrorMessage(new CliInputError({ message: "no such prefix" })) // => "no such prefix"
 * ```
 * @since 0.2.0
 * @category errors
 */
export const sourceErrorMessage = (error: SourceError): string =>
  error._tag === "CliInputError" ? error.message : error.reason

/**
 * A rollout document source.
 *
 * @since 0.2.0
 * @category models
 */
export interface RolloutSource {
  readonly via: "redis" | "api"
  /** Where it reads, for reports: `redis://host:6379 (prefix stage-validation)` or the service URL. */
  readonly label: string
  readonly read: Effect.Effect<RolloutView, SourceError>
  /** Up to `limit` audit entries, newest first. */
  readonly history: (limit: number) => Effect.Effect<ReadonlyArray<AuditEntry>, SourceError>
  readonly change: (request: ChangeRequest) => Effect.Effect<ChangeOutcome, SourceError>
}

/**
 * Why the store (or the mode API, on its behalf) refused a change.
 *
 * @since 0.2.0
 * @category models
 */
export type Refusal =
  | { readonly _tag: "VersionConflict"; readonly message: string; readonly actual: number | undefined }
  | { readonly _tag: "InvalidDocument"; readonly message: string }
  | { readonly _tag: "BackfillNotVerified"; readonly message: string }
  | { readonly _tag: "Unavailable"; readonly message: string }

/**
 * A refusal as the CLI reports it: the store's message, a hint, the exit code.
 *
 * @example
 * ```ts
 * import { refusalError } from "./RolloutSource.ts" // internal: not part of the package's API
 * refusalError({ _tag: "VersionConflict", message: "rollout document version conflict: expected 3, found 4", actual: 4 }).message
 * // => "rollout document version conflict: expected 3, found 4 — it changed since it was read: re-read it (mode get) and retry (--expect-version 4)"
 * ```
 * @since 0.2.0
 * @category errors
 */
export const refusalError = (refusal: Refusal): SourceError => {
  switch (refusal._tag) {
    case "VersionConflict":
      return new CliInputError({
        message: `${refusal.message} — it changed since it was read: re-read it (mode get) and retry` +
          (refusal.actual !== undefined ? ` (--expect-version ${refusal.actual})` : "")
      })
    case "InvalidDocument":
      return new CliInputError({ message: refusal.message })
    case "BackfillNotVerified":
      return new CliExitCode({ code: 1, reason: `refused: ${refusal.message} With --force the change goes through, audited as forced.` })
    case "Unavailable":
      return new CliExitCode({ code: 1, reason: refusal.message })
  }
}

/**
 * The audit history's rule for `actor` and `reason` (`auditTextProblem`, as the mode API applies
 * it): 1–500 characters, not blank, no control or invisible format characters. `undefined` when
 * the value passes, else what is wrong with it, naming the flag.
 *
 * @example
 * ```ts
 * import { checkChangeText } from "./RolloutSource.ts" // internal: not part of the package's API
 * checkChangeText("--actor", "  ") // => "--actor must be 1–500 characters and not blank"
 * checkChangeText("--reason", "ramp") // => undefined
 * checkChangeText("--reason", "ok\nforged") // => "--reason must not contain control characters (found \\u000a at position 3)"
 * ```
 * @since 0.2.0
 * @category checks
 */
export const checkChangeText = (flag: string, value: string): string | undefined => auditTextProblem(flag, value)
