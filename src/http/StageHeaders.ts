/**
 * The response headers of the stage boundary, built by plain synchronous code:
 *
 * | header | when |
 * |---|---|
 * | `X-Stage-Deprecated-Variants: late-stage,growth` | aliases were accepted (sanitised echo) |
 * | `Deprecation: @1761782400` (RFC 9745) | aliases were accepted |
 * | `Sunset: Tue, 30 Jun 2026 00:00:00 GMT` (RFC 8594) | aliases were accepted and a sunset is configured; never before `Deprecation` |
 * | `Link: <docs>; rel="deprecation"` (RFC 9745 §3) | aliases were accepted |
 * | `X-Stage-Would-Reject: true` | shadow mode and the input would have been rejected |
 * | `X-Stage-Recommendation` | any of the above, or invalid input (fixed ASCII text; for aliases, it names the sunset date only when `Sunset` is sent) |
 * | `X-Stage-Docs` | same as `X-Stage-Recommendation` |
 *
 * Nothing is emitted when the decision says `shouldEmitHeaders: false` (mode `off`) or when the
 * input was canonical and valid: a clean request gets clean headers. The per-document values
 * (dates, docs URL) are computed once per rollout document, and each distinct set of headers
 * once per document (a bounded cache), not per request.
 *
 * @since 0.1.0
 */
import { CANONICAL_STAGES } from "../normalizer/Stages.ts"
import { sanitizeHeaderList, sanitizeUrl } from "./HeaderValues.ts"
import { freezePrepared, NO_PREPARED, PreparedCache, type PreparedHeaders } from "./PreparedHeaders.ts"

/**
 * Header names, as sent (HTTP header names are case-insensitive; Node lower-cases them).
 *
 * @example
 * ```ts
 * import { STAGE_HEADERS } from "stage-normalization/http"
 * STAGE_HEADERS.wouldReject // => "X-Stage-Would-Reject"
 * ```
 * @since 0.1.0
 * @category constants
 */
export const STAGE_HEADERS = {
  deprecatedVariants: "X-Stage-Deprecated-Variants",
  wouldReject: "X-Stage-Would-Reject",
  recommendation: "X-Stage-Recommendation",
  docs: "X-Stage-Docs",
  deprecation: "Deprecation",
  sunset: "Sunset",
  link: "Link"
} as const

/**
 * The deprecation date used when the rollout document has none: the day the v3 rollout
 * deprecated the alias spellings (seed 000).
 *
 * @since 0.1.0
 * @category constants
 */
const DEFAULT_DEPRECATION_DATE = "2025-10-30T00:00:00Z"

/**
 * The fallback docs URL (used when the document's `docsUrl` is not a safe http(s) URL).
 *
 * @since 0.1.0
 * @category constants
 */
const FALLBACK_DOCS_URL = "https://www.npmjs.com/package/stage-normalization"

const STAGE_LIST = CANONICAL_STAGES.join(", ")

/**
 * The fixed texts of `X-Stage-Recommendation`. For accepted aliases, the text speaks of a sunset
 * date only when a `Sunset` header goes out with it (a sunset is configured): the headers of one
 * response never contradict each other.
 *
 * @since 0.1.0
 * @category constants
 */
const RECOMMENDATIONS = {
  wouldReject: "Fix these stages before enforcement begins. See X-Stage-Docs for migration guide.",
  rejected: `Send canonical stage values (${STAGE_LIST}). See X-Stage-Docs.`,
  invalid: `Unknown or invalid stage values will be rejected once enforcement begins. Use ${STAGE_LIST}.`,
  deprecatedSunset: `Deprecated stage spellings will stop being accepted at the sunset date. Use ${STAGE_LIST}.`,
  deprecated: `Deprecated stage spellings are still accepted but will be removed in a future release. Use ${STAGE_LIST}.`
} as const

/**
 * The slice of a rollout document the headers read.
 *
 * @since 0.1.0
 * @category models
 */
