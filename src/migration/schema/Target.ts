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
  const sql = yield* SqlClient.SqlClient
  const tableName = spec.table ?? "portfolio_companies"
  const columnName = spec.column ?? "stage"
  const idName = spec.idColumn ?? "id"

  const tables = yield* sql<{ oid: string; nspname: string; relname: string; relkind: string }>`
    SELECT c.oid::int8::text AS oid, n.nspname, c.relname, c.relkind::text AS relkind
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = to_regclass(${tableName})`.pipe(
    Effect.catchTag("SqlError", (e) =>
      e.reason._tag === "SqlSyntaxError" || e.reason._tag === "UnknownError"
        ? Effect.fail(
          new MigrationError({ reason: new TableNotFound({ detail: `${JSON.stringify(tableName)} is not a valid table name` }) })
        )
        : Effect.fail(queryFailed(`looking up table ${tableName}`)(e)))
  )
  const table = tables[0]
  if (table === undefined) {
    return yield* new MigrationError({
      reason: new TableNotFound({
        detail: `table ${JSON.stringify(tableName)} does not exist (searched ${
          tableName.includes(".") ? "the given schema" : "the search_path"
        })`
      })
    })
  }
  const label = `${table.nspname}.${table.relname}`
  if (table.relkind !== "r" && table.relkind !== "p") {
    return yield* new MigrationError({ reason: new TableNotFound({ detail: `${label} is not a table (relkind ${table.relkind})` }) })
  }
  const oid = Number(table.oid)
  const columns = yield* sql<{ attname: string; attnum: number; type: string; typname: string }>`
    SELECT a.attname, a.attnum::int AS attnum, format_type(a.atttypid, a.atttypmod) AS type, t.typname
    FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
    WHERE a.attrelid = ${oid}::int8::oid AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attnum`.pipe(Effect.mapError(queryFailed(`reading the columns of ${label}`)))

  const find = (name: string) => {
    const exact = columns.find((c) => c.attname === name)
    if (exact !== undefined) return exact
    const folded = columns.filter((c) => c.attname.toLowerCase() === name.toLowerCase())
    return folded.length === 1 ? folded[0] : undefined
  }
  const column = (name: string, role: string) => {
    const c = find(name)
    if (c === undefined) {
      return Effect.fail(
        new MigrationError({
          reason: new ColumnNotFound({
            detail: `${label} has no ${role} column ${JSON.stringify(name)} (columns: ${
              columns.map((x) => x.attname).join(", ")
            })`
          })
        })
      )
    }
    return Effect.succeed<ColumnInfo>({ name: c.attname, sql: quoteIdentifier(c.attname), type: c.type, attnum: c.attnum })
  }

  const stage = yield* column(columnName, "stage")
  const stageType = columns.find((c) => c.attname === stage.name)!
  const inferred: TargetKind | undefined = SCALAR_TYPES.has(stageType.typname) || stageType.typname === "varchar"
    ? "scalar"
    : stageType.typname === "jsonb"
    ? "distribution"
    : undefined
  if (inferred === undefined) {
    return yield* new MigrationError({
      reason: new WrongColumnType({
        detail: `${label}.${stage.name} is ${stage.type}; expected text or varchar (scalar stages) or jsonb (distributions)${
          stageType.typname === "json" ? " — convert it with ALTER COLUMN … TYPE jsonb" : ""
        }`
      })
    })
  }
  if (spec.kind !== undefined && spec.kind !== inferred) {
    return yield* new MigrationError({
      reason: new WrongColumnType({
        detail: `${label}.${stage.name} is ${stage.type}, which holds ${inferred === "scalar" ? "scalar stages" : "distributions"}, not ${
          spec.kind === "scalar" ? "scalar stages" : "distributions"
        }`
      })
    })
  }
  const length = /^character varying\((\d+)\)$/.exec(stage.type)
  if (length !== null && Number(length[1]) < LONGEST_CANONICAL) {
    return yield* new MigrationError({
      reason: new WrongColumnType({
        detail: `${label}.${stage.name} is ${stage.type}, too short for the canonical stage "series-c+"`
      })
    })
  }

  const id = yield* column(idName, "id")
  if (id.name === stage.name) {
    return yield* new MigrationError({ reason: new InvalidOptions({ detail: "the id column and the stage column are the same" }) })
  }
  const unique = yield* sql<{ ok: boolean }>`
    SELECT EXISTS (
      SELECT 1 FROM pg_index i
      WHERE i.indrelid = ${oid}::int8::oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
        AND i.indnkeyatts = 1 AND i.indkey[0] = ${id.attnum}
    ) AS ok`.pipe(Effect.mapError(queryFailed(`checking that ${label}.${id.name} is unique`)))
  if (unique[0]?.ok !== true) {
    return yield* new MigrationError({
      reason: new IdNotUnique({
        detail: `${label}.${id.name} has no primary key or unique index of its own; batches need a unique, ordered id (--id-column)`
      })
    })
  }

  let fund: ColumnInfo | undefined
  if (spec.fundColumn === null) fund = undefined
  else if (spec.fundColumn !== undefined) fund = yield* column(spec.fundColumn, "fund")
  else {
    const detected = find("fund_id")
    fund = detected === undefined
      ? undefined
      : { name: detected.attname, sql: quoteIdentifier(detected.attname), type: detected.type, attnum: detected.attnum }
  }
  if (fund !== undefined && (fund.name === stage.name || fund.name === id.name)) {
    return yield* new MigrationError({
      reason: new InvalidOptions({
        detail: `the fund column ${fund.name} cannot also be the ${fund.name === id.name ? "id" : "stage"} column`
      })
    })
  }
  let hasFundIdIndex = false
  if (fund !== undefined) {
    const rows = yield* sql<{ ok: boolean }>`
      SELECT EXISTS (
        SELECT 1 FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_am am ON am.oid = ic.relam
        WHERE i.indrelid = ${oid}::int8::oid AND i.indisvalid AND i.indpred IS NULL AND am.amname = 'btree'
          AND i.indnkeyatts >= 2 AND i.indkey[0] = ${fund.attnum} AND i.indkey[1] = ${id.attnum}
      ) AS ok`.pipe(Effect.mapError(queryFailed(`looking for a (${fund.name}, ${id.name}) index on ${label}`)))
    hasFundIdIndex = rows[0]?.ok === true
  }

  return {
    oid,
    schema: table.nspname,
    table: table.relname,
    label,
    sql: `${quoteIdentifier(table.nspname)}.${quoteIdentifier(table.relname)}`,
    column: stage,
    id,
    fund,
    kind: inferred,
    hasFundIdIndex
  } satisfies ResolvedTarget as ResolvedTarget
})

/**
 * Check that `fundId` is a value of the target's fund column type (and that it has one).
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
})
