/**
 * The history a real migration meets: companies whose stage was typed by people over years —
 * canonical values, the common alias spellings, NULLs, and the reference service's few unknown
 * values ("Angel", "bridge", "venture") — spread over the three demo funds.
 */
import type { Database } from "./backends.ts"

const SPELLINGS: ReadonlyArray<string | null> = [
  "seed", "series-a", "series-b", "Series A", "pre_seed", "Pre-Seed", "growth", "Series B",
  "series_b", "SERIES C", "series-c+", "Seed Round", "late-stage", "seed", "series-a", null
]

const literal = (s: string | null): string => (s === null ? "NULL" : `'${s.replaceAll("'", "''")}'`)

/** Inserts `rows` companies (after the service created its schema); returns how many. */
export const seedHistoricalCompanies = async (db: Database, rows: number): Promise<number> => {
  await db.query(
    `INSERT INTO portfolio_companies (fund_id, name, stage)
     SELECT 1 + g % 3, 'Historical company ' || g, (ARRAY[${SPELLINGS.map(literal).join(", ")}]::text[])[1 + g % ${SPELLINGS.length}]
       FROM generate_series(1, ${rows}) AS g`
  )
  return rows
}
