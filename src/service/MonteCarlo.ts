/**
 * The reference service's Monte-Carlo model of fund outcomes by stage: pure, synchronous,
 * seeded (same seed, same answer, on every platform).
 *
 * Model, per run: a fund makes `companies` equal-sized investments; each company's stage is
 * drawn from the (normalised) stage distribution; with the stage's loss probability the company
 * fails and returns a uniform 0–0.3× of its cost, otherwise it exits at a log-normal multiple
 * with the stage's median and log-space sigma, capped at 100×. The run's TVPI (total value to
 * paid-in) is the mean multiple. Across runs the service reports TVPI p10 / p50 / p90 (linear
 * interpolation between order statistics) and the mean.
 *
 * Parameters ({@link STAGE_PROFILES}) are illustrative, in the spirit of published venture
 * loss-ratio studies (earlier stage: more losses, fatter upside); they are documentation-grade
 * defaults, not investment advice. Stage values the boundary let through without recognising
 * them (warn, off, shadow) are simulated with the conservative {@link UNCLASSIFIED_PROFILE}.
 *
 * PRNG: sfc32 seeded through splitmix32 (32-bit, fast, passes PractRand to 2^40 bytes);
 * normals by Box–Muller. 1,000 runs × 25 companies take about a millisecond.
 *
 * @since 0.1.0
 */
import type { CanonicalStage } from "../normalizer/Stages.ts"

/**
 * One stage's outcome parameters.
 *
 * @since 0.1.0
 * @category models
 */
export interface StageProfile {
  /** probability that a company fails (returns 0–0.3× of cost) */
  readonly lossProbability: number
  /** median exit multiple of a surviving company */
  readonly medianExitMultiple: number
  /** log-space standard deviation of the exit multiple */
  readonly sigma: number
}

/**
 * Outcome parameters per canonical stage.
 *
 * @example
 * ```ts
 * import { STAGE_PROFILES } from "./MonteCarlo.ts" // internal: not part of the package's API
 * STAGE_PROFILES["seed"].lossProbability // => 0.65
 * ```
 * @since 0.1.0
 * @category constants
 */
export const STAGE_PROFILES: Readonly<Record<CanonicalStage, StageProfile>> = {
  "pre-seed": { lossProbability: 0.75, medianExitMultiple: 5, sigma: 1.2 },
  "seed": { lossProbability: 0.65, medianExitMultiple: 4, sigma: 1 },
  "series-a": { lossProbability: 0.5, medianExitMultiple: 3, sigma: 0.9 },
  "series-b": { lossProbability: 0.4, medianExitMultiple: 2.2, sigma: 0.8 },
  "series-c": { lossProbability: 0.3, medianExitMultiple: 1.8, sigma: 0.6 },
  "series-c+": { lossProbability: 0.2, medianExitMultiple: 1.5, sigma: 0.5 }
}

/**
 * The profile of weight whose stage was not recognised: a high loss rate and a modest upside.
 *
 * @since 0.1.0
 * @category constants
 */
export const UNCLASSIFIED_PROFILE: StageProfile = { lossProbability: 0.6, medianExitMultiple: 2.5, sigma: 1 }

/**
 * Most runs per request.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_RUNS = 100_000

/**
 * Default number of companies per simulated fund.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_COMPANIES = 25

const MAX_MULTIPLE = 100
const LOSS_RECOVERY_MAX = 0.3

/**
 * A seeded 32-bit PRNG (sfc32, seeded through splitmix32), returning floats in [0, 1).
 *
 * @example
 * ```ts
 * import { makeRandom } from "./MonteCarlo.ts" // internal: not part of the package's API
 * const a = makeRandom(42), b = makeRandom(42)
 * a() === b() // => true
 * ```
 * @since 0.1.0
 * @category random
 */
export const makeRandom = (seed: number): () => number => {
  let s = seed >>> 0
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) | 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
    return (z ^ (z >>> 15)) >>> 0
  }
  let a = splitmix(), b = splitmix(), c = splitmix(), d = splitmix()
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  for (let i = 0; i < 12; i++) next()
  return next
}

/**
 * Simulation input: canonical weights plus the weight of unrecognised stages.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulationInput {
  readonly runs: number
  readonly seed: number
  readonly companies?: number | undefined
  readonly distribution: ReadonlyArray<{ readonly stage: CanonicalStage; readonly weight: number }>
  readonly unclassifiedWeight?: number | undefined
}

/**
 * Simulation output.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulationResult {
  readonly runs: number
  readonly seed: number
  readonly companiesPerRun: number
  /** the canonical distribution, weights rescaled to sum 1 together with `unclassifiedWeight` */
  readonly distribution: ReadonlyArray<{ readonly stage: CanonicalStage; readonly weight: number }>
  readonly unclassifiedWeight: number
  readonly tvpi: { readonly p10: number; readonly p50: number; readonly p90: number; readonly mean: number }
  /** share of simulated companies that failed */
  readonly lossRatio: number
  readonly byStage: ReadonlyArray<{
    readonly stage: CanonicalStage
    readonly weight: number
    readonly lossProbability: number
    readonly medianExitMultiple: number
  }>
}