export interface HeaderSettings {
  readonly docsUrl?: string | undefined
  readonly deprecationDate?: string | undefined
  readonly sunsetDate?: string | undefined
}

/**
 * Precomputed per-document header values.
 *
 * @since 0.1.0
 * @category models
 */
interface HeaderConstants {
  readonly docs: string
  readonly link: string
  readonly deprecation: string
  readonly sunset: string | undefined
  /** Unix seconds of the deprecation. */
  readonly deprecationSeconds: number
  /** Unix seconds of the sunset, never before the deprecation; undefined when none. */
  readonly sunsetSeconds: number | undefined
  /** The recommendation for accepted aliases: names the sunset only when `sunset` is sent. */
  readonly deprecatedRecommendation: string
  /** the header blocks built under this document */
  readonly prepared: PreparedCache
}

const cache = new WeakMap<HeaderSettings, HeaderConstants>()
// The document of the previous call: the same object request after request until it changes.
let lastSettings: HeaderSettings | undefined
let lastConstants: HeaderConstants | undefined

const parseDate = (iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined
  const ms = Date.parse(iso)
  return Number.isFinite(ms) ? ms : undefined
}

/**
 * The per-document values (sanitised docs URL, RFC 9745 and RFC 8594 dates), memoised on the
 * document object.
 *
 * @example
 * ```ts
 * import { headerConstants } from "./StageHeaders.ts" // internal: not part of the package's API
 * const c = headerConstants({ deprecationDate: "2025-10-30", sunsetDate: "2026-06-30" })
 * c.deprecation // => "@1761782400"
 * c.sunset      // => "Tue, 30 Jun 2026 00:00:00 GMT"
 * ```
 * @since 0.1.0
 * @category headers
 */
export const headerConstants = (settings: HeaderSettings): HeaderConstants => {
  if (settings === lastSettings) return lastConstants!
  const cached = cache.get(settings)
  if (cached !== undefined) {
    lastSettings = settings
    lastConstants = cached
    return cached
  }
  const docs = sanitizeUrl(settings.docsUrl ?? FALLBACK_DOCS_URL, FALLBACK_DOCS_URL)
  const deprecationMs = parseDate(settings.deprecationDate) ?? Date.parse(DEFAULT_DEPRECATION_DATE)
  const deprecationSeconds = Math.floor(deprecationMs / 1000)
  const sunsetMs = parseDate(settings.sunsetDate)
  // Never earlier than Deprecation (RFC 9745 §3): clamp instead of sending a contradiction.
  const sunsetSeconds = sunsetMs === undefined ? undefined : Math.max(Math.floor(sunsetMs / 1000), deprecationSeconds)
  const constants: HeaderConstants = {
    docs,
    link: `<${docs}>; rel="deprecation"; type="text/html"`,
    deprecation: `@${deprecationSeconds}`,
    sunset: sunsetSeconds === undefined ? undefined : new Date(sunsetSeconds * 1000).toUTCString(),
    deprecationSeconds,
    sunsetSeconds,
    deprecatedRecommendation: sunsetSeconds === undefined ? RECOMMENDATIONS.deprecated : RECOMMENDATIONS.deprecatedSunset,
    prepared: new PreparedCache()
  }
  cache.set(settings, constants)
  lastSettings = settings
  lastConstants = constants
  return constants
}

/**
 * What the headers depend on for one request.
 *
 * @since 0.1.0
 * @category models
 */
export interface HeaderInput {
  readonly shouldEmitHeaders: boolean
  /** shadow mode flagged this request */
  readonly wouldReject: boolean
  /** the request is answered with a 400 */
  readonly rejected: boolean
  /** the input is invalid (unknown stage, bad weight, sum off 1, …) */
  readonly invalid: boolean
  /** accepted alias spellings, raw (they are sanitised here) */
  readonly deprecatedInputs: ReadonlyArray<string>
}

