/**
 * The normaliser's memo of folded results, bounded in entries *and* bytes. Only inputs of at
 * most `MAX_INPUT_LENGTH` characters are ever stored (longer ones are unknown without being
 * folded, so there is nothing to remember), and each entry is charged its key's UTF-16 size plus
 * a fixed overhead; when either bound would be exceeded the memo starts over (a clear is O(1)
 * amortised and keeps the hot path free of eviction bookkeeping).
 *
 * @since 0.3.0
 */
import { MAX_INPUT_LENGTH } from "./KeyFolding.ts"
import type { StageResult } from "./StageResult.ts"

/**
 * Bytes charged per memo entry on top of its key's characters (2 bytes each): the map slot, the
 * frozen result object and its header. An estimate, deliberately on the high side.
 *
 * @since 0.3.0
 * @category constants
 */
export const CACHE_ENTRY_OVERHEAD_BYTES = 96

/**
 * Default byte bound of a vocabulary's memo: 512 KiB.
 *
 * @since 0.3.0
 * @category constants
 */
export const DEFAULT_CACHE_MAX_BYTES = 512 * 1024

/**
 * A bounded memo of normalisation results (see the module notes).
 *
 * @example
 * ```ts
 * import { normalizeStage, stageVocabulary } from "stage-normalization/normalizer"
 * normalizeStage("SERIES   b")      // folded once, then memoised
 * normalizeStage("x".repeat(1e6))   // unknown at once, never memoised
 * stageVocabulary.cache.size <= stageVocabulary.cacheSize       // => true
 * stageVocabulary.cache.bytes <= stageVocabulary.cacheMaxBytes  // => true
 * ```
 *
 * @since 0.3.0
 * @category models
 */
export class ResultCache<C extends string = string> {
  readonly #map = new Map<string, StageResult<C>>()
  #bytes = 0
  /** Most entries kept (0 disables the memo). */
  readonly maxEntries: number
  /** Most bytes charged (see {@link CACHE_ENTRY_OVERHEAD_BYTES}). */
  readonly maxBytes: number

  constructor(maxEntries: number, maxBytes: number) {
    this.maxEntries = maxEntries
    this.maxBytes = maxBytes
  }

  /** Entries held now. */
  get size(): number {
    return this.#map.size
  }

  /** Bytes charged for the entries held now. */
  get bytes(): number {
    return this.#bytes
  }

  get(input: string): StageResult<C> | undefined {
    return this.#map.get(input)
  }

  /** Remembers a result; refuses inputs longer than `MAX_INPUT_LENGTH` and entries over the bounds. */
  set(input: string, result: StageResult<C>): void {
    if (input.length > MAX_INPUT_LENGTH || this.maxEntries <= 0 || this.#map.has(input)) return
    const cost = 2 * input.length + CACHE_ENTRY_OVERHEAD_BYTES
    if (cost > this.maxBytes) return
    if (this.#map.size >= this.maxEntries || this.#bytes + cost > this.maxBytes) this.clear()
    this.#map.set(input, result)
    this.#bytes += cost
  }

  clear(): void {
    this.#map.clear()
    this.#bytes = 0
  }
}
