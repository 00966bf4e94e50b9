/**
 * Peer (b): a regex-chain normaliser like the one the seeds replaced ("brittle regex removed"):
 * each rule is tried in order until one matches. Kept only for the benchmark.
 */
import type { CanonicalStage } from "../../src/normalizer/index.ts"

const rules: ReadonlyArray<readonly [RegExp, CanonicalStage]> = [
  [/^\s*pre[\s_.-]*seed([\s_.-]*(round|stage))?\s*$/i, "pre-seed"],
  [/^\s*(series[\s_.-]*)?seed([\s_.-]*(round|stage))?\s*$/i, "seed"],
  [/^\s*series[\s_.-]*a([\s_.-]*(round|stage))?\s*$/i, "series-a"],
  [/^\s*series[\s_.-]*b([\s_.-]*(round|stage))?\s*$/i, "series-b"],
  [/^\s*series[\s_.-]*c([\s_.-]*(round|stage))?\s*$/i, "series-c"],
  [/^\s*(series[\s_.-]*c[\s_.-]*(\+|plus)|late[\s_.-]*stage|growth([\s_.-]*stage)?|series[\s_.-]*[d-h])\s*$/i, "series-c+"]
]

export const regexNormalize = (input: string): CanonicalStage | undefined => {
  for (const [re, stage] of rules) if (re.test(input)) return stage
  return undefined
}

export const regexParseDistribution = (entries: ReadonlyArray<{ readonly stage: string; readonly weight: number }>) => {
  const totals = new Map<CanonicalStage, number>()
  const invalid: Array<string> = []
  for (const e of entries) {
    const stage = regexNormalize(e.stage)
    if (stage === undefined) invalid.push(e.stage)
    else totals.set(stage, (totals.get(stage) ?? 0) + e.weight)
  }
  return { normalized: Array.from(totals, ([stage, weight]) => ({ stage, weight })), invalid }
}