const FLAG_WOULD_REJECT = 1
const FLAG_REJECTED = 2
const FLAG_INVALID = 4

const buildPrepared = (flags: number, deprecatedInputs: ReadonlyArray<string>, c: HeaderConstants): PreparedHeaders => {
  const wouldReject = (flags & FLAG_WOULD_REJECT) !== 0
  const out: Array<readonly [string, string]> = []
  if (deprecatedInputs.length > 0) {
    out.push([STAGE_HEADERS.deprecatedVariants, sanitizeHeaderList(deprecatedInputs)])
    out.push([STAGE_HEADERS.deprecation, c.deprecation])
    if (c.sunset !== undefined) out.push([STAGE_HEADERS.sunset, c.sunset])
    out.push([STAGE_HEADERS.link, c.link])
  }
  if (wouldReject) out.push([STAGE_HEADERS.wouldReject, "true"])
  out.push([
    STAGE_HEADERS.recommendation,
    wouldReject
      ? RECOMMENDATIONS.wouldReject
      : (flags & FLAG_REJECTED) !== 0
      ? RECOMMENDATIONS.rejected
      : (flags & FLAG_INVALID) !== 0
      ? RECOMMENDATIONS.invalid
      : c.deprecatedRecommendation
  ])
  out.push([STAGE_HEADERS.docs, c.docs])
  return freezePrepared(out)
}

/**
 * The stage headers for one request, prepared ({@link PreparedHeaders}; empty when there is
 * nothing to say): looked up in the document's bounded cache ({@link PreparedCache}) by outcome
 * and deprecated inputs, built (sanitised) only on a miss.
 *
 * @example
 * ```ts
 * import { prepareStageHeaders } from "./StageHeaders.ts" // internal: not part of the package's API
 * const input = { shouldEmitHeaders: true, wouldReject: false, rejected: false, invalid: false, deprecatedInputs: ["Series A"] }
 * const doc = {}
 * prepareStageHeaders(input, doc) === prepareStageHeaders({ ...input, deprecatedInputs: ["Series A"] }, doc) // => true
 * prepareStageHeaders(input, doc).flat.slice(0, 2) // => ["X-Stage-Deprecated-Variants", "Series A"]
 * ```
 * @since 0.3.0
 * @category headers
 */
export const prepareStageHeaders = (input: HeaderInput, settings: HeaderSettings): PreparedHeaders => {
  if (!input.shouldEmitHeaders) return NO_PREPARED
  if (input.deprecatedInputs.length === 0 && !input.invalid) return NO_PREPARED
  const c = headerConstants(settings)
  const flags = (input.wouldReject ? FLAG_WOULD_REJECT : 0) | (input.rejected ? FLAG_REJECTED : 0) |
    (input.invalid ? FLAG_INVALID : 0)
  return c.prepared.get(flags, input.deprecatedInputs, buildPrepared, c)
}

/**
 * The stage headers for one request, as `[name, value]` pairs (empty when there is nothing to say).
 * Every value passes Node's `http.validateHeaderValue`. The array is shared and frozen.
 *
 * @example
 * ```ts
 * import { stageHeaders } from "stage-normalization/http"
 * stageHeaders(
 *   { shouldEmitHeaders: true, wouldReject: true, rejected: false, invalid: true, deprecatedInputs: ["growth"] },
 *   { docsUrl: "https://docs.example.com/stages" }
 * ).map(([name]) => name)
 * // => ["X-Stage-Deprecated-Variants", "Deprecation", "Link", "X-Stage-Would-Reject",
 * //     "X-Stage-Recommendation", "X-Stage-Docs"]
 * ```
 * @since 0.1.0
 * @category headers
 */
export const stageHeaders = (
  input: HeaderInput,
  settings: HeaderSettings
): ReadonlyArray<readonly [string, string]> => prepareStageHeaders(input, settings).pairs
