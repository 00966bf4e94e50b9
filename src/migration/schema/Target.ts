/**
 * The target of a migration — a table, the column holding stages, its unique id column and an
 * optional fund column — resolved against the catalog before anything is written. Every problem
 * an operator can cause (a table that does not exist, a misspelt column, a column of the wrong
 * type, an id that is not unique, a fund id that is not of the fund column's type) is a
 * `MigrationError` input error naming the problem.
 *
 * Kinds: `scalar` is a `text` / `varchar` column holding one stage; `distribution` a `jsonb`
 * column holding `[{ stage, weight }, …]` or `{ stage: weight }`. The kind is inferred from the
 * column type unless given.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { CANONICAL_STAGES } from "../../normalizer/Stages.ts"
import { MigrationError, queryFailed } from "../MigrationError.ts"
import { ColumnNotFound, IdNotUnique, InvalidOptions, TableNotFound, WrongColumnType } from "../MigrationErrorReason.ts"

/**
 * @since 0.1.0
 * @category models
 */
export type TargetKind = "scalar" | "distribution"

/**
 * What the operator names.
 *
 * @since 0.1.0
 * @category models
 */
export interface TargetSpec {
  /** Table, optionally schema-qualified (default `portfolio_companies`). */
  readonly table?: string | undefined
  /** Column holding the stage or distribution (default `stage`). */
  readonly column?: string | undefined
  /** Unique id column batches are keyed on (default `id`). */
  readonly idColumn?: string | undefined
  /** Fund column: a name, `null` for none, or absent to use `fund_id` when it exists. */
  readonly fundColumn?: string | null | undefined
  /** Inferred from the column type when absent. */
  readonly kind?: TargetKind | undefined
}

/**
 * A column as the catalog describes it.
 *
 * @since 0.1.0
 * @category models
 */
export interface ColumnInfo {
  readonly name: string
  /** The quoted identifier, ready for SQL. */
  readonly sql: string
  /** `format_type` of the column, usable in casts (`$1::text::<type>`). */
  readonly type: string
  readonly attnum: number
}

/**
 * A resolved target.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResolvedTarget {
  readonly oid: number
  readonly schema: string
  readonly table: string
  /** `schema.table`, as recorded in the tracking tables. */
  readonly label: string
  /** `"schema"."table"`, ready for SQL. */
  readonly sql: string
  readonly column: ColumnInfo
  readonly id: ColumnInfo
  readonly fund: ColumnInfo | undefined
  readonly kind: TargetKind
  /** A valid btree index leads with (fund, id): per-fund keyset batches are cheap. */
  readonly hasFundIdIndex: boolean
}

/**
 * Quote an identifier for PostgreSQL.
 *
 * @example
 * ```ts
 * import { quoteIdentifier } from "./Target.ts" // internal: not part of the package's API
 * quoteIdentifier("Stage \"x\"") // => "\"Stage \"\"x\"\"\""
 * ```
 *
 * @since 0.1.0
 * @category sql
 */
export const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, "\"\"")}"`

const SCALAR_TYPES = new Set(["text", "varchar", "character varying"])
const LONGEST_CANONICAL = Math.max(...CANONICAL_STAGES.map((s) => s.length))


interface CatalogColumn {
  readonly attname: string
  readonly attnum: number
  readonly type: string
  readonly typname: string
}

const inputError = (reason: TableNotFound | ColumnNotFound | WrongColumnType | IdNotUnique | InvalidOptions) =>
  new MigrationError({ reason })

/** The table the spec names (search_path or schema-qualified), which must be a table. */
const lookupTable = (tableName: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const tables = yield* sql<{ oid: string; nspname: string; relname: string; relkind: string }>`
      SELECT c.oid::int8::text AS oid, n.nspname, c.relname, c.relkind::text AS relkind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass(${tableName})`.pipe(
      Effect.catchTag("SqlError", (e) =>
        e.reason._tag === "SqlSyntaxError" || e.reason._tag === "UnknownError"
          ? Effect.fail(inputError(new TableNotFound({ detail: `${JSON.stringify(tableName)} is not a valid table name` })))
          : Effect.fail(queryFailed(`looking up table ${tableName}`)(e)))
    )
    const table = tables[0]
    if (table === undefined) {
      const searched = tableName.includes(".") ? "the given schema" : "the search_path"
      return yield* inputError(new TableNotFound({ detail: `table ${JSON.stringify(tableName)} does not exist (searched ${searched})` }))
    }
    const label = `${table.nspname}.${table.relname}`
    if (table.relkind !== "r" && table.relkind !== "p") {
      return yield* inputError(new TableNotFound({ detail: `${label} is not a table (relkind ${table.relkind})` }))
    }
    return { oid: Number(table.oid), schema: table.nspname, name: table.relname, label }
  })

