/**
 * Peer (a), the floor: a plain `Map` lookup after `trim().toLowerCase()`, summing into per-stage
 * slots and emitting the canonical-ordered list. No Unicode folding, no deprecation tracking, no
 * suggestions, no weight validation: the least work any normaliser can do.
 */
import { CANONICAL_STAGES, type CanonicalStage, STAGE_ALIASES } from "../../src/normalizer/index.ts"

const table = new Map<string, number>()
CANONICAL_STAGES.forEach((stage, index) => table.set(stage, index))
for (const alias of STAGE_ALIASES) table.set(alias.alias.toLowerCase(), CANONICAL_STAGES.indexOf(alias.stage))

export const floorNormalize = (input: string): CanonicalStage | undefined => {
  const index = table.get(input.trim().toLowerCase())
  return index === undefined ? undefined : CANONICAL_STAGES[index]
}

export const floorParseDistribution = (entries: ReadonlyArray<{ readonly stage: string; readonly weight: number }>) => {
  const slots = [-1, -1, -1, -1, -1, -1]
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    const index = table.get(e.stage.trim().toLowerCase())
    if (index !== undefined) slots[index] = slots[index]! < 0 ? e.weight : slots[index]! + e.weight
  }
  const normalized: Array<{ stage: CanonicalStage; weight: number }> = []
  for (let i = 0; i < 6; i++) if (slots[i]! >= 0) normalized.push({ stage: CANONICAL_STAGES[i]!, weight: slots[i]! })
  return normalized
}
