/**
 * Offender logs (seed 004): who keeps sending unknown stage values, without putting anything
 * high-cardinality into a metric label. One structured JSON line per sampled request:
 *
 * ```json
 * {"level":"warn","msg":"stage_validation_unknown","ts":"2026-01-19T10:00:00.000Z",
 *  "endpoint":"/api/monte-carlo/simulate","mode":"warn","unknownStages":["invalid"],
 *  "unknownCount":1,"uaHash":"5d41402abc4b","requestId":"req-42"}
 * ```
 *
 * - `uaHash` is the first 12 hex digits of SHA-256 of the user agent (the raw agent is never
 *   logged);
 * - `unknownStages` holds at most {@link MAX_LOGGED_STAGES} values of at most
 *   {@link MAX_LOGGED_STAGE_LENGTH} characters each (`unknownCount` has the full count);
 * - the line is `JSON.stringify` output, so a stage string with CR/LF cannot split it;
 * - sampling is decided by the caller from the request id with its own salt (the rollout's
 *   `isSampledForLogs`), independent of the enforcement bucket.
 *
 * The sink is pluggable (`OffenderLogSink`); the default writes to standard error.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"

/**
 * Most unknown values in one line.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_LOGGED_STAGES = 10

/**
 * Longest logged unknown value (characters; longer ones are cut and end with `…`).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_LOGGED_STAGE_LENGTH = 64

/**
 * One offender log record.
 *
 * @since 0.1.0
 * @category models
 */
export interface OffenderLogLine {
  readonly level: "warn"
  readonly msg: "stage_validation_unknown"
  readonly ts: string
  readonly endpoint: string
  readonly mode: string
  readonly unknownStages: ReadonlyArray<string>
  readonly unknownCount: number
  readonly uaHash: string
  readonly requestId: string
}

/**
 * Where offender lines go: a function taking the record and its serialised JSON line (without
 * the trailing newline).
 *
 * @since 0.1.0
 * @category models
 */
export type OffenderLogSink = (line: OffenderLogLine, json: string) => void

/**
 * The default sink: the JSON line on standard error.
 *
 * @example
 * ```ts
 * import { stderrOffenderLogSink } from "stage-normalization/observability"
 * typeof stderrOffenderLogSink // => "function"
 * ```
 * @since 0.1.0
 * @category sinks
 */
export const stderrOffenderLogSink: OffenderLogSink = (_line, json) => {
  process.stderr.write(json + "\n")
}

/**
 * First 12 hex digits of SHA-256 of the user agent (an empty agent hashes the empty string).
 *
 * @example
 * ```ts
 * import { uaHash } from "stage-normalization/observability"
 * uaHash("curl/8.5.0").length // => 12
 * uaHash(undefined) === uaHash("") // => true
 * ```
 * @since 0.1.0
 * @category hashing
 */
export const uaHash = (userAgent: string | undefined): string =>
  createHash("sha256").update(userAgent ?? "", "utf8").digest("hex").slice(0, 12)

const cut = (s: string): string =>
  s.length > MAX_LOGGED_STAGE_LENGTH ? s.slice(0, MAX_LOGGED_STAGE_LENGTH) + "…" : s

/**
 * Builds the record for one request.
 *
 * @example
 * ```ts
 * import { makeOffenderLogLine } from "stage-normalization/observability"
 * const line = makeOffenderLogLine({
 *   endpoint: "/api/monte-carlo/simulate", mode: "warn", unknownStages: ["invalid"],
 *   userAgent: "curl/8.5.0", requestId: "req-42", now: new Date(0)
 * })
 * line.unknownStages // => ["invalid"]
 * line.ts            // => "1970-01-01T00:00:00.000Z"
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const makeOffenderLogLine = (input: {
  readonly endpoint: string
  readonly mode: string
  readonly unknownStages: ReadonlyArray<string>
  readonly userAgent: string | undefined
  readonly requestId: string
  readonly now?: Date | undefined
}): OffenderLogLine => ({
  level: "warn",
  msg: "stage_validation_unknown",
  ts: (input.now ?? new Date()).toISOString(),
  endpoint: input.endpoint,
  mode: input.mode,
  unknownStages: input.unknownStages.slice(0, MAX_LOGGED_STAGES).map(cut),
  unknownCount: input.unknownStages.length,
  uaHash: uaHash(input.userAgent),
  requestId: input.requestId
})

/**
 * Builds the record and hands it, serialised as one JSON line, to the sink. Never throws: a
 * failing sink is ignored (logging must not fail a request).
 *
 * @example
 * ```ts
 * import { logOffender } from "stage-normalization/observability"
 * const lines: Array<string> = []
 * logOffender((_, json) => lines.push(json), {
 *   endpoint: "/api/allocations", mode: "enforce", unknownStages: ["seed\r\nx"],
 *   userAgent: undefined, requestId: "r1"
 * })
 * lines[0]!.includes("\n") // => false
 * ```
 * @since 0.1.0
 * @category logging
 */
export const logOffender = (
  sink: OffenderLogSink,
  input: Parameters<typeof makeOffenderLogLine>[0]
): void => {
  try {
    const line = makeOffenderLogLine(input)
    sink(line, JSON.stringify(line))
  } catch {
    // a broken sink must not turn into a failed request
  }
}