/** The table's columns, and finding one by name (exact, else the one case-insensitive match). */
const readColumns = (oid: number, label: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const columns = yield* sql<CatalogColumn>`
      SELECT a.attname, a.attnum::int AS attnum, format_type(a.atttypid, a.atttypmod) AS type, t.typname
      FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = ${oid}::int8::oid AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`.pipe(Effect.mapError(queryFailed(`reading the columns of ${label}`)))
    const find = (name: string): CatalogColumn | undefined => {
      const exact = columns.find((c) => c.attname === name)
      if (exact !== undefined) return exact
      const folded = columns.filter((c) => c.attname.toLowerCase() === name.toLowerCase())
      return folded.length === 1 ? folded[0] : undefined
    }
    const column = (name: string, role: string) => {
      const c = find(name)
      if (c === undefined) {
        const names = columns.map((x) => x.attname).join(", ")
        return Effect.fail(inputError(new ColumnNotFound({ detail: `${label} has no ${role} column ${JSON.stringify(name)} (columns: ${names})` })))
      }
      return Effect.succeed(c)
    }
    return { find, column }
  })

const infoOf = (c: CatalogColumn): ColumnInfo => ({ name: c.attname, sql: quoteIdentifier(c.attname), type: c.type, attnum: c.attnum })

/** What the stage column holds, from its type: scalar stages, distributions, or a wrong type. */
const kindOf = (label: string, stage: CatalogColumn, requested: TargetKind | undefined) => {
  const inferred: TargetKind | undefined = SCALAR_TYPES.has(stage.typname) || stage.typname === "varchar"
    ? "scalar"
    : stage.typname === "jsonb"
    ? "distribution"
    : undefined
  const name = stage.attname
  const holds = (kind: TargetKind) => (kind === "scalar" ? "scalar stages" : "distributions")
  if (inferred === undefined) {
    const hint = stage.typname === "json" ? " — convert it with ALTER COLUMN … TYPE jsonb" : ""
    return Effect.fail(inputError(new WrongColumnType({
      detail: `${label}.${name} is ${stage.type}; expected text or varchar (scalar stages) or jsonb (distributions)${hint}`
    })))
  }
  if (requested !== undefined && requested !== inferred) {
    return Effect.fail(inputError(new WrongColumnType({ detail: `${label}.${name} is ${stage.type}, which holds ${holds(inferred)}, not ${holds(requested)}` })))
  }
  const length = /^character varying\((\d+)\)$/.exec(stage.type)
  if (length !== null && Number(length[1]) < LONGEST_CANONICAL) {
    return Effect.fail(inputError(new WrongColumnType({ detail: `${label}.${name} is ${stage.type}, too short for the canonical stage "series-c+"` })))
  }
  return Effect.succeed(inferred)
}

/** Batches need a unique, ordered id: a primary key or unique index on the id column alone. */
const requireUniqueId = (oid: number, label: string, id: ColumnInfo) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const unique = yield* sql<{ ok: boolean }>`
      SELECT EXISTS (
        SELECT 1 FROM pg_index i
        WHERE i.indrelid = ${oid}::int8::oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
          AND i.indnkeyatts = 1 AND i.indkey[0] = ${id.attnum}
      ) AS ok`.pipe(Effect.mapError(queryFailed(`checking that ${label}.${id.name} is unique`)))
    if (unique[0]?.ok !== true) {
      return yield* inputError(new IdNotUnique({
        detail: `${label}.${id.name} has no primary key or unique index of its own; batches need a unique, ordered id (--id-column)`
      }))
    }
  })

/** Is there a valid btree index leading with (fund, id)? */
const hasFundIdIndexOn = (oid: number, label: string, fund: ColumnInfo, id: ColumnInfo) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ ok: boolean }>`
      SELECT EXISTS (
        SELECT 1 FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_am am ON am.oid = ic.relam
        WHERE i.indrelid = ${oid}::int8::oid AND i.indisvalid AND i.indpred IS NULL AND am.amname = 'btree'
          AND i.indnkeyatts >= 2 AND i.indkey[0] = ${fund.attnum} AND i.indkey[1] = ${id.attnum}
      ) AS ok`.pipe(Effect.mapError(queryFailed(`looking for a (${fund.name}, ${id.name}) index on ${label}`)))
    return rows[0]?.ok === true
  })

