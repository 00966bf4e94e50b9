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
 * separators), so the cache is too: past the cap a one-input map drops its least recently used
 * block, and a several-input trie starts over.
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
  /** The block of a one-input list, keyed by that input. */
  find(inputs: ReadonlyArray<string>): PreparedHeaders | undefined {
    const key = inputs[0]!
    const hit = this.map.get(key)
    if (hit !== undefined && key !== this.newest) {
      this.map.delete(key)
      this.map.set(key, hit)
      this.newest = key
    }
    return hit
  }
  store(inputs: ReadonlyArray<string>, block: PreparedHeaders): void {
    const key = inputs[0]!
    if (this.map.size >= MAX_ENTRIES) this.map.delete(this.map.keys().next().value!)
    this.map.set(key, block)
    this.newest = key
  }
}

/** One level of {@link Trie}: the block for the inputs so far, and the next input's levels. */
interface TrieNode {
  block: PreparedHeaders | undefined
  next: Map<string, TrieNode> | undefined
}

// Several deprecated inputs: a trie of maps, one level per input, so a lookup is one `Map.get`
// per input on the strings as parsed, with no key string built. (The inputs joined with NUL were
// the key before: the join, a NUL check per input and the hash of the joined string made a
// lookup of five inputs ~250 ns warm, twenty times a one-input lookup.) Bounded like `Lru`, more
// bluntly: past `MAX_ENTRIES` blocks it starts over empty, so a client cycling through more
// distinct lists than that pays a build per request, as it would under LRU eviction.
class Trie {
  root = new Map<string, TrieNode>()
  size = 0
  find(inputs: ReadonlyArray<string>): PreparedHeaders | undefined {
    let level: Map<string, TrieNode> | undefined = this.root
    let node: TrieNode | undefined
    for (let i = 0; i < inputs.length; i++) {
      node = level?.get(inputs[i]!)
      if (node === undefined) return undefined
      level = node.next
    }
    return node?.block
  }
  store(inputs: ReadonlyArray<string>, block: PreparedHeaders): void {
    if (this.size >= MAX_ENTRIES) {
      this.root = new Map()
      this.size = 0
    }
    let level = this.root
    let node: TrieNode | undefined
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!
      node = level.get(input)
      if (node === undefined) level.set(input, node = { block: undefined, next: undefined })
      if (i < inputs.length - 1) level = node.next ??= new Map()
    }
    if (node!.block === undefined) this.size++
    node!.block = block
  }
}

/**
 * The blocks of one rollout document, by outcome `flags` (a small integer the caller defines)
 * and deprecated inputs: without inputs one slot per flags value; with one input a map per flags
 * value keyed by the raw input itself (no key string built); with several a trie per flags value,
 * one map level per input.
 *
 * @example
 * ```ts
 * import { freezePrepared, PreparedCache } from "./PreparedHeaders.ts" // internal: not part of the package's API
 * const cache = new PreparedCache()
 * const build = (_flags: number, inputs: ReadonlyArray<string>) => freezePrepared([["X-Stage-Deprecated-Variants", inputs.join(",")]])
 * cache.get(0, ["Series A"], build, undefined) === cache.get(0, ["Series A"], build, undefined) // => true
 * cache.get(0, ["a", "b"], build, undefined) === cache.get(0, ["a", "b"], build, undefined) // => true
 * ```
 * @since 0.3.0
 * @category models
 */
export class PreparedCache {
  readonly #byFlags: Array<PreparedHeaders | undefined> = []
  readonly #single: Array<Lru | undefined> = []
  readonly #multi: Array<Trie | undefined> = []

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
    let chars = 0
    for (let i = 0; i < inputs.length; i++) chars += inputs[i]!.length
    if (chars > MAX_KEY_CHARS) return build(flags, inputs, context)
    const blocks = inputs.length === 1 ? this.#single[flags] ??= new Lru() : this.#multi[flags] ??= new Trie()
    const hit = blocks.find(inputs)
    if (hit !== undefined) return hit
    const built = build(flags, inputs, context)
    blocks.store(inputs, built)
    return built
  }
}
