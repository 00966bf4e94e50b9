/**
 * The value checks of the rollout configuration's fields: route templates and operation-override
 * keys, ISO-8601 dates, bucketing salts, header names, the enforcement percentage and the document
 * version. `Config.ts` composes them into the `StageValidationConfig` schema.
 *
 * @internal
 */
import { Schema } from "effect"

const TEMPLATE_PATTERN = /^\/(?:[^\s/?#]+(?:\/[^\s/?#]+)*)?\/?$/
const METHOD_PATTERN = /^[A-Z]+ /

const isRouteTemplate = (s: string): boolean => {
  if (!TEMPLATE_PATTERN.test(s)) return false
  const star = s.indexOf("*")
  return star === -1 || (star === s.length - 1 && s[star - 1] === "/")
}

/**
 * A route template such as `/api/funds/:fundId/companies`: `:name` segments match one path
 * segment, a final `*` matches the rest.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { RouteTemplate } from "./configFields.ts" // internal: not part of the package's API
 * Schema.is(RouteTemplate)("/api/funds/:fundId/companies") // => true
 * Schema.is(RouteTemplate)("api/funds") // => false
 * ```
 * @since 0.1.0
 * @category schemas
 * @internal
 */
export const RouteTemplate = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter((s: string) =>
      isRouteTemplate(s) ? undefined : `expected a route template like "/api/funds/:fundId/companies", got ${JSON.stringify(s)}`
    )
  )
)

/**
 * An operation-override key: an upper-case HTTP method, one space, a route template
 * (`"POST /api/monte-carlo/simulate"`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { RouteKey } from "./configFields.ts" // internal: not part of the package's API
 * Schema.is(RouteKey)("POST /api/monte-carlo/simulate") // => true
 * ```
 * @since 0.1.0
 * @category schemas
 * @internal
 */
export const RouteKey = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter((s: string) =>
      METHOD_PATTERN.test(s) && isRouteTemplate(s.slice(s.indexOf(" ") + 1))
        ? undefined
        : `expected "METHOD /route/template", got ${JSON.stringify(s)}`
    )
  )
)

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/

/**
 * An ISO-8601 date (`2026-06-30`) or UTC timestamp (`2026-06-30T00:00:00Z`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { IsoDate } from "./configFields.ts" // internal: not part of the package's API
 * Schema.is(IsoDate)("2026-06-30") // => true
 * ```
 * @since 0.1.0
 * @category schemas
 * @internal
 */
export const IsoDate = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter((s: string) =>
      ISO_DATE.test(s) && Number.isFinite(Date.parse(s)) ? undefined : `expected an ISO-8601 date, got ${JSON.stringify(s)}`
    )
  )
)

/**
 * A bucketing salt: 1 to 256 characters, no NUL.
 *
 * @since 0.1.0
 * @category schemas
 * @internal
 */
export const Salt = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter((s: string) =>
      s.length > 0 && s.length <= 256 && !s.includes("\u0000") ? undefined : "expected a salt of 1-256 characters without NUL"
    )
  )
)

/**
 * An HTTP header name (RFC 9110 token, at most 128 characters), e.g. the stickiness header.
 *
 * @since 0.1.0
 * @category schemas
 * @internal
 */
export const HeaderName = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter((s: string) =>
      /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/.test(s) ? undefined : `expected an HTTP header name, got ${JSON.stringify(s)}`
    )
  )
)

/**
 * `enforcementPercent`: a finite number within 0..100.
 *
 * @since 0.1.0
 * @category schemas
 * @internal
 */
export const Percent = Schema.Finite.pipe(
  Schema.check(Schema.isBetween({ minimum: 0, maximum: 100 }, { message: "enforcementPercent must be within 0..100" }))
)

/**
 * The document version: a safe integer ≥ 0.
 *
 * @since 0.1.0
 * @category schemas
 * @internal
 */
export const Version = Schema.Int.pipe(
  Schema.check(Schema.isBetween({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, { message: "version must be an integer ≥ 0" }))
)

/**
 * The document's lineage id: 1 to 64 characters of `[A-Za-z0-9._:-]`, created when an empty
 * shared store is seeded.
 *
 * @since 0.4.0
 * @category schemas
 * @internal
 */
export const LineageId = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter((s: string) =>
      /^[A-Za-z0-9._:-]{1,64}$/.test(s) ? undefined : `expected a lineage id of 1-64 characters [A-Za-z0-9._:-], got ${JSON.stringify(s.slice(0, 80))}`
    )
  )
)
