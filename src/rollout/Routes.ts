/**
 * Route templates: matching a request path (a template such as `/api/funds/:fundId/companies` or
 * a concrete path such as `/api/funds/42/companies`) against the templates a config names.
 *
 * Endpoint modes and operation overrides are matched **independently**: the mode comes from the
 * most specific `endpointMode` template, the operation from the most specific
 * `operationOverrides` template for the request's method — adding a mode override never changes
 * how a route is classified. More specific means more literal segments; a trailing `*` comes last.
 *
 * Templates are compiled once per config object (cached in a `WeakMap`), and matching walks the
 * path in place with `startsWith` / `indexOf`, so the hot path allocates nothing for ordinary paths
 * (a query string or trailing slash costs one `slice` for the exact-match lookup).
 *
 * @since 0.1.0
 */
import type { Mode, Operation, StageValidationConfig } from "./Config.ts"
import { DEFAULT_OPERATION_OVERRIDES } from "./Config.ts"

interface CompiledSegment {
  readonly kind: 0 | 1 | 2 // 0 literal, 1 parameter, 2 rest (`*`)
  readonly literal: string
}

interface Route<V> {
  readonly template: string
  readonly value: V
}

interface CompiledPattern<V> {
  readonly route: Route<V>
  readonly segments: ReadonlyArray<CompiledSegment>
}

interface Matcher<V> {
  readonly exact: ReadonlyMap<string, Route<V>>
  readonly patterns: ReadonlyArray<CompiledPattern<V>>
}

/** @internal */
export interface CompiledRoutes {
  readonly modes: Matcher<Mode>
  readonly operations: Matcher<ReadonlyMap<string, Operation>>
  readonly templates: Matcher<string>
}

const stripTrailingSlash = (template: string): string =>
  template.length > 1 && template.endsWith("/") ? template.slice(0, -1) : template

const makeMatcher = <V>(entries: Iterable<readonly [string, V]>): Matcher<V> => {
  const exact = new Map<string, Route<V>>()
  const patterns: Array<CompiledPattern<V> & { readonly literals: number; readonly hasRest: boolean; readonly order: number }> = []
  let order = 0
  for (const [template, value] of entries) {
    const route: Route<V> = { template, value }
    exact.set(template, route)
    const parts = template === "/" ? [] : template.slice(1).split("/")
    const segments = parts.map((part): CompiledSegment =>
      part === "*" ? { kind: 2, literal: "" } : part.startsWith(":") ? { kind: 1, literal: "" } : { kind: 0, literal: part }
    )
    if (segments.some((s) => s.kind !== 0)) {
      patterns.push({
        route,
        segments,
        literals: segments.filter((s) => s.kind === 0).length,
        hasRest: segments.some((s) => s.kind === 2),
        order: order++
      })
    }
  }
  patterns.sort((a, b) =>
    Number(a.hasRest) - Number(b.hasRest) || b.literals - a.literals || b.segments.length - a.segments.length ||
    a.order - b.order
  )
  return { exact, patterns }
}

const compile = (config: StageValidationConfig): CompiledRoutes => {
  const modes = new Map<string, Mode>()
  for (const [template, mode] of Object.entries(config.endpointMode)) modes.set(stripTrailingSlash(template), mode)
  const operations = new Map<string, Map<string, Operation>>()
  for (const [key, operation] of Object.entries(config.operationOverrides ?? DEFAULT_OPERATION_OVERRIDES)) {
    const space = key.indexOf(" ")
    if (space <= 0) continue
    const template = stripTrailingSlash(key.slice(space + 1))
    let byMethod = operations.get(template)
    if (byMethod === undefined) {
      byMethod = new Map()
      operations.set(template, byMethod)
    }
    byMethod.set(key.slice(0, space).toUpperCase(), operation)
  }
  const templates = new Set([...modes.keys(), ...operations.keys()])
  return {
    modes: makeMatcher(modes),
    operations: makeMatcher(operations),
    templates: makeMatcher([...templates].map((t) => [t, t] as const))
  }
}

const cache = new WeakMap<StageValidationConfig, CompiledRoutes>()

const compiled = (config: StageValidationConfig): CompiledRoutes => {
  let routes = cache.get(config)
  if (routes === undefined) {
    routes = compile(config)
    cache.set(config, routes)
  }
  return routes
}

const matchPattern = (segments: ReadonlyArray<CompiledSegment>, path: string, end: number): boolean => {
  let pos = 1 // after the leading "/"
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s]!
    if (segment.kind === 2) return true
    if (pos > end) return false
    let next = path.indexOf("/", pos)
    if (next === -1 || next > end) next = end
    if (segment.kind === 0) {
      const literal = segment.literal
      if (next - pos !== literal.length || !path.startsWith(literal, pos)) return false
    } else if (next === pos) {
      return false // empty parameter
    }
    pos = next + 1
  }
  return pos > end
}

