/**
 * Schema decoding: peer (c) is effect's `Schema.Literals` decoding already-canonical input; ours
 * is the `Stage` schema (which also accepts aliases), interpreted and with the Schema JIT.
 */
import { Schema } from "effect"
import {
  CANONICAL_STAGES,
  makeDistributionSchema,
  makeStageSchema,
  Stage,
  StageDistribution,
  stageVocabulary
} from "../../src/normalizer/index.ts"
import type { BenchSuite } from "../suite.ts"

// Fresh schemas, interpreted and JIT-compiled, so both modes are measured side by side.
const StageInterpreted = makeStageSchema(stageVocabulary, { jit: false })
const StageJit = makeStageSchema(stageVocabulary, { jit: true })
const DistributionInterpreted = makeDistributionSchema(stageVocabulary, { jit: false })
const DistributionJit = makeDistributionSchema(stageVocabulary, { jit: true })
const Literals = Schema.Literals(CANONICAL_STAGES)
const decodeLiterals = Schema.decodeUnknownSync(Literals)
const decodeStageInterpreted = Schema.decodeUnknownSync(StageInterpreted)
const decodeStageJit = Schema.decodeUnknownSync(StageJit)
const decodeStage = Schema.decodeUnknownSync(Stage)
const decodeDistributionInterpreted = Schema.decodeUnknownSync(DistributionInterpreted)
const decodeDistributionJit = Schema.decodeUnknownSync(DistributionJit)
const decodeDistribution = Schema.decodeUnknownSync(StageDistribution)
const canonical = [...CANONICAL_STAGES]
const distribution = [{ stage: "seed", weight: 0.25 }, { stage: "Series A", weight: 0.25 }, { stage: "series_b", weight: 0.25 }, { stage: "growth", weight: 0.25 }]
let sink: unknown

export const suite: BenchSuite = {
  name: "schema",
  description: "Schema decoding of canonical input (batches of 6)",
  tasks: [
    { name: "peer: Schema.Literals decode", floor: true, batch: 6, fn: () => { for (const s of canonical) sink = decodeLiterals(s) } },
    { name: "Stage decode (interpreted)", batch: 6, fn: () => { for (const s of canonical) sink = decodeStageInterpreted(s) } },
    { name: "Stage decode (JIT)", batch: 6, fn: () => { for (const s of canonical) sink = decodeStageJit(s) } },
    { name: "Stage decode (as exported)", batch: 6, fn: () => { for (const s of canonical) sink = decodeStage(s) } },
    { name: "StageDistribution decode, 4 entries (interpreted)", fn: () => { sink = decodeDistributionInterpreted(distribution) } },
    { name: "StageDistribution decode, 4 entries (JIT)", fn: () => { sink = decodeDistributionJit(distribution) } },
    { name: "StageDistribution decode, 4 entries (as exported)", fn: () => { sink = decodeDistribution(distribution) } }
  ]
}
export const keepAlive = () => sink
