/**
 * The reference service's Monte-Carlo: deterministic per seed, sensible by stage, bounded.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeRandom, simulateFund, type SimulationResult } from "../../src/service/MonteCarlo.ts"

const run = (input: Parameters<typeof simulateFund>[0]): SimulationResult => {
  const r = simulateFund(input)
  if ("_tag" in r) throw new Error(r.message)
  return r
}

describe("simulateFund", () => {
  it("same seed, same answer; another seed, another answer", () => {
    const input = { runs: 1000, seed: 42, distribution: [{ stage: "seed", weight: 0.4 }, { stage: "series-a", weight: 0.6 }] } as const
    assert.deepStrictEqual(run(input), run(input))
    assert.notDeepEqual(run(input).tvpi, run({ ...input, seed: 43 }).tvpi)
  })

  it("percentiles are ordered; earlier stages lose more often", () => {
    const early = run({ runs: 2000, seed: 1, distribution: [{ stage: "pre-seed", weight: 1 }] })
    const late = run({ runs: 2000, seed: 1, distribution: [{ stage: "series-c+", weight: 1 }] })
    assert.isTrue(early.tvpi.p10 <= early.tvpi.p50 && early.tvpi.p50 <= early.tvpi.p90)
    assert.isTrue(early.lossRatio > late.lossRatio)
    assert.isTrue(Math.abs(late.lossRatio - 0.2) < 0.02)
    assert.isTrue(early.tvpi.p90 - early.tvpi.p10 > late.tvpi.p90 - late.tvpi.p10)
  })

  it("rescales weights and simulates unrecognised weight separately", () => {
    const r = run({ runs: 10, seed: 3, distribution: [{ stage: "seed", weight: 1 }], unclassifiedWeight: 1 })
    assert.deepStrictEqual(r.distribution, [{ stage: "seed", weight: 0.5 }])
    assert.strictEqual(r.unclassifiedWeight, 0.5)
  })

  it("refuses bad input without throwing", () => {
    assert.deepStrictEqual(simulateFund({ runs: 0, seed: 1, distribution: [{ stage: "seed", weight: 1 }] }), {
      _tag: "SimulationProblem",
      message: "runs must be an integer in 1…100000"
    })
    assert.strictEqual((simulateFund({ runs: 5, seed: 1, distribution: [] }) as { _tag: string })._tag, "SimulationProblem")
    assert.strictEqual((simulateFund({ runs: 5, seed: 1, distribution: [{ stage: "seed", weight: Infinity }] }) as { _tag: string })._tag, "SimulationProblem")
  })

  it("the PRNG is uniform enough", () => {
    const random = makeRandom(7)
    const bins = new Array<number>(10).fill(0)
    for (let i = 0; i < 100_000; i++) bins[Math.floor(random() * 10)]!++
    for (const b of bins) assert.isTrue(Math.abs(b - 10_000) < 400)
  })
})
