/**
 * Route templates: matching a request path (a template such as `/api/funds/:fundId/companies` or
 * a concrete path such as `/api/funds/42/companies`) against the templates a config names.
 *
 * Endpoint modes and operation overrides are matched **independently**: the mode comes from the
 * most specific `endpointMode` template, the operation from the most specific
 * `operationOverrides` template for the request's method — adding a mode override never changes
 * how a route is classified. More specific means more literal segments; a trailing `*` comes last.
 *
 * Templates are compiled once per config object (cached in a `WeakMap`, with the last config
 * remembered by identity). A path equal to a template — what an HTTP layer that knows its route
 * passes — is one `Map` lookup of a fully pre-resolved entry; a concrete path is tested against
 * the parameterised templates' precompiled regular expressions, most specific first. Nothing is
 * allocated for ordinary paths (a query string or trailing slash costs one `slice` for the exact
 * lookup).
 *
 * @since 0.1.0
 */
import type { Mode, Operation, StageValidationConfig } from "./Config.ts"
import { DEFAULT_OPERATION_OVERRIDES } from "./Config.ts"

interface CompiledSegment {
  readonly kind: 0 | 1 | 2 // 0 literal, 1 parameter, 2 rest (`*`)
  readonly literal: string
}

// The common methods get an array slot; others go through a Map (slow path).
const METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"] as const
const DEFAULT_OPERATIONS: ReadonlyArray<Operation> = ["read", "read", "read", "write", "write", "write", "write"]

const methodIndex = (method: string): number => {
  switch (method) {
    case "GET":
      return 0
    case "HEAD":
      return 1
    case "OPTIONS":
      return 2
    case "POST":
      return 3
    case "PUT":
      return 4
    case "PATCH":
      return 5
    case "DELETE":
      return 6
    default:
      return -1
  }
}

/** What one template of the config says. */
interface TemplateEntry {
  readonly template: string
  readonly segments: ReadonlyArray<CompiledSegment>
  readonly literals: number
  readonly hasRest: boolean
  readonly isPattern: boolean
  readonly regExp: RegExp
  readonly order: number
  readonly mode: Mode | undefined
  /** override per common method (undefined: none) */
  readonly operations: ReadonlyArray<Operation | undefined>
  /** every override, upper-case method → operation */
  readonly byMethod: ReadonlyMap<string, Operation>
}

/** A path equal to a template, fully resolved. */
interface ExactEntry {
  readonly template: string
  readonly mode: Mode | undefined
  /** resolved operation per common method (override or default) */
  readonly operations: ReadonlyArray<Operation>
  readonly entry: TemplateEntry
}

/** @internal */
export interface CompiledRoutes {
  readonly exact: ReadonlyMap<string, ExactEntry>
  /** parameterised templates, most specific first */
  readonly patterns: ReadonlyArray<TemplateEntry>
  readonly empty: boolean
}

const stripTrailingSlash = (template: string): string =>
  template.length > 1 && template.endsWith("/") ? template.slice(0, -1) : template

const escapeRegExp = (literal: string): string => literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

// A template as an anchored regular expression: `:param` is one non-empty segment, a final `*`
// anything (or nothing) after the prefix; an optional trailing slash, then the end of the path or
// its query / fragment. V8's irregexp runs these faster than a hand-written segment walk.
const templateRegExp = (segments: ReadonlyArray<CompiledSegment>): RegExp => {
  let source = "^"
  for (const segment of segments) {
    if (segment.kind === 2) {
      source += "(?:/[^?#]*)?"
      break
    }
    source += segment.kind === 1 ? "/[^/?#]+" : `/${escapeRegExp(segment.literal)}`
  }
  return new RegExp(`${source}/?(?:[?#]|$)`)
}

