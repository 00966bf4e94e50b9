/**
 * The reference service's tables and demo data, created on start, idempotently (a transaction
 * holding an advisory lock, `CREATE TABLE IF NOT EXISTS`, inserts `ON CONFLICT DO NOTHING`), so
 * several instances may start at once against one database.
 *
 * ```
 * funds(id, name, vintage, size_usd)
 * portfolio_companies(id, fund_id → funds, name, stage TEXT)          -- messy stages on purpose
 * strategies(id, fund_id → funds, name, stage_distribution JSONB, created_at, updated_at)
 * allocations(id, fund_id → funds, company_id → portfolio_companies, stage, amount, created_at)
 * ```
 *
 * `portfolio_companies.stage` holds the spellings a real platform accumulates ("Series A",
 * "seed stage", "growth", "series_b", and a few unknown ones such as "bridge"), which is what the
 * migration (`stage-normalization migrate`, default target `portfolio_companies.stage`) cleans up.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

const LOCK_KEY = 7_436_021 // arbitrary, stable: "stage-normalization reference schema"

/**
 * Demo funds: `[id, name, vintage, size_usd]`.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEMO_FUNDS: ReadonlyArray<readonly [number, string, number, number]> = [
  [1, "Press On Ventures I", 2019, 50_000_000],
  [2, "Press On Ventures II", 2022, 120_000_000],
  [3, "Press On Opportunities", 2024, 80_000_000]
]

/**
 * Demo portfolio companies: `[fund_id, name, stage as stored]`.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEMO_COMPANIES: ReadonlyArray<readonly [number, string, string | null]> = [
  [1, "Acme Robotics", "Series A"],
  [1, "Brightline Health", "seed stage"],
  [1, "Cobalt Data", "series-a"],
  [1, "Driftwood Labs", "Pre-Seed"],
  [1, "Evergreen Energy", "growth"],
  [1, "Foxglove Bio", "series_b"],
  [1, "Granite Security", "Seed Round"],
  [1, "Harbor Logistics", "bridge"],
  [2, "Ion Materials", "SeriesB"],
  [2, "Juniper AI", "series-c"],
  [2, "Kestrel Space", "Series C+"],
  [2, "Lumen Payments", "late-stage"],
  [2, "Meridian Foods", "seed"],
  [2, "Nimbus Cloud", "series d"],
  [2, "Orchid Retail", "Angel"],
  [2, "Pioneer Mobility", null],
  [3, "Quartz Analytics", "pre seed"],
  [3, "Redwood Climate", "Series A Round"],
  [3, "Summit Legal", "series-b"],
  [3, "Tidal Water", "SERIES  C"],
  [3, "Umber Games", "venture"]
]

/**
 * Demo strategies: `[fund_id, name, stage_distribution as stored]`.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEMO_STRATEGIES: ReadonlyArray<readonly [number, string, unknown]> = [
  [1, "Early focus", [{ stage: "Pre-Seed", weight: 0.3 }, { stage: "seed", weight: 0.5 }, { stage: "Series A", weight: 0.2 }]],
  [2, "Balanced", { "seed": 0.25, "series-a": 0.35, "series_b": 0.25, "growth": 0.15 }],
  [3, "Late opportunities", [{ stage: "series-c", weight: 0.6 }, { stage: "late-stage", weight: 0.4 }]]
]

/**
 * Creates the tables (if missing) and inserts the demo rows (if missing).
 *
 * @example
 * ```ts
 * import { ensureServiceSchema } from "./ServiceSchema.ts" // internal: not part of the package's API
 * // yield* ensureServiceSchema  (needs SqlClient)
 * ```
 * @since 0.1.0
 * @category schema
 */
export const ensureServiceSchema = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.withTransaction(Effect.gen(function*() {
    yield* sql`SELECT pg_advisory_xact_lock(${LOCK_KEY})`
    yield* sql`CREATE TABLE IF NOT EXISTS funds (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      vintage INTEGER NOT NULL,
      size_usd NUMERIC(18, 2) NOT NULL
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS portfolio_companies (
      id SERIAL PRIMARY KEY,
      fund_id INTEGER NOT NULL REFERENCES funds (id),
      name TEXT NOT NULL,
      stage TEXT,
      UNIQUE (fund_id, name)
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS strategies (
      id SERIAL PRIMARY KEY,
      fund_id INTEGER NOT NULL REFERENCES funds (id),
      name TEXT NOT NULL,
      stage_distribution JSONB NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (fund_id, name)
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS allocations (
      id SERIAL PRIMARY KEY,
      fund_id INTEGER NOT NULL REFERENCES funds (id),
      company_id INTEGER REFERENCES portfolio_companies (id),
      stage TEXT NOT NULL,
      amount NUMERIC(18, 2) NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`
    yield* sql`CREATE INDEX IF NOT EXISTS portfolio_companies_fund_idx ON portfolio_companies (fund_id)`
    yield* sql`CREATE INDEX IF NOT EXISTS allocations_fund_idx ON allocations (fund_id)`
    for (const [id, name, vintage, size] of DEMO_FUNDS) {
      yield* sql`INSERT INTO funds (id, name, vintage, size_usd) VALUES (${id}, ${name}, ${vintage}, ${size})
        ON CONFLICT (id) DO NOTHING`
    }
    for (const [fundId, name, stage] of DEMO_COMPANIES) {
      yield* sql`INSERT INTO portfolio_companies (fund_id, name, stage) VALUES (${fundId}, ${name}, ${stage})
        ON CONFLICT (fund_id, name) DO NOTHING`
    }
    for (const [fundId, name, distribution] of DEMO_STRATEGIES) {
      yield* sql`INSERT INTO strategies (fund_id, name, stage_distribution)
        VALUES (${fundId}, ${name}, ${JSON.stringify(distribution)}::jsonb)
        ON CONFLICT (fund_id, name) DO NOTHING`
    }
  }))
})
