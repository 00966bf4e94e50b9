/**
 * Single `normalizeStage` calls over eight realistic spellings, against the floor (Map after
 * trim + toLowerCase), the regex chain, and our normaliser with its memo disabled (every call
 * folds from scratch: the cost of a never-seen spelling).
 */
import { CANONICAL_STAGES, normalizeStage, STAGE_ALIASES, Vocabulary } from "../../src/normalizer/index.ts"
import { SPELLINGS } from "../fixtures/stages.ts"
import { floorNormalize } from "../peers/mapFloor.ts"
import { regexNormalize } from "../peers/regexNormalizer.ts"
import type { BenchSuite } from "../suite.ts"

const uncached = Vocabulary.makeUnsafe({ name: "stage", canonical: CANONICAL_STAGES, aliases: STAGE_ALIASES, cacheSize: 0 })
// Spellings not in the exact table: they always take the folding path when the memo is off.
const MESSY = ["SERIES   a", "pre_SEED round", "Series c plus", "  growth stage", "seed.round", "series-B", "ＳＥＥＤ", "series-x"]
let sink: unknown

export const suite: BenchSuite = {
  name: "normalize-stage",
  description: "one normalizeStage call (batches of 8 spellings)",
  tasks: [
    { name: "floor: Map after trim+toLowerCase", floor: true, batch: 8, fn: () => { for (const s of SPELLINGS) sink = floorNormalize(s) } },
    { name: "normalizeStage", batch: 8, fn: () => { for (const s of SPELLINGS) sink = normalizeStage(s) } },
    { name: "normalizeStage (messy, memoised)", batch: 8, fn: () => { for (const s of MESSY) sink = normalizeStage(s) } },
    { name: "normalizeStage (messy, no memo)", batch: 8, fn: () => { for (const s of MESSY) sink = normalizeStage(s, uncached) } },
    { name: "peer: regex chain", batch: 8, fn: () => { for (const s of SPELLINGS) sink = regexNormalize(s) } }
  ]
}
export const keepAlive = () => sink