/** End of the path part (before `?` / `#`, without a trailing slash). */
const pathEnd = (path: string): number => {
  let end = path.length
  const query = path.indexOf("?")
  if (query !== -1) end = query
  const hash = path.indexOf("#")
  if (hash !== -1 && hash < end) end = hash
  if (end > 1 && path.charCodeAt(end - 1) === 47 /* "/" */) end--
  return end
}

const match = <V>(matcher: Matcher<V>, path: string, end: number): Route<V> | undefined => {
  if (matcher.exact.size === 0) return undefined
  const found = matcher.exact.get(end === path.length ? path : path.slice(0, end))
  if (found !== undefined) return found
  if (path.charCodeAt(0) !== 47) return undefined
  const patterns = matcher.patterns
  for (let i = 0; i < patterns.length; i++) {
    const pattern = patterns[i]!
    if (matchPattern(pattern.segments, path, end)) return pattern.route
  }
  return undefined
}

/**
 * The most specific template a config names (in `endpointMode` or `operationOverrides`) that a
 * path matches — a low-cardinality metric label; `undefined` when none matches. A query string,
 * fragment or trailing slash is ignored.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT, matchRouteTemplate } from "stage-normalization/rollout"
 * matchRouteTemplate(DEFAULT_DOCUMENT, "/api/funds/7/companies?page=2") // => "/api/funds/:fundId/companies"
 * ```
 * @since 0.1.0
 * @category matching
 */
export const matchRouteTemplate = (config: StageValidationConfig, path: string): string | undefined =>
  match(compiled(config).templates, path, pathEnd(path))?.value

/**
 * The endpoint mode override for a path (most specific `endpointMode` template), or `undefined`.
 *
 * @example
 * ```ts
 * import { PRODUCTION_CONFIG, endpointModeOf } from "stage-normalization/rollout"
 * endpointModeOf(PRODUCTION_CONFIG, "/api/portfolio/strategies") // => "enforce"
 * endpointModeOf(PRODUCTION_CONFIG, "/api/other") // => undefined
 * ```
 * @since 0.1.0
 * @category matching
 */
export const endpointModeOf = (config: StageValidationConfig, path: string): Mode | undefined =>
  match(compiled(config).modes, path, pathEnd(path))?.value

/**
 * The operation type of a method by default: GET, HEAD and OPTIONS read, everything else writes.
 *
 * @example
 * ```ts
 * import { defaultOperation } from "stage-normalization/rollout"
 * defaultOperation("GET") // => "read"
 * defaultOperation("POST") // => "write"
 * ```
 * @since 0.1.0
 * @category matching
 */
export const defaultOperation = (method: string): Operation => {
  switch (method) {
    case "GET":
    case "HEAD":
    case "OPTIONS":
      return "read"
    case "POST":
    case "PUT":
    case "PATCH":
    case "DELETE":
      return "write"
    default: {
      const upper = method.toUpperCase()
      return upper === "GET" || upper === "HEAD" || upper === "OPTIONS" ? "read" : "write"
    }
  }
}

/**
 * The operation type of a request: the override of the most specific `operationOverrides`
 * template naming this method, else {@link defaultOperation}.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT, operationOf } from "stage-normalization/rollout"
 * operationOf(DEFAULT_DOCUMENT, "POST", "/api/monte-carlo/simulate") // => "read"
 * operationOf(DEFAULT_DOCUMENT, "POST", "/api/portfolio/strategies") // => "write"
 * ```
 * @since 0.1.0
 * @category matching
 */
export const operationOf = (config: StageValidationConfig, method: string, path: string): Operation =>
  operationAt(compiled(config), method, path, pathEnd(path))

const operationAt = (routes: CompiledRoutes, method: string, path: string, end: number): Operation => {
  const matcher = routes.operations
  if (matcher.exact.size > 0) {
    // The most specific template with an override for this method.
    const exact = matcher.exact.get(end === path.length ? path : path.slice(0, end))
    const viaExact = exact === undefined ? undefined : methodOverride(exact.value, method)
    if (viaExact !== undefined) return viaExact
    if (path.charCodeAt(0) === 47) {
      const patterns = matcher.patterns
      for (let i = 0; i < patterns.length; i++) {
        const pattern = patterns[i]!
        if (!matchPattern(pattern.segments, path, end)) continue
        const op = methodOverride(pattern.route.value, method)
        if (op !== undefined) return op
      }
    }
  }
  return defaultOperation(method)
}

const methodOverride = (byMethod: ReadonlyMap<string, Operation>, method: string): Operation | undefined =>
  byMethod.get(method) ?? (method === method.toUpperCase() ? undefined : byMethod.get(method.toUpperCase()))

/** The compiled routes of a config (compiled once per config object). @internal */
export const compiledRoutes: (config: StageValidationConfig) => CompiledRoutes = compiled

/** @internal */
export { pathEnd }

/** The endpoint mode override of a path under compiled routes. @internal */
export const modeAt = (routes: CompiledRoutes, path: string, end: number): Mode | undefined =>
  match(routes.modes, path, end)?.value

/** @internal */
export { operationAt }
