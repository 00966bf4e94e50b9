/**
 * The index helper (`stage-normalization index`): the seeds' indexes for a migration target,
 * built `CONCURRENTLY` (writers are not blocked), one statement at a time outside any
 * transaction, idempotently:
 *
 * - a partial index on the stage column `WHERE <stage> NOT IN (<canonical stages>)`, which makes
 *   "how many non-canonical values remain" (progress, `BackfillStatus`) an index-only question
 *   (scalar columns only);
 * - `(fund, stage)` for the application's per-fund queries (scalar columns with a fund column);
 * - `(fund, id)`, which lets the runner batch per fund with keyset pagination (any column kind
 *   with a fund column).
 *
 * An index that exists and is valid is left alone. An INVALID leftover of an interrupted
 * `CREATE INDEX CONCURRENTLY` is dropped (`DROP INDEX CONCURRENTLY`) and rebuilt. The embedded
 * database builds them without `CONCURRENTLY` (it has a single session, so nothing to block).
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { sqlStringLiteral } from "../../normalizer/SqlTwin.ts"
import { stageVocabulary } from "../../normalizer/StageVocabulary.ts"
import type { Vocabulary } from "../../normalizer/Vocabulary.ts"
import { queryFailed } from "../MigrationError.ts"
import { quoteIdentifier, type ResolvedTarget } from "../schema/Target.ts"
import { isEmbeddedDatabase } from "../schema/TargetLock.ts"
import { elapsedSince, nowMillis } from "../../shared/WallClock.ts"

/**
 * One index of the plan and its state in the database.
 *
 * @since 0.1.0
 * @category models
 */
export interface IndexPlanEntry {
  readonly name: string
  readonly purpose: string
  /** The `CREATE INDEX CONCURRENTLY IF NOT EXISTS …` statement. */
  readonly statement: string
  readonly state: "missing" | "valid" | "invalid"
}

/**
 * What {@link applyIndexes} did to one index.
 *
 * @since 0.1.0
 * @category models
 */
export interface IndexOutcome {
  readonly name: string
  readonly action: "created" | "exists" | "rebuilt"
  readonly durationMs: number
}

// FNV-1a, for a short suffix when a name has to be truncated to 63 bytes.
const shortHash = (text: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(16).padStart(8, "0")
}

/**
 * A PostgreSQL identifier from parts, truncated (with a hash) to 63 bytes.
 *
 * @example
 * ```ts
 * import { indexName } from "./Indexes.ts" // internal: not part of the package's API
 * indexName(["idx", "portfolio_companies", "stage", "noncanonical"]) // => "idx_portfolio_companies_stage_noncanonical"
 * ```
 *
 * @since 0.1.0
 * @category indexes
 */
export const indexName = (parts: ReadonlyArray<string>): string => {
  const name = parts.join("_").toLowerCase().replace(/[^a-z0-9_]+/g, "_")
  return name.length <= 63 ? name : `${name.slice(0, 54)}_${shortHash(name)}`
}

const definitions = (target: ResolvedTarget, vocabulary: Vocabulary<string>) => {
  const on = (name: string, body: string) => ({
    name,
    statement: `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${quoteIdentifier(name)} ON ${target.sql} ${body}`
  })
  const list: Array<{ name: string; purpose: string; statement: string }> = []
  if (target.kind === "scalar") {
    const canonical = vocabulary.canonical.map(sqlStringLiteral).join(", ")
    list.push({
      ...on(
        indexName(["idx", target.table, target.column.name, "noncanonical"]),
        `(${target.column.sql}) WHERE ${target.column.sql} NOT IN (${canonical})`
      ),
      purpose: "non-canonical values (remaining work, BackfillStatus)"
    })
  }
  if (target.fund !== undefined) {
    if (target.kind === "scalar") {
      list.push({
        ...on(indexName(["idx", target.table, target.fund.name, target.column.name]), `(${target.fund.sql}, ${target.column.sql})`),
        purpose: "per-fund stage queries"
      })
    }
    list.push({
      ...on(indexName(["idx", target.table, target.fund.name, target.id.name]), `(${target.fund.sql}, ${target.id.sql})`),
      purpose: "per-fund keyset batches of the migration"
    })
  }
  return list
}


/**
 * The indexes for a target and whether each exists (valid or INVALID).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { planIndexes, resolveTarget } from "stage-normalization/migration"
 * const program = resolveTarget({}).pipe(Effect.flatMap((t) => planIndexes(t)))
 * ```
 *
 * @since 0.1.0
 * @category indexes
 */
export const planIndexes = Effect.fn("Migration.planIndexes")(function*(
  target: ResolvedTarget,
  vocabulary: Vocabulary<string> = stageVocabulary
) {
  const sql = yield* SqlClient.SqlClient
  const defs = definitions(target, vocabulary)
  const states = yield* sql<{ relname: string; valid: boolean }>`
    SELECT c.relname, i.indisvalid AS valid
    FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${target.schema} AND c.relname IN ${sql.in(defs.map((d) => d.name))}`.pipe(
    Effect.mapError(queryFailed(`reading the indexes of ${target.label}`))
  )
  return defs.map((d): IndexPlanEntry => {
    const found = states.find((s) => s.relname === d.name)
    return { ...d, state: found === undefined ? "missing" : found.valid ? "valid" : "invalid" }
  })
})

/**
 * Create the missing indexes (and rebuild INVALID ones), one after the other.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { applyIndexes, resolveTarget } from "stage-normalization/migration"
 * const program = resolveTarget({}).pipe(Effect.flatMap((t) => applyIndexes(t)))
 * ```
 *
 * @since 0.1.0
 * @category indexes
 */
export const applyIndexes = Effect.fn("Migration.applyIndexes")(function*(
  target: ResolvedTarget,
  vocabulary: Vocabulary<string> = stageVocabulary,
  onStart: (entry: IndexPlanEntry) => Effect.Effect<void> = () => Effect.void
) {
  const sql = yield* SqlClient.SqlClient
  const concurrently = !(yield* isEmbeddedDatabase)
  const plan = yield* planIndexes(target, vocabulary)
  const outcomes: Array<IndexOutcome> = []
  for (const entry of plan) {
    const started = yield* nowMillis
    if (entry.state === "valid") {
      outcomes.push({ name: entry.name, action: "exists", durationMs: 0 })
      continue
    }
    yield* onStart(entry)
    const adapt = (statement: string) => (concurrently ? statement : statement.replace(" CONCURRENTLY", ""))
    if (entry.state === "invalid") {
      yield* sql.unsafe(adapt(`DROP INDEX CONCURRENTLY IF EXISTS ${quoteIdentifier(target.schema)}.${quoteIdentifier(entry.name)}`))
        .unprepared.pipe(Effect.mapError(queryFailed(`dropping the invalid index ${entry.name}`)))
    }
    yield* sql.unsafe(adapt(entry.statement)).unprepared.pipe(Effect.mapError(queryFailed(`creating ${entry.name}`)))
    outcomes.push({ name: entry.name, action: entry.state === "invalid" ? "rebuilt" : "created", durationMs: yield* elapsedSince(started) })
  }
  return outcomes as ReadonlyArray<IndexOutcome>
})
