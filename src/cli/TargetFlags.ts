/**
 * The flags that name a migration target — `--table`, `--column`, `--id-column`, `--fund-column`
 * — with their defaults in one place, and the `TargetSpec` their values stand for. Each command
 * words the descriptions for what the target means to it (the table it migrates, indexes, or
 * the guard checks).
 *
 * @since 0.2.0
 */
import { Option } from "effect"
import { Flag } from "effect/cli"
import type { TargetKind, TargetSpec } from "../migration/schema/Target.ts"

/**
 * What each flag's help says.
 *
 * @since 0.2.0
 * @category models
 */
export interface TargetFlagDescriptions {
  readonly table: string
  readonly column: string
  readonly idColumn: string
  readonly fundColumn: string
}

/**
 * The descriptions `migrate` uses; a command overrides the ones it words differently.
 *
 * @since 0.2.0
 * @category flags
 */
export const migrationTargetDescriptions: TargetFlagDescriptions = {
  table: "Table, optionally schema.table",
  column: "Column holding the stage or distribution",
  idColumn: "Unique id column batches are keyed on",
  fundColumn: "Fund column (default: fund_id when it exists; \"none\" to ignore funds)"
}

/**
 * `--table` (default `portfolio_companies`), `--column` (default `stage`), `--id-column` (default
 * `id`) and `--fund-column` (optional: `fund_id` when it exists, `none` for no fund column), in
 * that order.
 *
 * @since 0.2.0
 * @category flags
 */
export const targetFlags = (descriptions: Partial<TargetFlagDescriptions> = {}) => {
  const d = { ...migrationTargetDescriptions, ...descriptions }
  return {
    // the help shows no defaults by itself: each description says its own
    table: Flag.String("table").pipe(
      Flag.withDescription(`${d.table} (default: portfolio_companies, i.e. public.portfolio_companies)`),
      Flag.withDefault("portfolio_companies")
    ),
    column: Flag.String("column").pipe(Flag.withDescription(`${d.column} (default: stage)`), Flag.withDefault("stage")),
    idColumn: Flag.String("id-column").pipe(Flag.withDescription(`${d.idColumn} (default: id)`), Flag.withDefault("id")),
    fundColumn: Flag.String("fund-column").pipe(Flag.withDescription(d.fundColumn), Flag.optional)
  }
}

/**
 * `--table` and `--column` without defaults, for a command where naming the target is one of two
 * ways to pick it (`verify`: `--run ID` or `--table/--column`); the defaults apply downstream.
 *
 * @since 0.2.0
 * @category flags
 */
export const optionalTableColumnFlags = (descriptions: Pick<TargetFlagDescriptions, "table" | "column">) => ({
  table: Flag.String("table").pipe(Flag.withDescription(descriptions.table), Flag.optional),
  column: Flag.String("column").pipe(Flag.withDescription(descriptions.column), Flag.optional)
})

/**
 * The values of {@link targetFlags}, as a command's handler receives them.
 *
 * @since 0.2.0
 * @category models
 */
export interface TargetFlagValues {
  readonly table: string
  readonly column: string
  readonly idColumn: string
  readonly fundColumn: Option.Option<string>
}

/**
 * The target the flags name: `--fund-column none` is no fund column, an absent one lets the
 * target use `fund_id` when it exists.
 *
 * @since 0.2.0
 * @category helpers
 */
export const toTargetSpec = (values: TargetFlagValues, kind?: TargetKind): TargetSpec => {
  const fundColumn = Option.getOrUndefined(values.fundColumn)
  return {
    table: values.table,
    column: values.column,
    idColumn: values.idColumn,
    fundColumn: fundColumn === "none" ? null : fundColumn,
    kind
  }
}
