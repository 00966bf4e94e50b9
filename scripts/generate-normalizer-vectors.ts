/**
 * Writes vectors/normalizer.json from the curated inputs below and the current normaliser.
 * Run it only when behaviour changes on purpose, then review the diff: the vectors pin what
 * clients in any language can rely on.
 *
 *   node scripts/generate-normalizer-vectors.ts
 */
import { writeFileSync } from "node:fs"
import { CANONICAL_STAGES, normalizeStage, STAGE_ALIASES } from "../src/normalizer/index.ts"

const curated: ReadonlyArray<readonly [string, string]> = [
  // canonical spellings: not deprecated, also after trimming ASCII whitespace
  ...CANONICAL_STAGES.map((s) => [s, "canonical spelling"] as const),
  ...CANONICAL_STAGES.map((s) => [` ${s} `, "canonical, surrounding spaces"] as const),
  ...CANONICAL_STAGES.map((s) => [`\t${s}\n`, "canonical, tab and newline"] as const),
  ...CANONICAL_STAGES.map((s) => [s.toUpperCase(), "canonical in upper case: an alias"] as const),
  // every listed alias
  ...STAGE_ALIASES.map((a) => [a.alias, `alias of ${a.stage}`] as const),
  // case and separator variants
  ["SERIES A", "upper case"],
  ["series.a", "dot separator"],
  ["series--a", "separator run"],
  ["Series   A", "space run"],
  ["series_a_round", "trailing round"],
  ["Series B stage", "trailing stage"],
  ["PRE SEED", "upper pre seed"],
  ["Pre-seed stage", "pre-seed stage"],
  ["seed-round", "seed-round"],
  ["series c plus", "plus word"],
  ["SERIES-C-PLUS", "plus word, upper"],
  ["series c+", "plus sign after space"],
  ["Series C +", "plus sign separated"],
  ["series-c + round", "plus then round"],
  ["Series D", "later round"],
  ["series e", "later round"],
  ["SERIES F", "later round"],
  ["series-g round", "later round with round"],
  ["Late Stage", "seed 000 deprecated variant"],
  ["late_stage", "seed 000 deprecated variant"],
  ["late", "late-stage folds to late"],
  ["Growth Stage", "growth stage"],
  ["GROWTH", "growth upper"],
  ["series\r\na", "CR LF inside: a separator"],
  ["series\u00a0a", "no-break space becomes a space under NFKC"],
  ["series\u3000a", "ideographic space under NFKC"],
  ["ＳＥＲＩＥＳ Ａ", "full-width letters under NFKC"],
  ["ｓｅｅｄ", "full-width seed"],
  ["Ｓｅｒｉｅｓ Ｃ＋", "full-width plus"],
  [" ".repeat(60) + "seed", "64 characters: still folded"],
  // unknown: ambiguous words stay unknown (fail-closed)
  ["", "empty"],
  ["   ", "whitespace only"],
  ["series", "series alone is ambiguous"],
  ["early stage", "ambiguous"],
  ["early", "ambiguous"],
  ["venture", "ambiguous"],
  ["bridge", "ambiguous"],
  ["angel", "not mapped"],
  ["pre-ipo", "not mapped"],
  ["ipo", "not mapped"],
  ["stage", "the word stage alone"],
  ["round", "the word round alone"],
  ["plus", "the word plus alone"],
  // unknown with suggestions: typos
  ["series-x", "typo: suggestions"],
  ["seedd", "typo"],
  ["sed", "typo, short"],
  ["serie a", "typo"],
  ["sereis-a", "transposition"],
  ["series-aa", "typo"],
  ["series a1", "typo"],
  ["pre-sed", "typo"],
  ["preseeed", "typo"],
  ["series-i", "later rounds stop at h"],
  ["series-z", "typo"],
  ["seed plus", "seed+ is not a stage"],
  ["series-c++", "double plus"],
  ["seed round round", "only one trailing word is dropped"],
  ["seed.", "trailing separator"],
  ["-seed", "leading separator"],
  ["series a!", "punctuation"],
  // unknown: look-alikes and invisible characters are never mapped
  ["sеries-a", "Cyrillic е look-alike"],
  ["ѕeed", "Cyrillic ѕ look-alike"],
  ["series\u200b-a", "zero-width space"],
  ["se\u200ded", "zero-width joiner"],
  ["\ufeffseed", "byte order mark"],
  ["SERİES A", "Turkish dotted capital I"],
  ["seed\u0301", "combining accent"],
  ["🚀 seed", "emoji"],
  // unknown: long input is never scanned
  ["a".repeat(65), "65 characters: unknown, no suggestions"],
  [" ".repeat(61) + "seed", "65 characters with padding"],
  ["series-a".repeat(100), "800 characters"],
  // unknown: JavaScript-special names are ordinary strings
  ["__proto__", "prototype name"],
  ["constructor", "prototype name"],
  ["toString", "prototype name"],
  ["hasOwnProperty", "prototype name"],
  ["1", "number as string"],
  ["0.5", "number as string"],
  ["NaN", "NaN-like"],
  ["null", "null-like"],
  ["undefined", "undefined-like"],
  ["true", "boolean-like"],
  ["Seed  Round", "double space before round"],
  ["pre-Seed", "mixed case"],
  ["preseed round", "alias plus trailing round"],
  ["Series Seed Round", "series seed round"],
  ["series-c-plus-round", "plus and round"],
  ["series h", "last listed later round"],
  ["series b+", "b+ is not a stage"],
  ["Angel Round", "angel stays unknown"],
  ["Seed Stage Round", "one trailing word only"]
]

const seen = new Set<string>()
const cases = curated
  .filter(([input]) => (seen.has(input) ? false : (seen.add(input), true)))
  .map(([input, note]) => {
    const r = normalizeStage(input)
    return r._tag === "Canonical"
      ? { input, note, expected: { tag: "Canonical", stage: r.stage, deprecated: r.deprecated } }
      : { input, note, expected: { tag: "Unknown", suggestions: r.suggestions } }
  })

const document = {
  $comment: "Conformance vectors for stage normalisation. Format: see vectors/README.md.",
  format: 1,
  canonical: CANONICAL_STAGES,
  cases
}
writeFileSync(new URL("../vectors/normalizer.json", import.meta.url), JSON.stringify(document, null, 2) + "\n")
console.log(`wrote ${cases.length} cases`)
