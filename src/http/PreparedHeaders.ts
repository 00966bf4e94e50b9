/**
 * Prepared header blocks: one request's stage headers in every form the adapters write, built
 * once per distinct (document, outcome, deprecated inputs) and shared, and the bounded cache that
 * holds them per rollout document. `StageHeaders.ts` decides what the headers say; this module
 * only keeps what it built.
 *
 * @since 0.3.0
 */
import { REQUEST_ID_HEADER } from "./RequestId.ts"

/**
 * One request's stage headers in the forms the adapters write: `[name, value]` pairs (names as
 * sent, in the order of the table in `StageHeaders.ts`), flat (`name, value, name, value, …`,
 * Node's `writeHead(status, flat)`), the plain-Node adapter's head template and names, and a
 * record by lower-case name (effect's `Headers` keys). Shared, never mutated: `pairs` (which
 * `stageHeaders` hands to callers) is frozen; the other forms are read only by the adapters and
 * stay plain, because V8 copies and iterates frozen arrays on its slow paths (effect's
 * `setHeaders` over frozen pairs measured twice the cost, cold or warm).
 *
 * @since 0.3.0
 * @category models
 */
export interface PreparedHeaders {
  readonly pairs: ReadonlyArray<readonly [string, string]>
  readonly flat: ReadonlyArray<string>
  /**
   * The plain-Node adapter's head template: `x-request-id`, an empty slot for its value (index
   * 1), then `flat`. A request copies it (`slice`, one copy of a packed array) and fills the slot.
   */
  readonly nodeHead: ReadonlyArray<string>
  /** The lower-case names of `nodeHead`, for the adapter's "does the handler set one too" check. */
  readonly nodeNames: ReadonlyArray<string>
  /** The pairs by lower-case name, which the Effect middleware assigns into a response's header map. */
  readonly record: Readonly<Record<string, string>>
}

/**
 * Freezes a list of `[name, value]` pairs into a {@link PreparedHeaders} block.
 *
 * @example
 * ```ts
 * import { freezePrepared } from "./PreparedHeaders.ts" // internal: not part of the package's API
 * freezePrepared([["X-Stage-Docs", "https://x.test/"]]).flat // => ["X-Stage-Docs", "https://x.test/"]
 * ```
 * @since 0.3.0
 * @category constructors
 */
export const freezePrepared = (pairs: ReadonlyArray<readonly [string, string]>): PreparedHeaders =>
  Object.freeze({
    pairs: Object.freeze(pairs.map((pair) => Object.freeze(pair))),
    flat: pairs.flat(),
    nodeHead: [REQUEST_ID_HEADER, "", ...pairs.flat()],
    nodeNames: [REQUEST_ID_HEADER, ...pairs.map(([name]) => name.toLowerCase())],
    record: Object.fromEntries(pairs.map(([name, value]) => [name.toLowerCase(), value]))
  })

/**
 * The empty block (nothing to say).
 *
 * @since 0.3.0
 * @category constants
 */
export const NO_PREPARED: PreparedHeaders = freezePrepared([])

/**
 * Most blocks one map keeps. Alias spellings a client sends are unbounded (case, spacing,
 * separators), so the cache is too; past the cap the least recently used block goes.
 */
const MAX_ENTRIES = 128

/** Deprecated inputs longer than this (characters, all items) are built, not cached. */
const MAX_KEY_CHARS = 512

// A hand-written LRU on a `Map` (insertion order = recency) rather than effect's `Cache`: the
// lookup is on the hot path of every request with aliases, and effect's `Cache` answers with an
// Effect; this one is a synchronous `Map.get`. A hit on the newest entry moves nothing.
class Lru {
  readonly map = new Map<string, PreparedHeaders>()
  newest: string | undefined = undefined
  get(key: string): PreparedHeaders | undefined {
    const hit = this.map.get(key)
    if (hit !== undefined && key !== this.newest) {
      this.map.delete(key)
      this.map.set(key, hit)
      this.newest = key
    }
    return hit
  }
  set(key: string, value: PreparedHeaders): void {
    if (this.map.size >= MAX_ENTRIES) this.map.delete(this.map.keys().next().value!)
    this.map.set(key, value)
    this.newest = key
  }
}

/**
 * The blocks of one rollout document, by outcome `flags` (a small integer the caller defines)
 * and deprecated inputs: without inputs one slot per flags value; with one input a map per flags
 * value keyed by the raw input itself (no key string built); with several a map per flags value
 * keyed by the inputs joined with NUL — unambiguous because a list with a NUL in an input is
 * built, never cached (the list's JSON was the key before: 1.5–2× the cost of the join and its
 * NUL check, warm, five aliases, map lookup included).
 *
 * @example
 * ```ts
 * import { freezePrepared, PreparedCache } from "./PreparedHeaders.ts" // internal: not part of the package's API
 * const cache = new PreparedCache()
 * const build = (_flags: number, inputs: ReadonlyArray<string>) => freezePrepared([["X-Stage-Deprecated-Variants", inputs.join(",")]])
 * cache.get(0, ["Series A"], build, undefined) === cache.get(0, ["Series A"], build, undefined) // => true
 * ```
 * @since 0.3.0
 * @category models
 */
export class PreparedCache {
  readonly #byFlags: Array<PreparedHeaders | undefined> = []
  readonly #single: Array<Lru | undefined> = []
  readonly #multi: Array<Lru | undefined> = []

  /** The block for `flags` and `inputs`, built with `build(flags, inputs, context)` on a miss. */
  get<A>(
    flags: number,
    inputs: ReadonlyArray<string>,
    build: (flags: number, inputs: ReadonlyArray<string>, context: A) => PreparedHeaders,
    context: A
  ): PreparedHeaders {
    if (inputs.length === 0) {
      return this.#byFlags[flags] ??= build(flags, inputs, context)
    }
    let lru: Lru
    let key: string
    if (inputs.length === 1) {
      key = inputs[0]!
      lru = this.#single[flags] ??= new Lru()
    } else {
      let chars = 0
      for (let i = 0; i < inputs.length; i++) {
        const item = inputs[i]!
        if (item.includes(SEPARATOR)) return build(flags, inputs, context)
        chars += item.length
      }
      if (chars > MAX_KEY_CHARS) return build(flags, inputs, context)
      key = inputs.join(SEPARATOR)
      lru = this.#multi[flags] ??= new Lru()
    }
    if (key.length > MAX_KEY_CHARS) return build(flags, inputs, context)
    const hit = lru.get(key)
    if (hit !== undefined) return hit
    const built = build(flags, inputs, context)
    lru.set(key, built)
    return built
  }
}

const SEPARATOR = "\u0000"
