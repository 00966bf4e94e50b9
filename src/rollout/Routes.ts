/**
 * Route templates: matching a request path (a template such as `/api/funds/:fundId/companies` or
 * a concrete path such as `/api/funds/42/companies`) against the templates a config names in
 * `endpointMode` and `operationOverrides`.
 *
 * Templates are compiled once per config object (cached in a `WeakMap`), and matching walks the
 * path in place with `startsWith` / `indexOf`, so the hot path allocates nothing for ordinary paths.
 * More specific templates win: more literal segments first, a trailing `*` last.
 *
 * @since 0.1.0
 */
import type { Mode, Operation, StageValidationConfig } from "./Config.ts"
import { DEFAULT_OPERATION_OVERRIDES } from "./Config.ts"

/**
 * What a config says about one route template.
 *
 * @since 0.1.0
 * @category models
 */
export interface RouteEntry {
  readonly template: string
  /** the endpoint override, if any */
  readonly mode: Mode | undefined
  /** per-method operation overrides, upper-case method → operation */
  readonly operations: ReadonlyMap<string, Operation>
}

interface CompiledSegment {
  readonly kind: 0 | 1 | 2 // 0 literal, 1 parameter, 2 rest (`*`)
  readonly literal: string
}

interface CompiledPattern {
  readonly entry: RouteEntry
  readonly segments: ReadonlyArray<CompiledSegment>
  readonly literals: number
  readonly hasRest: boolean
}

interface CompiledRoutes {
  readonly exact: ReadonlyMap<string, RouteEntry>
  readonly patterns: ReadonlyArray<CompiledPattern>
}

const stripTrailingSlash = (template: string): string =>
  template.length > 1 && template.endsWith("/") ? template.slice(0, -1) : template

const compile = (config: StageValidationConfig): CompiledRoutes => {
  const modes = new Map<string, Mode>()
  const operations = new Map<string, Map<string, Operation>>()
  for (const [template, mode] of Object.entries(config.endpointMode)) {
    modes.set(stripTrailingSlash(template), mode)
  }
  const overrides = config.operationOverrides ?? DEFAULT_OPERATION_OVERRIDES
  for (const [key, operation] of Object.entries(overrides)) {
    const space = key.indexOf(" ")
    if (space <= 0) continue
    const method = key.slice(0, space).toUpperCase()
    const template = stripTrailingSlash(key.slice(space + 1))
    let byMethod = operations.get(template)
    if (byMethod === undefined) {
      byMethod = new Map()
      operations.set(template, byMethod)
    }
    byMethod.set(method, operation)
  }
  const exact = new Map<string, RouteEntry>()
  const patterns: Array<CompiledPattern & { readonly order: number }> = []
  const templates = new Set([...modes.keys(), ...operations.keys()])
  let order = 0
  for (const template of templates) {
    const entry: RouteEntry = {
      template,
      mode: modes.get(template),
      operations: operations.get(template) ?? new Map()
    }
    exact.set(template, entry)
    const parts = template === "/" ? [] : template.slice(1).split("/")
    const segments = parts.map((part): CompiledSegment =>
      part === "*" ? { kind: 2, literal: "" } : part.startsWith(":") ? { kind: 1, literal: "" } : { kind: 0, literal: part }
    )
    if (segments.some((s) => s.kind !== 0)) {
      patterns.push({
        entry,
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

const cache = new WeakMap<StageValidationConfig, CompiledRoutes>()

const compiled = (config: StageValidationConfig): CompiledRoutes => {
  let routes = cache.get(config)
  if (routes === undefined) {
    routes = compile(config)
    cache.set(config, routes)
  }
  return routes
}

const matchPattern = (pattern: CompiledPattern, path: string, end: number): boolean => {
  let pos = 1 // after the leading "/"
  const segments = pattern.segments
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

/**
 * Finds what a config says about a request path: the exact template (the path may itself be a
 * template), else the most specific matching template. A query string, fragment or trailing
 * slash is ignored.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { StageValidationConfig, matchRoute } from "stage-normalization/rollout"
 * const config = Schema.decodeUnknownSync(StageValidationConfig)({})
 * matchRoute(config, "/api/funds/42/companies?page=2")?.template // => "/api/funds/:fundId/companies"
 * ```
 * @since 0.1.0
 * @category matching
 */
export const matchRoute = (config: StageValidationConfig, path: string): RouteEntry | undefined => {
  const routes = compiled(config)
  let end = path.length
  const query = path.indexOf("?")
  if (query !== -1) end = query
  const hash = path.indexOf("#")
  if (hash !== -1 && hash < end) end = hash
  if (end > 1 && path.charCodeAt(end - 1) === 47 /* "/" */) end--
  const found = routes.exact.get(end === path.length ? path : path.slice(0, end))
  if (found !== undefined) return found
  if (path.charCodeAt(0) !== 47) return undefined
  const patterns = routes.patterns
  for (let i = 0; i < patterns.length; i++) {
    const pattern = patterns[i]!
    if (matchPattern(pattern, path, end)) return pattern.entry
  }
  return undefined
}

/**
 * The route template a path matches, for low-cardinality metric labels; `undefined` when no
 * template matches.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT, matchRouteTemplate } from "stage-normalization/rollout"
 * matchRouteTemplate(DEFAULT_DOCUMENT, "/api/funds/7/companies") // => "/api/funds/:fundId/companies"
 * ```
 * @since 0.1.0
 * @category matching
 */
export const matchRouteTemplate = (config: StageValidationConfig, path: string): string | undefined =>
  matchRoute(config, path)?.template

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
 * The operation type of a request under a config: the per-route override for its method, else
 * {@link defaultOperation}.
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
  operationFor(matchRoute(config, path), method)

/** @internal */
export const operationFor = (entry: RouteEntry | undefined, method: string): Operation => {
  if (entry !== undefined && entry.operations.size > 0) {
    const byMethod = entry.operations.get(method) ?? entry.operations.get(method.toUpperCase())
    if (byMethod !== undefined) return byMethod
  }
  return defaultOperation(method)
}
