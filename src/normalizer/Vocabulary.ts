/**
 * A vocabulary: the canonical values of an enumerated field plus its alias table, compiled into
 * the lookup structures {@link normalizeStage} uses. Stages are the default vocabulary, but any
 * enumerated field (fund types, sectors, currencies) can have one.
 *
 * `make` refuses ambiguous vocabularies with a typed {@link VocabularyError}: an alias that folds
 * to two canonical values, an alias that folds to a *different* canonical value's key, a key
 * outside the folded alphabet, an alias naming a value that is not canonical.
 *
 * @since 0.1.0
 */
import { Effect, Result, Schema } from "effect"
import { foldKey, isFoldedKey, MAX_INPUT_LENGTH } from "./KeyFolding.ts"
import { DEFAULT_CACHE_MAX_BYTES, ResultCache } from "./ResultCache.ts"
import type { Canonical } from "./StageResult.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~stage-normalization/normalizer/Vocabulary" as const

/**
 * One accepted spelling of a canonical value, and the package version that started accepting it.
 *
 * @since 0.1.0
 * @category models
 */
export interface AliasEntry<C extends string = string> {
  readonly alias: string
  readonly stage: C
  readonly since: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface VocabularyOptions<C extends string> {
  /** A name for messages and metrics (default "custom"). */
  readonly name?: string
  /** Canonical values in their canonical order (distribution output follows it). */
  readonly canonical: ReadonlyArray<C>
  readonly aliases?: ReadonlyArray<AliasEntry<C>>
  /** Entries kept in the bounded memo of folded results (default 2,048; 0 disables it). */
  readonly cacheSize?: number
  /**
   * Bytes the memo may hold (default 512 KiB): each entry is charged its key's UTF-16 size
   * plus a fixed overhead. Inputs longer than `MAX_INPUT_LENGTH` are never memoised.
   */
  readonly cacheMaxBytes?: number
}

/**
 * A compiled vocabulary. Treat it as opaque apart from the documented fields.
 *
 * @since 0.1.0
 * @category models
 */
export interface Vocabulary<C extends string = string> {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly canonical: ReadonlyArray<C>
  readonly aliases: ReadonlyArray<AliasEntry<C>>
  /**
   * Fingerprint of the folded table (8 hex digits). It changes whenever a key or its target
   * changes; the SQL twin is re-created when it does.
   */
  readonly version: string
  /** Folded key → canonical value: canonical keys and alias keys. */
  readonly table: ReadonlyMap<string, C>
  /** Position of each canonical value in `canonical`. */
  readonly order: ReadonlyMap<C, number>
  /** @internal exact spellings (canonical and alias) → their precomputed result. */
  readonly exact: ReadonlyMap<string, Canonical<C>>
  /** @internal distinct (key, canonical index) pairs scanned for suggestions. */
  readonly suggestionKeys: ReadonlyArray<readonly [key: string, index: number]>
  /** @internal memo of folded results for spellings not in `exact`, bounded in entries and bytes. */
  readonly cache: ResultCache<C>
  /** Most entries of the memo. */
  readonly cacheSize: number
  /** Most bytes of the memo. */
  readonly cacheMaxBytes: number
}

/**
 * Why a vocabulary was refused.
 *
 * @since 0.1.0
 * @category models
 */
export type VocabularyProblemReason =
  | "EmptyCanonical"
  | "DuplicateCanonical"
  | "InvalidKey"
  | "UnknownCanonical"
  | "AmbiguousAlias"
  | "AliasShadowsCanonical"

const VocabularyProblem = Schema.Struct({
  reason: Schema.Literals([
    "EmptyCanonical",
    "DuplicateCanonical",
    "InvalidKey",
    "UnknownCanonical",
    "AmbiguousAlias",
    "AliasShadowsCanonical"
  ]),
  value: Schema.String,
  detail: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type VocabularyProblem = typeof VocabularyProblem.Type

/**
 * The vocabulary given to {@link make} is ambiguous or malformed. `problems` lists every
 * problem found, not just the first.
 *
 * @example
 * ```ts
 * import { Vocabulary } from "stage-normalization"
 * import { Result } from "effect"
 * const r = Vocabulary.makeResult({
 *   canonical: ["a", "b"],
 *   aliases: [{ alias: "x", stage: "a", since: "1" }, { alias: "X", stage: "b", since: "1" }]
 * })
 * Result.isFailure(r) && r.failure.problems[0]?.reason // => "AmbiguousAlias"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class VocabularyError extends Schema.TaggedError<VocabularyError>(
  "stage-normalization/normalizer/VocabularyError"
)("VocabularyError", {
  name: Schema.String,
  problems: Schema.Array(VocabularyProblem)
}) {
  override get message(): string {
    return `vocabulary "${this.name}" is invalid: ` +
      this.problems.map((p) => `${p.reason} (${JSON.stringify(p.value)}): ${p.detail}`).join("; ")
  }
}

/**
 * Is `u` a compiled {@link Vocabulary}?
 *
 * @since 0.1.0
 * @category guards
 */
export const isVocabulary = (u: unknown): u is Vocabulary<string> =>
  typeof u === "object" && u !== null && TypeId in u

// FNV-1a, 32 bit: a short, stable fingerprint of the folded table. Not security relevant.
const fingerprint = (text: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0).toString(16).padStart(8, "0")
}

// Bumped when foldKey's semantics change, so every vocabulary's version changes with it.
const FOLDING_REVISION = "fold-1"

/**
 * Compile and validate a vocabulary, returning a `Result`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeResult = <const C extends string>(
  options: VocabularyOptions<C>
): Result.Result<Vocabulary<C>, VocabularyError> => {
  const name = options.name ?? "custom"
  const aliases = options.aliases ?? []
  const problems: Array<VocabularyProblem> = []
  const problem = (reason: VocabularyProblem["reason"], value: string, detail: string) =>
    problems.push({ reason, value, detail })

  if (options.canonical.length === 0) problem("EmptyCanonical", "", "a vocabulary needs at least one canonical value")

  const table = new Map<string, C>()
  const order = new Map<C, number>()
  const canonicalKeyOwner = new Map<string, C>()
  const validKey = (value: string): string | undefined => {
    const key = foldKey(value)
    if (key === undefined || !isFoldedKey(key)) {
      problem(
        "InvalidKey",
        value,
        key === undefined
          ? `longer than ${MAX_INPUT_LENGTH} characters`
          : `folds to ${JSON.stringify(key)}, which has characters outside [a-z0-9+-] or is empty`
      )
      return undefined
    }
    return key
  }

  options.canonical.forEach((value, index) => {
    if (order.has(value)) return problem("DuplicateCanonical", value, "listed twice")
    order.set(value, index)
    const key = validKey(value)
    if (key === undefined) return
    const owner = canonicalKeyOwner.get(key)
    if (owner !== undefined) {
      return problem("DuplicateCanonical", value, `folds to ${JSON.stringify(key)} like canonical "${owner}"`)
    }
    canonicalKeyOwner.set(key, value)
    table.set(key, value)
  })

  for (const entry of aliases) {
    if (!order.has(entry.stage)) {
      problem("UnknownCanonical", entry.alias, `names "${entry.stage}", which is not a canonical value`)
      continue
    }
    const key = validKey(entry.alias)
    if (key === undefined) continue
    const owner = canonicalKeyOwner.get(key)
    if (owner !== undefined && owner !== entry.stage) {
      problem(
        "AliasShadowsCanonical",
        entry.alias,
        `folds to ${JSON.stringify(key)}, the key of canonical "${owner}", but names "${entry.stage}"`
      )
      continue
    }
    const existing = table.get(key)
    if (existing !== undefined && existing !== entry.stage) {
      problem(
        "AmbiguousAlias",
        entry.alias,
        `folds to ${JSON.stringify(key)}, which already names "${existing}", but names "${entry.stage}"`
      )
      continue
    }
    table.set(key, entry.stage)
  }

  if (problems.length > 0) return Result.fail(new VocabularyError({ name, problems }))

  const exact = new Map<string, Canonical<C>>()
  for (const value of options.canonical) {
    exact.set(value, Object.freeze({ _tag: "Canonical", input: value, stage: value, deprecated: false }))
  }
  for (const entry of aliases) {
    if (!exact.has(entry.alias)) {
      exact.set(entry.alias, Object.freeze({ _tag: "Canonical", input: entry.alias, stage: entry.stage, deprecated: true }))
    }
  }
  const suggestionKeys = Array.from(table, ([key, value]) => [key, order.get(value)!] as const)
  const keys = Array.from(table, ([key, value]) => `${key}=${value}`).sort()
  const cacheSize = Math.max(0, options.cacheSize ?? 2048)
  const cacheMaxBytes = Math.max(0, options.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES)
  return Result.succeed({
    [TypeId]: TypeId,
    name,
    canonical: options.canonical,
    aliases,
    version: fingerprint([FOLDING_REVISION, ...options.canonical, "|", ...keys].join("\n")),
    table,
    order,
    exact,
    suggestionKeys,
    cache: new ResultCache<C>(cacheSize, cacheMaxBytes),
    cacheSize,
    cacheMaxBytes
  })
}

/**
 * Compile and validate a vocabulary as an `Effect` failing with {@link VocabularyError}.
 *
 * @example
 * ```ts
 * import { Vocabulary, normalizeStage } from "stage-normalization"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const fundTypes = yield* Vocabulary.make({
 *     name: "fund-type",
 *     canonical: ["vc", "pe"],
 *     aliases: [{ alias: "Venture Capital", stage: "vc", since: "1.0.0" }]
 *   })
 *   return normalizeStage("venture_capital", fundTypes)
 * })
 * // => { _tag: "Canonical", input: "venture_capital", stage: "vc", deprecated: true }
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const C extends string>(options: VocabularyOptions<C>): Effect.Effect<Vocabulary<C>, VocabularyError> =>
  Effect.fromResult(makeResult(options))

/**
 * Compile a vocabulary known to be valid (module-level constants); throws
 * {@link VocabularyError} otherwise.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUnsafe = <const C extends string>(options: VocabularyOptions<C>): Vocabulary<C> => {
  const result = makeResult(options)
  if (Result.isFailure(result)) throw result.failure
  return result.success
}
