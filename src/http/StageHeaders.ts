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
 * | `X-Stage-Recommendation` | any of the above, or invalid input (fixed ASCII text) |
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
 * The fixed texts of `X-Stage-Recommendation`.
 *
 * @since 0.1.0
 * @category constants
 */
const RECOMMENDATIONS = {
  wouldReject: "Fix these stages before enforcement begins. See X-Stage-Docs for migration guide.",
  rejected: `Send canonical stage values (${STAGE_LIST}). See X-Stage-Docs.`,
  invalid: `Unknown or invalid stage values will be rejected once enforcement begins. Use ${STAGE_LIST}.`,
  deprecated: `Deprecated stage spellings will stop being accepted at the sunset date. Use ${STAGE_LIST}.`
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
}

const cache = new WeakMap<HeaderSettings, HeaderConstants>()

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
  const cached = cache.get(settings)
  if (cached !== undefined) return cached
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
    sunsetSeconds
  }
  cache.set(settings, constants)
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

/**
 * One request's stage headers in the forms the adapters write: `[name, value]` pairs (names as
 * sent, in the order of the table above), the same with lower-case names (effect's `Headers`
 * keys) and flat (`name, value, name, value, …`, Node's `writeHead(status, flat)`). Built once
 * per distinct (document, outcome, deprecated inputs) and shared: frozen, never mutated.
 *
 * @since 0.3.0
 * @category models
 */
export interface PreparedHeaders {
  readonly pairs: ReadonlyArray<readonly [string, string]>
  readonly lowerPairs: ReadonlyArray<readonly [string, string]>
  readonly flat: ReadonlyArray<string>
}

const freezePrepared = (pairs: ReadonlyArray<readonly [string, string]>): PreparedHeaders =>
  Object.freeze({
    pairs: Object.freeze(pairs.map((pair) => Object.freeze(pair))),
    lowerPairs: Object.freeze(pairs.map(([name, value]) => Object.freeze([name.toLowerCase(), value] as const))),
    flat: Object.freeze(pairs.flat())
  })

const NO_PREPARED: PreparedHeaders = freezePrepared([])

/**
 * Most prepared header sets kept per document. The alias spellings a client sends are unbounded
 * (case, spacing, separators), so the cache is too; past the cap the oldest entry goes.
 */
const MAX_PREPARED_PER_DOCUMENT = 256

/** Deprecated-input lists longer than this (characters, all items) are not cached. */
const MAX_CACHED_INPUT_CHARS = 512

// A hand-written LRU on a `Map` (insertion order = recency) rather than effect's `Cache`: the
// lookup is on the hot path of every request with aliases, and effect's `Cache` answers with an
// Effect; this one is a synchronous `Map.get`.
const preparedCaches = new WeakMap<HeaderConstants, { map: Map<string, PreparedHeaders>; newest: string }>()

/** The cache key of an outcome: three flag characters, then each input length-prefixed (unambiguous). */
const cacheKey = (input: HeaderInput): string | undefined => {
  let key = (input.wouldReject ? "w" : "-") + (input.rejected ? "r" : "-") + (input.invalid ? "i" : "-")
  let chars = 0
  for (const item of input.deprecatedInputs) {
    chars += item.length
    if (chars > MAX_CACHED_INPUT_CHARS) return undefined
    key += item.length + ":" + item
  }
  return key
}

const buildPairs = (input: HeaderInput, c: HeaderConstants): Array<readonly [string, string]> => {
  const out: Array<readonly [string, string]> = []
  if (input.deprecatedInputs.length > 0) {
    out.push([STAGE_HEADERS.deprecatedVariants, sanitizeHeaderList(input.deprecatedInputs)])
    out.push([STAGE_HEADERS.deprecation, c.deprecation])
    if (c.sunset !== undefined) out.push([STAGE_HEADERS.sunset, c.sunset])
    out.push([STAGE_HEADERS.link, c.link])
  }
  if (input.wouldReject) out.push([STAGE_HEADERS.wouldReject, "true"])
  out.push([
    STAGE_HEADERS.recommendation,
    input.wouldReject
      ? RECOMMENDATIONS.wouldReject
      : input.rejected
      ? RECOMMENDATIONS.rejected
      : input.invalid
      ? RECOMMENDATIONS.invalid
      : RECOMMENDATIONS.deprecated
  ])
  out.push([STAGE_HEADERS.docs, c.docs])
  return out
}

/**
 * The stage headers for one request, prepared ({@link PreparedHeaders}; empty when there is
 * nothing to say): looked up in a bounded per-document cache keyed by the outcome and the
 * deprecated inputs, built (sanitised, validated forms) only on a miss.
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
  const key = cacheKey(input)
  if (key === undefined) return freezePrepared(buildPairs(input, c))
  let cache = preparedCaches.get(c)
  if (cache === undefined) preparedCaches.set(c, cache = { map: new Map(), newest: "" })
  const hit = cache.map.get(key)
  if (hit !== undefined) {
    if (cache.newest !== key) {
      cache.map.delete(key)
      cache.map.set(key, hit)
      cache.newest = key
    }
    return hit
  }
  const prepared = freezePrepared(buildPairs(input, c))
  if (cache.map.size >= MAX_PREPARED_PER_DOCUMENT) cache.map.delete(cache.map.keys().next().value!)
  cache.map.set(key, prepared)
  cache.newest = key
  return prepared
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