/**
 * Resolve a {@link TargetSpec} against the catalog.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { resolveTarget } from "stage-normalization/migration"
 * const program = resolveTarget({ table: "portfolio_companies", column: "stage" }).pipe(
 *   Effect.map((t) => `${t.label}.${t.column.name} (${t.kind})`)
 * )
 * ```
 *
 * @since 0.1.0
 * @category targets
 */
export const resolveTarget = Effect.fn("Migration.resolveTarget")(function*(spec: TargetSpec) {
  const table = yield* lookupTable(spec.table ?? "portfolio_companies")
  const { label, oid } = table
  const columns = yield* readColumns(oid, label)
  const stageColumn = yield* columns.column(spec.column ?? "stage", "stage")
  const kind = yield* kindOf(label, stageColumn, spec.kind)
  const stage = infoOf(stageColumn)
  const id = infoOf(yield* columns.column(spec.idColumn ?? "id", "id"))
  if (id.name === stage.name) return yield* inputError(new InvalidOptions({ detail: "the id column and the stage column are the same" }))
  yield* requireUniqueId(oid, label, id)
  const detected = spec.fundColumn === undefined ? columns.find("fund_id") : undefined
  const fund: ColumnInfo | undefined = spec.fundColumn === null
    ? undefined
    : spec.fundColumn !== undefined
    ? infoOf(yield* columns.column(spec.fundColumn, "fund"))
    : detected === undefined ? undefined : infoOf(detected)
  if (fund !== undefined && (fund.name === stage.name || fund.name === id.name)) {
    return yield* inputError(new InvalidOptions({ detail: `the fund column ${fund.name} cannot also be the ${fund.name === id.name ? "id" : "stage"} column` }))
  }
  return {
    oid,
    schema: table.schema,
    table: table.name,
    label,
    sql: `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`,
    column: stage,
    id,
    fund,
    kind,
    hasFundIdIndex: fund === undefined ? false : yield* hasFundIdIndexOn(oid, label, fund, id)
  } satisfies ResolvedTarget as ResolvedTarget
})

/**
 * Check that `fundId` is a value of the target's fund column type (and that it has one), and that
 * the target has rows for that fund: an unknown fund id is refused, not migrated as an empty run.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { checkFundId } from "./Target.ts" // internal: not part of the package's API
 * import { resolveTarget } from "stage-normalization/migration"
 * const program = resolveTarget({}).pipe(Effect.flatMap((t) => checkFundId(t, "42")))
 * ```
 *
 * @since 0.1.0
 * @category targets
 */
export const checkFundId = Effect.fn("Migration.checkFundId")(function*(target: ResolvedTarget, fundId: string) {
  const sql = yield* SqlClient.SqlClient
  if (target.fund === undefined) {
    return yield* new MigrationError({
      reason: new InvalidOptions({
        detail: `--fund-id needs a fund column, and ${target.label} has none (name it with --fund-column)`
      })
    })
  }
  const fund = target.fund
  yield* sql.unsafe(`SELECT $1::text::${fund.type} AS fund`, [fundId]).pipe(
    Effect.mapError((cause) =>
      new MigrationError({
        reason: new InvalidOptions({
          detail: `fund id ${JSON.stringify(fundId)} is not a valid ${fund.type} (${target.label}.${fund.name})`,
          cause
        })
      })
    )
  )
  // a fund with no rows is a mistyped id far more often than an empty fund: refuse it before any run exists
  const [found] = yield* sql.unsafe<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${target.sql} AS t WHERE t.${fund.sql} = $1::text::${fund.type}) AS found`,
    [fundId]
  ).pipe(Effect.mapError(queryFailed(`checking that fund ${JSON.stringify(fundId)} has rows in ${target.label}`)))
  if (found?.found !== true) {
    return yield* new MigrationError({
      reason: new InvalidOptions({
        detail: `no rows for fund ${JSON.stringify(fundId)} in ${target.label}.${fund.name}: check --fund-id (nothing was changed)`
      })
    })
  }
})
