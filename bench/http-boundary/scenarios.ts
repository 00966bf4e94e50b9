/**
 * The requests the boundary benchmark sends: one body per scenario, the rollout state it is
 * measured under, the status and headers the boundary must answer with (checked before
 * measuring), and the goal for the boundary's extra server CPU. Internal to the benchmark.
 */
import type { ModeName } from "./hosts.ts"

/** A measured request kind. */
export interface Scenario {
  readonly name: string
  readonly mode: ModeName
  readonly stages: ReadonlyArray<{ readonly stage: string; readonly weight: number }>
  /** the boundary's status (the baseline always answers 200) */
  readonly boundaryStatus: number
  /** a header the boundary must send (lower-case), checked once before measuring */
  readonly mustHave: string
  /** goal: extra server CPU per request, percent of the no-boundary server's (null: reported only) */
  readonly goalPercent: number | null
  readonly description: string
}

const CANONICAL = [
  { stage: "seed", weight: 0.3 },
  { stage: "series-a", weight: 0.3 },
  { stage: "series-b", weight: 0.2 },
  { stage: "series-c", weight: 0.2 }
]
const ONE_ALIAS = [
  { stage: "seed", weight: 0.3 },
  { stage: "Series A", weight: 0.3 },
  { stage: "series-b", weight: 0.2 },
  { stage: "series-c", weight: 0.2 }
]
const FIVE_ALIASES = [
  { stage: "Pre-Seed", weight: 0.1 },
  { stage: "Seed", weight: 0.2 },
  { stage: "Series A", weight: 0.3 },
  { stage: "Series B", weight: 0.2 },
  { stage: "growth", weight: 0.2 }
]
const INVALID = [
  { stage: "seed", weight: 0.3 },
  { stage: "Series Z", weight: 0.3 },
  { stage: "series-b", weight: 0.2 },
  { stage: "series-c", weight: 0.2 }
]

/** Every scenario, grouped by rollout state (a state is set once per group and round). */
export const SCENARIOS: ReadonlyArray<Scenario> = [
  {
    name: "canonical",
    mode: "warn",
    stages: CANONICAL,
    boundaryStatus: 200,
    mustHave: "x-request-id",
    goalPercent: 3,
    description: "four canonical stages, warn: the boundary adds x-request-id only"
  },
  {
    name: "one-alias",
    mode: "warn",
    stages: ONE_ALIAS,
    boundaryStatus: 200,
    mustHave: "x-stage-deprecated-variants",
    goalPercent: 5,
    description: "one alias (Series A), warn: + X-Stage-Deprecated-Variants, Deprecation, Link, X-Stage-Recommendation, X-Stage-Docs"
  },
  {
    name: "five-aliases",
    mode: "warn",
    stages: FIVE_ALIASES,
    boundaryStatus: 200,
    mustHave: "x-stage-deprecated-variants",
    goalPercent: 10,
    description: "five aliases, warn: the same five headers, a longer echoed list"
  },
  {
    name: "invalid-warn",
    mode: "warn",
    stages: INVALID,
    boundaryStatus: 200,
    mustHave: "x-stage-recommendation",
    goalPercent: null,
    description: "one unknown stage (Series Z), warn: X-Stage-Recommendation, X-Stage-Docs"
  },
  {
    name: "invalid-shadow",
    mode: "shadow",
    stages: INVALID,
    boundaryStatus: 200,
    mustHave: "x-stage-would-reject",
    goalPercent: null,
    description: "one unknown stage, shadow (dry run): + X-Stage-Would-Reject"
  },
  {
    name: "invalid-enforce",
    mode: "enforce",
    stages: INVALID,
    boundaryStatus: 400,
    mustHave: "x-stage-recommendation",
    goalPercent: 10,
    description: "one unknown stage, enforce: the boundary answers the contract's 400 (the baseline runs the handler)"
  }
]

/** The request body of a scenario: the reference service's simulate request with few runs. */
export const bodyOf = (scenario: Scenario, runs: number): string =>
  JSON.stringify({ fundId: 1, runs, seed: 42, stageDistribution: scenario.stages })
