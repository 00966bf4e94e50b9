/**
 * The stage alias table, as data: every accepted non-canonical spelling, the canonical stage it
 * names and the package version it was added in. This is the single source of truth; the SQL
 * twin, the docs table and the conformance vectors are generated from or checked against it.
 *
 * Several spellings fold to the same key ("Series A", "series_a" and "series-a" all fold to
 * `series-a`); they are listed anyway because the table doubles as the documentation of what
 * clients send. Genuinely ambiguous words ("early stage", "venture", "bridge", "series" alone,
 * "angel", "pre-ipo") are deliberately absent: fail-closed beats a wrong guess.
 *
 * @since 0.1.0
 */
import type { AliasEntry } from "./Vocabulary.ts"
import type { CanonicalStage } from "./Stages.ts"

const since = "0.1.0"

const entries = (stage: CanonicalStage, spellings: ReadonlyArray<string>): ReadonlyArray<AliasEntry<CanonicalStage>> =>
  spellings.map((alias) => ({ alias, stage, since }))

/**
 * Accepted aliases of the canonical stages.
 *
 * @since 0.1.0
 * @category constants
 */
export const STAGE_ALIASES: ReadonlyArray<AliasEntry<CanonicalStage>> = [
  ...entries("pre-seed", ["Pre-Seed", "pre seed", "pre_seed", "Pre Seed Round", "preseed", "PreSeed"]),
  ...entries("seed", ["Seed", "Seed Round", "seed stage", "Series Seed"]),
  ...entries("series-a", ["Series A", "series_a", "Series-A", "Series A Round", "SeriesA"]),
  ...entries("series-b", ["Series B", "series_b", "Series-B", "Series B Round", "SeriesB"]),
  ...entries("series-c", ["Series C", "series_c", "Series-C", "Series C Round", "SeriesC"]),
  ...entries("series-c+", [
    "Series C+",
    "Series C Plus",
    "series_c_plus",
    "SeriesC+",
    "SeriesCPlus",
    // the seeds' deprecated variants
    "late-stage",
    "growth",
    "growth-stage",
    // later rounds
    "series-d",
    "SeriesD",
    "series-e",
    "SeriesE",
    "series-f",
    "SeriesF",
    "series-g",
    "SeriesG",
    "series-h",
    "SeriesH"
  ])
]
