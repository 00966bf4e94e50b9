/**
 * What every verification check needs: the run (with its baselines, parameters and whether it was
 * rolled back), the resolved target, the fund scope, a query function, and small helpers to build
 * check results. Internal to `Verify`; the report schema is the public contract.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { Vocabulary } from "../../normalizer/Vocabulary.ts"
import type { RunQuery } from "../backup/BackupStats.ts"
import type { ForceUnknownOptions } from "../run/ForceUnknown.ts"
import type { ResolvedTarget } from "../schema/Target.ts"
import { CHECK_NAMES, type CheckExample, type CheckResult, type CheckStatus } from "./VerifyReport.ts"

/**
 * A run as verification reads it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunDetail {
  readonly runId: string
  readonly status: string
  readonly kind: "scalar" | "distribution"
  readonly fundId: string | null
  readonly startedAt: string
  readonly finishedAt: string | null
  readonly rowsTotal: number
  readonly rowsNull: number
  readonly rowsUpdated: number
  readonly rowsSkipped: number
  readonly rowsFailed: number
  readonly vocabularyVersion: string
  readonly force: ForceUnknownOptions | undefined
  readonly rolledBackBy: string | null
  /** The transaction that created the run (absent for runs made before tracking migration 4). */
  readonly startXid?: string | null | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface VerifyContext {
  readonly run: RunDetail
  readonly target: ResolvedTarget
  /** The fund filter of the checks: `verify --fund-id`, else the run's own, else none. */
  readonly fundId: string | null
  /** `verify --fund-id` narrows the run (table-wide counters of the run are then not comparable). */
  readonly fundScoped: boolean
  readonly sampleSize: number
  readonly vocabulary: Vocabulary<string>
  readonly query: RunQuery
}

/**
 * Most examples kept per check.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_EXAMPLES = 20

/**
 * A parameter list for one statement: `bind` returns the placeholder.
 *
 * @since 0.1.0
 * @category sql
 */
export const params = () => {
  const values: Array<unknown> = []
  return {
    values,
    bind: (value: unknown, cast: string): string => {
      values.push(value)
      return `$${values.length}::${cast}`
    }
  }
}

/**
 * The fund filter on alias `t` (`TRUE` without one).
 *
 * @since 0.1.0
 * @category sql
 */
export const fundFilter = (ctx: VerifyContext, bind: (value: unknown, cast: string) => string, alias = "t"): string =>
  ctx.fundId === null || ctx.target.fund === undefined
    ? "TRUE"
    : `${alias}.${ctx.target.fund.sql} = ${bind(ctx.fundId, `text::${ctx.target.fund.type}`)}`

/**
 * The worst of some statuses (`fail` > `warn` > `pass` > `skipped`).
 *
 * @since 0.1.0
 * @category checks
 */
export const worst = (statuses: ReadonlyArray<CheckStatus>): CheckStatus =>
  statuses.includes("fail") ? "fail" : statuses.includes("warn") ? "warn" : statuses.includes("pass") ? "pass" : "skipped"

const TITLES: Readonly<Record<(typeof CHECK_NAMES)[number], string>> = {
  batches: "Every batch of the run succeeded",
  canonical: "Every value is canonical or a reported unknown",
  nulls: "No new NULLs",
  "row-count": "Row count unchanged",
  audit: "Audit consistent with the table",
  sample: "Random sample re-normalised in TypeScript",
  funds: "Per-fund breakdown",
  distributions: "Distribution weights",
  "non-stage-content": "Everything but the stages kept exactly"
}

/**
 * Build a check result.
 *
 * @since 0.1.0
 * @category checks
 */
export const check = (
  name: (typeof CHECK_NAMES)[number],
  status: CheckStatus,
  summary: string,
  counts: Readonly<Record<string, number>> = {},
  examples: ReadonlyArray<CheckExample> = []
): CheckResult => ({
  id: CHECK_NAMES.indexOf(name) + 1,
  name,
  title: TITLES[name],
  status,
  summary,
  counts,
  examples: examples.slice(0, MAX_EXAMPLES)
})

/**
 * An example row.
 *
 * @since 0.1.0
 * @category checks
 */
export const example = (
  pk: string | null,
  value: string | null,
  expected: string | null,
  note: string
): CheckExample => ({ pk, value, expected, note })

/**
 * Plural helper for summaries.
 *
 * @since 0.1.0
 * @category rendering
 */
export const n = (count: number, noun: string, plural = `${noun}s`): string =>
  `${count.toLocaleString("en-US")} ${count === 1 ? noun : plural}`

/**
 * Number of a text column (the driver returns bigint counts as text).
 *
 * @since 0.1.0
 * @category sql
 */
export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v))

/**
 * Deep equality of two JSON values, ignoring object key order.
 *
 * @example
 * ```ts
 * jsonEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }) // => true
 * ```
 *
 * @since 0.1.0
 * @category checks
 */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const bb = b as ReadonlyArray<unknown>
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]))
  }
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  return ka.length === kb.length &&
    ka.every((k) => Object.hasOwn(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

/**
 * Run a check, turning a query failure into a `fail` of that check (the other checks still run).
 *
 * @since 0.1.0
 * @category checks
 */
export const guarded = (
  name: (typeof CHECK_NAMES)[number],
  body: Effect.Effect<CheckResult, unknown>
): Effect.Effect<CheckResult> =>
  body.pipe(
    Effect.catch((e) =>
      Effect.succeed(
        check(name, "fail", `could not run the check: ${e instanceof Error ? e.message : String(e)}`)
      )
    )
  )
