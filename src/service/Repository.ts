/**
 * The reference service's queries (effect/sql, bound parameters only). Every function fails with
 * the driver's `SqlError`; the handlers map it to a 503.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * @since 0.1.0
 * @category models
 */
export interface CompanyRow {
  readonly id: number
  readonly fund_id: number
  readonly name: string
  readonly stage: string | null
}

/**
 * @since 0.1.0
 * @category models
 */
export interface StrategyRow {
  readonly id: number
  readonly fund_id: number
  readonly name: string
  readonly stage_distribution: unknown
  readonly created_at: unknown
  readonly updated_at: unknown
}

/**
 * @since 0.1.0
 * @category models
 */
export interface AllocationRow {
  readonly id: number
  readonly fund_id: number
  readonly company_id: number | null
  readonly stage: string
  readonly amount: string | number
  readonly created_at: unknown
  readonly updated_at: unknown
}

const iso = (value: unknown): unknown => (value instanceof Date ? value.toISOString() : value)
const json = (value: unknown): unknown => (typeof value === "string" ? JSON.parse(value) : value)

/**
 * A strategy as the API returns it.
 *
 * @since 0.1.0
 * @category mapping
 */
export const strategyView = (row: StrategyRow) => ({
  id: row.id,
  fundId: row.fund_id,
  name: row.name,
  stageDistribution: json(row.stage_distribution),
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at)
})

/**
 * An allocation as the API returns it.
 *
 * @since 0.1.0
 * @category mapping
 */
export const allocationView = (row: AllocationRow) => ({
  id: row.id,
  fundId: row.fund_id,
  companyId: row.company_id,
  stage: row.stage,
  amount: Number(row.amount),
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at)
})

/**
 * Whether a fund exists.
 *
 * @since 0.1.0
 * @category queries
 */
export const fundExists = Effect.fnUntraced(function*(fundId: number) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ readonly id: number }>`SELECT id FROM funds WHERE id = ${fundId}`
  return rows.length > 0
})

/**
 * Whether a company exists and belongs to the fund.
 *
 * @since 0.1.0
 * @category queries
 */
export const companyInFund = Effect.fnUntraced(function*(fundId: number, companyId: number) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ readonly id: number }>`
    SELECT id FROM portfolio_companies WHERE id = ${companyId} AND fund_id = ${fundId}`
  return rows.length > 0
})

/**
 * A fund's companies, by id.
 *
 * @since 0.1.0
 * @category queries
 */
export const listCompanies = Effect.fnUntraced(function*(fundId: number) {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<CompanyRow>`
    SELECT id, fund_id, name, stage FROM portfolio_companies WHERE fund_id = ${fundId} ORDER BY id`
})

/**
 * Strategies, optionally of one fund, by id.
 *
 * @since 0.1.0
 * @category queries
 */
export const listStrategies = Effect.fnUntraced(function*(fundId: number | undefined) {
  const sql = yield* SqlClient.SqlClient
  return fundId === undefined
    ? yield* sql<StrategyRow>`SELECT * FROM strategies ORDER BY id LIMIT 1000`
    : yield* sql<StrategyRow>`SELECT * FROM strategies WHERE fund_id = ${fundId} ORDER BY id LIMIT 1000`
})

/**
 * Writes a strategy: `insert` fails on a duplicate (fund, name) by returning `undefined`;
 * `upsert` inserts or replaces; `update` changes an existing one (or returns `undefined`).
 *
 * @since 0.1.0
 * @category commands
 */
export const writeStrategy = Effect.fnUntraced(function*(
  kind: "insert" | "upsert" | "update",
  fundId: number,
  name: string,
  distribution: unknown
) {
  const sql = yield* SqlClient.SqlClient
  const doc = JSON.stringify(distribution)
  const rows = kind === "insert"
    ? yield* sql<StrategyRow>`
      INSERT INTO strategies (fund_id, name, stage_distribution) VALUES (${fundId}, ${name}, ${doc}::jsonb)
      ON CONFLICT (fund_id, name) DO NOTHING RETURNING *`
    : kind === "upsert"
    ? yield* sql<StrategyRow>`
      INSERT INTO strategies (fund_id, name, stage_distribution) VALUES (${fundId}, ${name}, ${doc}::jsonb)
      ON CONFLICT (fund_id, name) DO UPDATE SET stage_distribution = EXCLUDED.stage_distribution, updated_at = now()
      RETURNING *`
    : yield* sql<StrategyRow>`
      UPDATE strategies SET stage_distribution = ${doc}::jsonb, updated_at = now()
      WHERE fund_id = ${fundId} AND name = ${name} RETURNING *`
  return rows[0]
})

/**
 * Inserts an allocation.
 *
 * @since 0.1.0
 * @category commands
 */
export const insertAllocation = Effect.fnUntraced(function*(
  fundId: number,
  companyId: number | null,
  stage: string,
  amount: number
) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<AllocationRow>`
    INSERT INTO allocations (fund_id, company_id, stage, amount) VALUES (${fundId}, ${companyId}, ${stage}, ${amount})
    RETURNING *`
  return rows[0]!
})

/**
 * Updates an allocation of a fund (only the given fields); `undefined` when it does not exist.
 *
 * @since 0.1.0
 * @category commands
 */
export const updateAllocation = Effect.fnUntraced(function*(
  id: number,
  fundId: number,
  changes: { readonly companyId?: number | null; readonly stage?: string; readonly amount?: number }
) {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<AllocationRow>`
    UPDATE allocations SET
      company_id = CASE WHEN ${changes.companyId !== undefined} THEN ${changes.companyId ?? null}::integer ELSE company_id END,
      stage = COALESCE(${changes.stage ?? null}::text, stage),
      amount = COALESCE(${changes.amount ?? null}::numeric, amount),
      updated_at = now()
    WHERE id = ${id} AND fund_id = ${fundId}
    RETURNING *`
  return rows[0]
})
