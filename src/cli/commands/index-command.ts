/**
 * `stage-normalization index`: the seeds' indexes for a migration target — a partial index on
 * non-canonical stages, `(fund, stage)`, and `(fund, id)` for per-fund batches — built
 * `CONCURRENTLY`, one at a time, outside any transaction, idempotently (an INVALID leftover of an
 * interrupted build is dropped and rebuilt). Without `--apply` it lists the plan and each index's
 * state, and changes nothing.
 *
 * @since 0.1.0
 */
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { applyIndexes, planIndexes } from "../../migration/sql/Indexes.ts"
import { resolveTarget } from "../../migration/schema/Target.ts"
import { databaseUrlFlag, requireDatabaseUrl, withDatabase } from "../CommandDatabase.ts"
import { renderTable } from "../Table.ts"
import { targetFlags, toTargetSpec } from "../TargetFlags.ts"

/**
 * @since 0.1.0
 * @category commands
 */
export const indexCommand = Command.make(
  "index",
  {
    databaseUrl: databaseUrlFlag(),
    ...targetFlags({
      column: "Stage column",
      idColumn: "Unique id column",
      fundColumn: "Fund column (default: fund_id when it exists; \"none\" to skip fund indexes)"
    }),
    apply: Flag.Boolean("apply").pipe(Flag.withDescription("Create the indexes (default: show the plan)"), Flag.withDefault(false)),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print JSON"), Flag.withDefault(false))
  },
  Effect.fnUntraced(function*(f) {
    const url = yield* requireDatabaseUrl(f.databaseUrl, "index")
    const program = Effect.gen(function*() {
      const target = yield* resolveTarget(toTargetSpec(f))
      const plan = yield* planIndexes(target)
      if (!f.apply) {
        if (f.json) return yield* Console.log(JSON.stringify({ target: target.label, plan }, null, 2))
        yield* Console.log(`Indexes for ${target.label}.${target.column.name} (nothing changed; --apply creates the missing ones):\n`)
        yield* Console.log(renderTable(["index", "state", "purpose"], plan.map((p) => [p.name, p.state, p.purpose])))
        for (const p of plan) if (p.state !== "valid") yield* Console.log(`\n${p.statement};`)
        return
      }
      const outcomes = yield* applyIndexes(target, undefined, (entry) =>
        f.json ? Effect.void : Console.log(`${entry.state === "invalid" ? "rebuilding invalid" : "creating"} ${entry.name} …`))
      if (f.json) return yield* Console.log(JSON.stringify({ target: target.label, outcomes }, null, 2))
      yield* Console.log(renderTable(
        ["index", "action", "seconds"],
        outcomes.map((o) => [o.name, o.action, (o.durationMs / 1000).toFixed(1)])
      ))
    })
    yield* withDatabase(url, "stage-normalization index", program)
  })
).pipe(
  Command.withDescription("Create the migration's indexes CONCURRENTLY and idempotently (plan only without --apply)"),
  Command.withExamples([
    { command: "stage-normalization index --database-url postgres://… --table portfolio_companies", description: "Show the plan" },
    { command: "stage-normalization index --database-url postgres://… --table portfolio_companies --apply", description: "Create them" }
  ])
)
