/**
 * `--force-unknown`: mapping values the normaliser does not recognise onto a canonical stage, which
 * the migration otherwise never does. Two sources, and nothing else:
 *
 * - a **mapping file** (`--map file.json`): `{ "<stored value>": "<canonical stage>" }`, keys
 *   matched exactly against the stored string (as the unknown-values report prints them),
 *   validated against the vocabulary — every target canonical, every key a value the vocabulary
 *   does not already recognise (the file cannot override the alias table);
 * - the **edit-distance rule**: a value whose folded key is at edit distance 1 of exactly one
 *   canonical stage's keys (canonical or alias spellings), and at distance 1 of no other stage,
 *   maps to that stage — "serie a" → series-a, but not "series-x" (a, b and c are all one edit
 *   away) and never "early stage" (nothing is close). Keys too short for a one-edit suggestion
 *   (under 3 characters) are never forced.
 *
 * The edit-distance rule never forces a value with a character outside printable ASCII: a
 * Cyrillic `е` in `sеed` or a zero-width space in `series-a` is one edit from a stage and looks
 * exactly like it — such values are forced only when the mapping file names them (the CLI lists
 * them separately, escaped, in the preview and the confirmation).
 *
 * The file wins over the rule for its keys. Every forced row is audited with its reason
 * (`forced:map` or `forced:edit-distance-1`) and can be rolled back like any other.
 *
 * @since 0.1.0
 */
import { Effect, Result } from "effect"
import { readFile } from "node:fs/promises"
import { boundedEditDistance } from "../../normalizer/EditDistance.ts"
import { foldKey } from "../../normalizer/KeyFolding.ts"
import { normalizeStage } from "../../normalizer/NormalizeStage.ts"
import { stageVocabulary } from "../../normalizer/StageVocabulary.ts"
import { maxSuggestionDistance } from "../../normalizer/Suggestions.ts"
import type { Vocabulary } from "../../normalizer/Vocabulary.ts"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { InvalidMapping } from "../MigrationErrorReason.ts"
import { duplicateJsonKeys } from "./JsonDuplicateKeys.ts"

/**
 * How unknown values are forced (absent: never).
 *
 * @since 0.1.0
 * @category models
 */
export interface ForceUnknownOptions {
  /** Explicit mappings, stored value → canonical stage (validated with {@link parseMapping}). */
  readonly map?: Readonly<Record<string, string>> | undefined
  /** Also apply the edit-distance rule to values the map does not name (default true). */
  readonly editDistance?: boolean | undefined
}

/**
 * A forced mapping of one stored value.
 *
 * @since 0.1.0
 * @category models
 */
export interface ForcedMapping {
  readonly stage: string
  /** The audit reason: `forced:map` or `forced:edit-distance-1`. */
  readonly reason: "forced:map" | "forced:edit-distance-1"
}

/**
 * Whether a stored value holds a character outside printable ASCII (U+0020–U+007E): a look-alike
 * letter, an invisible or control character, or any other non-ASCII text. `--force-unknown` maps
 * such a value only when the mapping file names it.
 *
 * @example
 * ```ts
 * import { needsExplicitMapping } from "stage-normalization/migration"
 * needsExplicitMapping("serie a") // => false
 * needsExplicitMapping("s\u0435ed") // => true (Cyrillic е)
 * needsExplicitMapping("series\u200b-a") // => true (zero-width space)
 * ```
 * @since 0.3.0
 * @category forcing
 */
export const needsExplicitMapping = (value: string): boolean => !/^[\x20-\x7e]*$/.test(value)

/**
 * A stored value as an operator can read and compare it: JSON-quoted, every character outside
 * printable ASCII as `\uXXXX`.
 *
 * @example
 * ```ts
 * import { visibleValue } from "stage-normalization/migration"
 * visibleValue("s\u0435ed") // => '"s\\u0435ed"'
 * ```
 * @since 0.3.0
 * @category forcing
 */
export const visibleValue = (value: string): string =>
  JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/**
 * The one canonical stage within one edit of an unknown value, if exactly one is.
 *
 * @example
 * ```ts
 * import { uniqueStageAtEditDistance1 } from "./ForceUnknown.ts" // internal: not part of the package's API
 * uniqueStageAtEditDistance1("serie a")     // => "series-a"
 * uniqueStageAtEditDistance1("series-x")    // => undefined (a, b and c are one edit away)
 * uniqueStageAtEditDistance1("early stage") // => undefined
 * ```
 *
 * @since 0.1.0
 * @category forcing
 */
export const uniqueStageAtEditDistance1 = (
  value: string,
  vocabulary: Vocabulary<string> = stageVocabulary
): string | undefined => {
  if (normalizeStage(value, vocabulary)._tag === "Canonical") return undefined
  const key = foldKey(value)
  if (key === undefined || maxSuggestionDistance(key.length) < 1) return undefined
  const near = new Set<number>()
  for (const [candidate, index] of vocabulary.suggestionKeys) {
    if (boundedEditDistance(key, candidate, 1) <= 1) near.add(index)
    if (near.size > 1) return undefined
  }
  const [only] = near
  return only === undefined ? undefined : vocabulary.canonical[only]
}