const compile = (config: StageValidationConfig): CompiledRoutes => {
  const modes = new Map<string, Mode>()
  for (const [template, mode] of Object.entries(config.endpointMode)) modes.set(stripTrailingSlash(template), mode)
  const overrides = new Map<string, Map<string, Operation>>()
  for (const [key, operation] of Object.entries(config.operationOverrides ?? DEFAULT_OPERATION_OVERRIDES)) {
    const space = key.indexOf(" ")
    if (space <= 0) continue
    const template = stripTrailingSlash(key.slice(space + 1))
    let byMethod = overrides.get(template)
    if (byMethod === undefined) {
      byMethod = new Map()
      overrides.set(template, byMethod)
    }
    byMethod.set(key.slice(0, space).toUpperCase(), operation)
  }
  const entries: Array<TemplateEntry> = []
  let order = 0
  for (const template of new Set([...modes.keys(), ...overrides.keys()])) {
    const parts = template === "/" ? [] : template.slice(1).split("/")
    const segments = parts.map((part): CompiledSegment =>
      part === "*" ? { kind: 2, literal: "" } : part.startsWith(":") ? { kind: 1, literal: "" } : { kind: 0, literal: part }
    )
    const byMethod: ReadonlyMap<string, Operation> = overrides.get(template) ?? new Map()
    entries.push({
      template,
      segments,
      literals: segments.filter((s) => s.kind === 0).length,
      hasRest: segments.some((s) => s.kind === 2),
      isPattern: segments.some((s) => s.kind !== 0),
      regExp: templateRegExp(segments),
      order: order++,
      mode: modes.get(template),
      operations: METHODS.map((m) => byMethod.get(m)),
      byMethod
    })
  }
  const patterns = entries.filter((e) => e.isPattern).sort((a, b) =>
    Number(a.hasRest) - Number(b.hasRest) || b.literals - a.literals || b.segments.length - a.segments.length ||
    a.order - b.order
  )
  // A template used as a path: its own settings first, then the most specific pattern matching it.
  const exact = new Map<string, ExactEntry>()
  for (const entry of entries) {
    const matching = patterns.filter((p) => p !== entry && p.regExp.test(entry.template))
    exact.set(entry.template, {
      template: entry.template,
      entry,
      mode: entry.mode ?? matching.find((p) => p.mode !== undefined)?.mode,
      operations: METHODS.map((_, i) =>
        entry.operations[i] ?? matching.find((p) => p.operations[i] !== undefined)?.operations[i] ?? DEFAULT_OPERATIONS[i]!
      )
    })
  }
  return { exact, patterns, empty: entries.length === 0 }
}

const cache = new WeakMap<StageValidationConfig, CompiledRoutes>()
let lastConfig: StageValidationConfig | undefined
let lastRoutes: CompiledRoutes | undefined