/**
 * Why a simulation cannot run.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulationProblem {
  readonly _tag: "SimulationProblem"
  readonly message: string
}

const quantile = (sorted: Float64Array, q: number): number => {
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6

/**
 * Runs the simulation. Returns a {@link SimulationProblem} (never throws) when the runs or
 * companies are out of range or the distribution has no positive weight.
 *
 * @example
 * ```ts
 * import { simulateFund } from "./MonteCarlo.ts" // internal: not part of the package's API
 * const input = { runs: 1000, seed: 7, distribution: [{ stage: "seed", weight: 0.5 }, { stage: "series-a", weight: 0.5 }] } as const
 * const a = simulateFund(input), b = simulateFund(input)
 * "tvpi" in a && "tvpi" in b && a.tvpi.p50 === b.tvpi.p50 // => true
 * ```
 * @since 0.1.0
 * @category simulating
 */
export const simulateFund = (input: SimulationInput): SimulationResult | SimulationProblem => {
  const runs = input.runs
  const companies = input.companies ?? DEFAULT_COMPANIES
  if (!Number.isInteger(runs) || runs < 1 || runs > MAX_RUNS) {
    return { _tag: "SimulationProblem", message: `runs must be an integer in 1…${MAX_RUNS}` }
  }
  if (!Number.isInteger(companies) || companies < 1 || companies > 200) {
    return { _tag: "SimulationProblem", message: "companies must be an integer in 1…200" }
  }
  const unclassifiedRaw = input.unclassifiedWeight ?? 0
  const profiles: Array<StageProfile> = []
  const weights: Array<number> = []
  let total = 0
  for (const entry of input.distribution) {
    if (Number.isFinite(entry.weight) && entry.weight > 0) {
      profiles.push(STAGE_PROFILES[entry.stage])
      weights.push(entry.weight)
      total += entry.weight
    }
  }
  const unclassified = Number.isFinite(unclassifiedRaw) && unclassifiedRaw > 0 ? unclassifiedRaw : 0
  if (unclassified > 0) {
    profiles.push(UNCLASSIFIED_PROFILE)
    weights.push(unclassified)
    total += unclassified
  }
  if (!(total > 0) || !Number.isFinite(total)) {
    return { _tag: "SimulationProblem", message: "the stage distribution has no positive weight" }
  }
  const k = profiles.length
  const cumulative = new Float64Array(k)
  const lossP = new Float64Array(k)
  const mu = new Float64Array(k)
  const sigma = new Float64Array(k)
  let acc = 0
  for (let i = 0; i < k; i++) {
    acc += weights[i]! / total
    cumulative[i] = acc
    lossP[i] = profiles[i]!.lossProbability
    mu[i] = Math.log(profiles[i]!.medianExitMultiple)
    sigma[i] = profiles[i]!.sigma
  }
  cumulative[k - 1] = 1

  const random = makeRandom(input.seed)
  const tvpis = new Float64Array(runs)
  let losses = 0
  let sum = 0
  let spare = Number.NaN
  for (let r = 0; r < runs; r++) {
    let value = 0
    for (let c = 0; c < companies; c++) {
      const u = random()
      let s = 0
      while (s < k - 1 && u >= cumulative[s]!) s++
      if (random() < lossP[s]!) {
        losses++
        value += random() * LOSS_RECOVERY_MAX
      } else {
        let z: number
        if (Number.isNaN(spare)) {
          const u1 = 1 - random() // (0, 1]
          const u2 = random()
          const radius = Math.sqrt(-2 * Math.log(u1))
          z = radius * Math.cos(2 * Math.PI * u2)
          spare = radius * Math.sin(2 * Math.PI * u2)
        } else {
          z = spare
          spare = Number.NaN
        }
        value += Math.min(Math.exp(mu[s]! + sigma[s]! * z), MAX_MULTIPLE)
      }
    }
    const tvpi = value / companies
    tvpis[r] = tvpi
    sum += tvpi
  }
  tvpis.sort()
  const distribution = input.distribution
    .filter((e) => Number.isFinite(e.weight) && e.weight > 0)
    .map((e) => ({ stage: e.stage, weight: round(e.weight / total) }))
  return {
    runs,
    seed: input.seed >>> 0,
    companiesPerRun: companies,
    distribution,
    unclassifiedWeight: round(unclassified / total),
    tvpi: {
      p10: round(quantile(tvpis, 0.1)),
      p50: round(quantile(tvpis, 0.5)),
      p90: round(quantile(tvpis, 0.9)),
      mean: round(sum / runs)
    },
    lossRatio: round(losses / (runs * companies)),
    byStage: distribution.map((e) => ({
      stage: e.stage,
      weight: e.weight,
      lossProbability: STAGE_PROFILES[e.stage].lossProbability,
      medianExitMultiple: STAGE_PROFILES[e.stage].medianExitMultiple
    }))
  }
}