/**
 * The forced stage of an unknown stored value under `options`, or `undefined` (left unchanged).
 *
 * @example
 * ```ts
 * import { forcedStage } from "./ForceUnknown.ts" // internal: not part of the package's API
 * forcedStage("early stage", { map: { "early stage": "seed" } }) // => { stage: "seed", reason: "forced:map" }
 * forcedStage("serie a", {})                                     // => { stage: "series-a", reason: "forced:edit-distance-1" }
 * forcedStage("venture", {})                                     // => undefined
 * forcedStage("s\u0435ed", {})                                   // => undefined (non-ASCII: only the map forces it)
 * ```
 *
 * @since 0.1.0
 * @category forcing
 */
export const forcedStage = (
  value: string,
  options: ForceUnknownOptions,
  vocabulary: Vocabulary<string> = stageVocabulary
): ForcedMapping | undefined => {
  const mapped = options.map !== undefined && Object.hasOwn(options.map, value) ? options.map[value] : undefined
  if (mapped !== undefined) return { stage: mapped, reason: "forced:map" }
  if (options.editDistance === false || needsExplicitMapping(value)) return undefined
  const stage = uniqueStageAtEditDistance1(value, vocabulary)
  return stage === undefined ? undefined : { stage, reason: "forced:edit-distance-1" }
}

const invalid = (where: string, detail: string) =>
  new MigrationError({ reason: new InvalidMapping({ detail: `${where}: ${detail}` }) })

/**
 * Validate a mapping file's text: a JSON object of stored value → canonical stage, each key named
 * once (`JSON.parse` would keep the last of two silently). Every problem is reported, by key.
 *
 * @example
 * ```ts
 * import { parseMapping } from "stage-normalization/migration"
 * parseMapping('{ "early stage": "seed" }')  // => Result.succeed({ "early stage": "seed" })
 * parseMapping('{ "early stage": "Seed" }')  // => Result.fail(InvalidMapping: … not a canonical stage …)
 * parseMapping('{ "Series A": "seed" }')     // => Result.fail(InvalidMapping: … already normalised …)
 * parseMapping('{ "bridge": "seed", "bridge": "series-a" }') // => Result.fail(InvalidMapping: "bridge" named more than once …)
 * ```
 *
 * @since 0.1.0
 * @category forcing
 */
export const parseMapping = (
  text: string,
  source = "mapping file",
  vocabulary: Vocabulary<string> = stageVocabulary
): Result.Result<Readonly<Record<string, string>>, MigrationError> => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    return Result.fail(invalid(source, `not valid JSON (${describeCause(e)})`))
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return Result.fail(invalid(source, `expected a JSON object {"<stored value>": "<canonical stage>"}, got ${Array.isArray(parsed) ? "an array" : parsed === null ? "null" : typeof parsed}`))
  }
  const duplicates = duplicateJsonKeys(text)
  if (duplicates.length > 0) {
    return Result.fail(invalid(source, `${duplicates.map((k) => JSON.stringify(k)).join(", ")} named more than once: which mapping is meant?`))
  }
  const entries = Object.entries(parsed as Record<string, unknown>)
  if (entries.length === 0) return Result.fail(invalid(source, "no mappings"))
  const problems: Array<string> = []
  const map: Record<string, string> = Object.create(null)
  for (const [key, target] of entries) {
    if (typeof target !== "string") {
      problems.push(`${JSON.stringify(key)} maps to ${JSON.stringify(target)}, not a string`)
      continue
    }
    if (!vocabulary.order.has(target)) {
      problems.push(`${JSON.stringify(key)} maps to ${JSON.stringify(target)}, not a canonical stage (${vocabulary.canonical.join(", ")})`)
      continue
    }
    const known = normalizeStage(key, vocabulary)
    if (known._tag === "Canonical") {
      problems.push(`${JSON.stringify(key)} is already normalised to ${known.stage} by the vocabulary; the map only applies to unknown values`)
      continue
    }
    map[key] = target
  }
  return problems.length > 0 ? Result.fail(invalid(source, problems.join("; "))) : Result.succeed(map)
}

/**
 * Read and validate a mapping file (see {@link parseMapping}).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { readMappingFile } from "stage-normalization/migration"
 * const program = readMappingFile("stage-map.json").pipe(Effect.map((m) => Object.keys(m).length))
 * ```
 *
 * @since 0.1.0
 * @category forcing
 */
export const readMappingFile = (path: string, vocabulary: Vocabulary<string> = stageVocabulary) =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (cause) => invalid(path, `cannot read it (${describeCause(cause)})`)
  }).pipe(Effect.flatMap((text) => Effect.fromResult(parseMapping(text, path, vocabulary))))
