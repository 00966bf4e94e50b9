/**
 * Single `normalizeStage` calls.
 *
 * - `normalize-stage`: eight realistic spellings, against the floor (Map after trim +
 *   toLowerCase) and the regex chain; messy spellings through the memo.
 * - `normalize-stage-uncached`: never-seen spellings (the memo off, every call folds from
 *   scratch, one in eight unknown and scanned for suggestions) against a floor doing the same
 *   kinds of work the textbook way (see `bench/peers/textbookUncached.ts`). Its own suite because
 *   a ratio between such different work and a bare `Map` lookup moves with the machine (56× on
 *   the baseline's machine, 62–77× on others with the same code), which a +25 % gate cannot tell
 *   from a regression.
 */
import { CANONICAL_STAGES, normalizeStage, STAGE_ALIASES, Vocabulary } from "../../src/normalizer/index.ts"
import { SPELLINGS } from "../fixtures/stages.ts"
import { floorNormalize } from "../peers/mapFloor.ts"
import { regexNormalize } from "../peers/regexNormalizer.ts"
import { textbookNormalize } from "../peers/textbookUncached.ts"
import type { BenchSuite } from "../suite.ts"

const uncached = Vocabulary.makeUnsafe({ name: "stage", canonical: CANONICAL_STAGES, aliases: STAGE_ALIASES, cacheSize: 0 })
// Spellings not in the exact table: they always take the folding path when the memo is off.
const MESSY = ["SERIES   a", "pre_SEED round", "Series c plus", "  growth stage", "seed.round", "series-B", "ＳＥＥＤ", "series-x"]
let sink: unknown

export const suites: ReadonlyArray<BenchSuite> = [
  {
    name: "normalize-stage",
    description: "one normalizeStage call (batches of 8 spellings)",
    tasks: [
      { name: "floor: Map after trim+toLowerCase", floor: true, batch: 8, fn: () => { for (const s of SPELLINGS) sink = floorNormalize(s) } },
      { name: "normalizeStage", batch: 8, fn: () => { for (const s of SPELLINGS) sink = normalizeStage(s) } },
      { name: "normalizeStage (messy, memoised)", batch: 8, fn: () => { for (const s of MESSY) sink = normalizeStage(s) } },
      { name: "peer: regex chain", batch: 8, fn: () => { for (const s of SPELLINGS) sink = regexNormalize(s) } }
    ]
  },
  {
    name: "normalize-stage-uncached",
    description: "one never-seen spelling (memo off; batches of 8 messy spellings, one unknown)",
    tasks: [
      { name: "floor: regex fold + Map + full-matrix OSA", floor: true, batch: 8, fn: () => { for (const s of MESSY) sink = textbookNormalize(s) } },
      { name: "normalizeStage (messy, no memo)", batch: 8, fn: () => { for (const s of MESSY) sink = normalizeStage(s, uncached) } }
    ]
  }
]
export const keepAlive = () => sink
