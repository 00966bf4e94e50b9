/**
 * `parseStageDistribution` at the seeds' sizes (4, 100, 500, 1,000 and 5,000 entries) against the
 * floor and the regex chain. The seeds' p99 budgets (100 → 1 ms, 500 → 2.5 ms, 1,000 → 5 ms,
 * 5,000 → 25 ms) are reported with their margin.
 */
import { parseStageDistribution } from "../../src/normalizer/index.ts"
import { distribution } from "../fixtures/stages.ts"
import { floorParseDistribution } from "../peers/mapFloor.ts"
import { regexParseDistribution } from "../peers/regexNormalizer.ts"
import type { BenchSuite } from "../suite.ts"

let sink: unknown
const small = distribution(500)
const budgets: Record<number, number> = { 100: 1, 500: 2.5, 1000: 5, 5000: 25 }

const make = (n: number): BenchSuite => {
  const input = distribution(n)
  const batch = n <= 4 ? 64 : n <= 500 ? 4 : 1
  const repeat = (f: () => unknown) => () => {
    for (let i = 0; i < batch; i++) sink = f()
  }
  const budget = budgets[n]
  return {
    name: `distribution-${n}`,
    description: `parseStageDistribution of ${n} entries`,
    timeMs: n >= 1000 ? 400 : 300,
    tasks: [
      { name: "floor: Map after trim+toLowerCase", floor: true, batch, fn: repeat(() => floorParseDistribution(input)) },
      { name: "parseStageDistribution", batch, fn: repeat(() => parseStageDistribution(input)) },
      { name: "peer: regex chain", batch, fn: repeat(() => regexParseDistribution(input)) },
      // The scaling check measures 500 entries in the same run: 10 parses per call.
      ...(n === 5000 ? [{ name: "parseStageDistribution (500 entries)", batch: 10, fn: () => { for (let i = 0; i < 10; i++) sink = parseStageDistribution(small) } }] : [])
    ],
    goals: [
      { description: "p99 ≤ 2× the floor's p99", task: "parseStageDistribution", against: "floor", metric: "p99", maxRatio: 2 },
      ...(n === 5000
        ? [{ description: "linear: 5,000 / 500 time ≤ 11", task: "parseStageDistribution", against: "parseStageDistribution (500 entries)", metric: "mean" as const, maxRatio: 11 }]
        : [])
    ],
    ...(budget === undefined ? {} : { budgetsMs: { parseStageDistribution: budget } })
  }
}

export const suites: ReadonlyArray<BenchSuite> = [4, 100, 500, 1000, 5000].map(make)
export const keepAlive = () => sink
