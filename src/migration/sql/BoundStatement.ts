/**
 * The pieces every batch statement is built from: a `BoundStatement` (SQL text and its bound
 * parameters, for `sql.unsafe`), the parameter list that numbers and casts placeholders, the
 * partition a batch may touch, and the id-range predicate `(lo, hi]`. `exec` runs a statement
 * with the `SqlClient` in the environment.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import type { ResolvedTarget } from "../schema/Target.ts"

/**
 * Which rows a batch may touch besides its id range.
 *
 * @since 0.1.0
 * @category models
 */
export type Partition =
  | { readonly _tag: "All" }
  | { readonly _tag: "Fund"; readonly fund: string | null }

/**
 * @since 0.1.0
 * @category constants
 */
export const ALL_ROWS: Partition = { _tag: "All" }

/**
 * A statement and its parameters, for `sql.unsafe(text, params)`.
 *
 * @since 0.1.0
 * @category models
 */
export interface BoundStatement {
  readonly text: string
  readonly params: ReadonlyArray<unknown>
}

/** Bound parameters: each `add` appends a value and returns its cast placeholder (`$3::int`). */
export class Params {
  readonly values: Array<unknown> = []
  add(value: unknown, cast: string): string {
    this.values.push(value)
    return `$${this.values.length}::${cast}`
  }
}

/** The partition's condition on the fund column (`TRUE` for all rows). */
export const partitionPredicate = (target: ResolvedTarget, partition: Partition, p: Params, alias = "t"): string => {
  if (partition._tag === "All" || target.fund === undefined) return "TRUE"
  return partition.fund === null
    ? `${alias}.${target.fund.sql} IS NULL`
    : `${alias}.${target.fund.sql} = ${p.add(partition.fund, `text::${target.fund.type}`)}`
}

/** The id range `(lo, hi]` (either end open when null). */
export const rangePredicate = (
  target: ResolvedTarget,
  p: Params,
  lo: string | null,
  hi: string | null,
  alias = "t"
): string => {
  const id = `${alias}.${target.id.sql}`
  const parts: Array<string> = []
  if (lo !== null) parts.push(`${id} > ${p.add(lo, `text::${target.id.type}`)}`)
  if (hi !== null) parts.push(`${id} <= ${p.add(hi, `text::${target.id.type}`)}`)
  return parts.length === 0 ? "TRUE" : parts.join(" AND ")
}


/**
 * Run a bound statement with the `SqlClient` in the environment.
 *
 * @example
 * ```ts
 * import { exec } from "./BoundStatement.ts" // internal: not part of the package's API
 * const rows = exec<{ n: number }>({ text: "SELECT $1::int AS n", params: [1] })
 * ```
 *
 * @since 0.2.0
 * @category running
 */
export const exec = <A extends object>(statement: BoundStatement) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.unsafe<A>(statement.text, statement.params)
  })