const compiled = (config: StageValidationConfig): CompiledRoutes => {
  if (config === lastConfig) return lastRoutes!
  let routes = cache.get(config)
  if (routes === undefined) {
    routes = compile(config)
    cache.set(config, routes)
  }
  lastConfig = config
  lastRoutes = routes
  return routes
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

const exactEntry = (routes: CompiledRoutes, path: string, end: number): ExactEntry | undefined =>
  routes.exact.get(end === path.length ? path : path.slice(0, end))

const upperIndex = (method: string): number => {
  const index = methodIndex(method)
  return index !== -1 ? index : methodIndex(method.toUpperCase())
}

// Packed result of a resolution: mode code (0 none, 1 off, 2 warn, 3 enforce) × 2 + (1 if write).
const MODE_CODES: Readonly<Record<Mode, number>> = { off: 1, warn: 2, enforce: 3 }
const CODE_MODES: ReadonlyArray<Mode | undefined> = [undefined, "off", "warn", "enforce"]

/** Resolves the endpoint mode override and the operation of a request without allocating. @internal */
export const resolvePacked = (config: StageValidationConfig, method: string, path: string): number => {
  const routes = compiled(config)
  let index = methodIndex(method)
  if (routes.empty) return index !== -1 ? (index >= 3 ? 1 : 0) : (defaultOperation(method) === "write" ? 1 : 0)
  const end = pathEnd(path)
  if (index === -1) index = upperIndex(method)
  const exact = exactEntry(routes, path, end)
  if (exact !== undefined && index !== -1) {
    return (exact.mode === undefined ? 0 : MODE_CODES[exact.mode]) * 2 + (exact.operations[index] === "write" ? 1 : 0)
  }
  return slowResolve(routes, method, index, path, exact)
}

const slowResolve = (
  routes: CompiledRoutes,
  method: string,
  index: number,
  path: string,
  exact: ExactEntry | undefined
): number => {
  const upper = index === -1 ? method.toUpperCase() : METHODS[index]!
  let mode: Mode | undefined = exact?.mode
  let modeFound = exact?.mode !== undefined
  let operation: Operation | undefined = exact?.entry.byMethod.get(upper)
  if ((!modeFound || operation === undefined) && path.charCodeAt(0) === 47) {
    const patterns = routes.patterns
    for (let i = 0; i < patterns.length; i++) {
      const p = patterns[i]!
      if (!p.regExp.test(path)) continue
      if (!modeFound && p.mode !== undefined) {
        mode = p.mode
        modeFound = true
      }
      if (operation === undefined) operation = index === -1 ? p.byMethod.get(upper) : p.operations[index]
      if (modeFound && operation !== undefined) break
    }
  }
  const op = operation ?? (index === -1 ? defaultOperation(method) : DEFAULT_OPERATIONS[index]!)
  return (mode === undefined ? 0 : MODE_CODES[mode]) * 2 + (op === "write" ? 1 : 0)
}

/** @internal */
export const packedMode = (packed: number): Mode | undefined => CODE_MODES[packed >> 1]

/** @internal */
export const packedOperation = (packed: number): Operation => ((packed & 1) === 1 ? "write" : "read")

/**
 * The most specific template a config names (in `endpointMode` or `operationOverrides`) that a
 * path matches — a low-cardinality metric label; `undefined` when none matches. A query string,
 * fragment or trailing slash is ignored.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * import { matchRouteTemplate } from "./Routes.ts" // internal: not part of the package's API
 * matchRouteTemplate(DEFAULT_DOCUMENT, "/api/funds/7/companies?page=2") // => "/api/funds/:fundId/companies"
 * ```
 * @since 0.1.0
 * @category matching
 */
export const matchRouteTemplate = (config: StageValidationConfig, path: string): string | undefined => {
  const routes = compiled(config)
  const end = pathEnd(path)
  const exact = exactEntry(routes, path, end)
  if (exact !== undefined) return exact.template
  if (path.charCodeAt(0) !== 47) return undefined
  for (const p of routes.patterns) {
    if (p.regExp.test(path)) return p.template
  }
  return undefined
}

/**
 * The endpoint mode override for a path (most specific `endpointMode` template), or `undefined`.
 *
 * @example
 * ```ts
 * import { PRODUCTION_CONFIG } from "stage-normalization/rollout"
 * import { endpointModeOf } from "./Routes.ts" // internal: not part of the package's API
 * endpointModeOf(PRODUCTION_CONFIG, "/api/portfolio/strategies") // => "enforce"
 * endpointModeOf(PRODUCTION_CONFIG, "/api/other") // => undefined
 * ```
 * @since 0.1.0
 * @category matching
 */
export const endpointModeOf = (config: StageValidationConfig, path: string): Mode | undefined =>
  packedMode(resolvePacked(config, "GET", path))

/**
 * The operation type of a method by default: GET, HEAD and OPTIONS read, everything else writes.
 *
 * @example
 * ```ts
 * import { defaultOperation } from "./Routes.ts" // internal: not part of the package's API
 * defaultOperation("GET") // => "read"
 * defaultOperation("POST") // => "write"
 * ```
 * @since 0.1.0
 * @category matching
 */
export const defaultOperation = (method: string): Operation => {
  const index = upperIndex(method)
  return index === -1 ? "write" : DEFAULT_OPERATIONS[index]!
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
  packedOperation(resolvePacked(config, method, path))
