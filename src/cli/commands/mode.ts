/**
 * `stage-normalization mode get | set | history`: the rollout document, read and changed from a
 * terminal — in the shared store itself (`--redis-url`, else `REDIS_URL`; `--prefix`) or through a
 * running service's mode API (`--url`, the ops token from `--token-file` or
 * `STAGE_VALIDATION_OPS_TOKEN`).
 *
 * `set` changes only the fields it is given (`--mode`, `--percent`, `--endpoint`, `--dry-run`,
 * `--enforce-write-only`), with a compare-and-set on `--expect-version` (else the version just
 * read), and needs `--actor` and `--reason` for the audit history. It is refused as the mode API
 * refuses: a value the schema rejects, a lost race, and — raising read enforcement before the
 * backfill is verified — the finalisation guard (`--database-url` lets it read the migration
 * record, as `promote` does; `--force` overrides it, audited as forced).
 *
 * Exit codes: 0 done (or nothing to change), 1 refused by the guard or the store unavailable,
 * 2 bad input (flags, a version conflict, an invalid value, no such store or document).
 *
 * @since 0.2.0
 */
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { MODES } from "../../rollout/Config.ts"
import { CliInputError } from "../CliInputError.ts"
import { reportLogs } from "../CommandLogs.ts"
import { databaseUrlFlag } from "../CommandDatabase.ts"
import { diffViews, formatChange, renderDocument, renderHistory } from "../RolloutReport.ts"
import { checkChangeText, type RolloutView } from "../RolloutSource.ts"
import { openRolloutSource, sourceFlags } from "../RolloutSourceFlags.ts"
import { targetFlags } from "../TargetFlags.ts"
import { terminalJson } from "../TerminalJson.ts"

const json = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON (the mode API's shapes) instead of tables"), Flag.withDefault(false))

/** JSON with control and invisible format characters as `\uXXXX` escapes: the same values, safe on a terminal. */
const print = (value: unknown) => Console.log(terminalJson(value, 2))

const getCommand = Command.make(
  "get",
  { ...sourceFlags, json },
  Effect.fnUntraced(function*(flags) {
    const source = yield* openRolloutSource(flags, "mode get")
    const view = yield* source.read
    if (flags.json) return yield* print({ version: view.version, document: view.document })
    yield* Console.log(`rollout document in ${source.label}\n`)
    yield* Console.log(renderDocument(view))
  }, (effect) => reportLogs(Effect.scoped(effect)))
).pipe(
  Command.withDescription("Print the rollout document (a table, or --json as the mode API returns it)"),
  Command.withExamples([
    { command: "stage-normalization mode get --redis-url redis://redis:6379", description: "The shared document" },
    { command: "stage-normalization mode get --url https://api.internal --token-file ~/.ops-token --json", description: "Through a service's mode API" }
  ])
)

const historyCommand = Command.make(
  "history",
  {
    ...sourceFlags,
    limit: Flag.Int("limit").pipe(Flag.withDescription("How many entries, newest first (1..1000)"), Flag.withDefault(20)),
    json
  },
  Effect.fnUntraced(function*(flags) {
    if (flags.limit < 1 || flags.limit > 1000) {
      return yield* new CliInputError({ message: `--limit must be within 1..1000, got ${flags.limit}` })
    }
    const source = yield* openRolloutSource(flags, "mode history")
    const entries = yield* source.history(flags.limit)
    if (flags.json) return yield* print(entries)
    yield* Console.log(`audit history in ${source.label}, newest first\n`)
    yield* Console.log(renderHistory(entries))
  }, (effect) => reportLogs(Effect.scoped(effect)))
).pipe(
  Command.withDescription("Print the audit history of the rollout document: every change and refused attempt, newest first"),
  Command.withExamples([
    { command: "stage-normalization mode history --limit 20", description: "The last 20 entries (REDIS_URL)" }
  ])
)

const onOff = (name: string, field: string) =>
  Flag.Literals(name, ["on", "off", "true", "false"]).pipe(
    Flag.withDescription(`Set the document's ${field}: on|off (a value is required: this changes the document, it is no preview)`),
    Flag.optional
  )

/** `--endpoint TEMPLATE=MODE` values; `MODE` `default` removes the override. */
const parseEndpoints = (values: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<readonly [string, string]>, CliInputError> =>
  Effect.forEach(values, (value) => {
    const at = value.lastIndexOf("=")
    const template = at <= 0 ? "" : value.slice(0, at).trim()
    const mode = at <= 0 ? "" : value.slice(at + 1).trim()
    return template === "" || ![...MODES, "default"].includes(mode)
      ? Effect.fail(
        new CliInputError({
          message: `--endpoint expects TEMPLATE=MODE with MODE off, warn, enforce or default (removes the override), got ${JSON.stringify(value)}`
        })
      )
      : Effect.succeed([template, mode] as const)
  })

const guardTarget = targetFlags({ table: "Migrated table the guard checks", column: "Migrated column the guard checks" })

const setCommand = Command.make(
  "set",
  {
    ...sourceFlags,
    mode: Flag.Literals("mode", MODES).pipe(Flag.withDescription("Default mode: off, warn or enforce"), Flag.optional),
    percent: Flag.Finite("percent").pipe(Flag.withDescription("enforcementPercent, 0..100"), Flag.optional),
    endpoint: Flag.String("endpoint").pipe(
      Flag.withDescription("Endpoint override TEMPLATE=MODE (off|warn|enforce, or default to remove it); repeatable"),
      Flag.atLeast(0)
    ),
    clearEndpoints: Flag.Boolean("clear-endpoints").pipe(
      Flag.withDescription("Remove every endpoint override first (then --endpoint adds)"),
      Flag.withDefault(false)
    ),
    dryRun: onOff("dry-run", "dryRun (shadow mode)"),
    enforceWriteOnly: onOff("enforce-write-only", "enforceWriteOnly (enforce writes, cap reads at warn)"),
    expectVersion: Flag.Int("expect-version").pipe(
      Flag.withDescription("Compare-and-set: the version you read (default: the version read just before writing)"),
      Flag.optional
    ),
    actor: Flag.String("actor").pipe(Flag.withDescription("Who changes it (audit history; required)"), Flag.optional),
    reason: Flag.String("reason").pipe(Flag.withDescription("Why (audit history; required)"), Flag.optional),
    force: Flag.Boolean("force").pipe(
      Flag.withDescription("Override the finalisation guard (audited as forced)"),
      Flag.withDefault(false)
    ),
    databaseUrl: databaseUrlFlag(
      "PostgreSQL holding the migration record, so the finalisation guard knows whether the backfill is verified (direct store only; default: DATABASE_URL; without it, raising read enforcement needs --force)"
    ),
    table: guardTarget.table,
    column: guardTarget.column,
    json
  },
  Effect.fnUntraced(function*(flags) {
    if (Option.isNone(flags.actor) || Option.isNone(flags.reason)) {
      return yield* new CliInputError({ message: "mode set needs --actor NAME and --reason TEXT: both go into the audit history" })
    }
    const problem = checkChangeText("--actor", flags.actor.value) ?? checkChangeText("--reason", flags.reason.value)
    if (problem !== undefined) return yield* new CliInputError({ message: problem })
    if (Option.isSome(flags.expectVersion) && flags.expectVersion.value < 0) {
      return yield* new CliInputError({ message: `--expect-version must be ≥ 0, got ${flags.expectVersion.value}` })
    }
    const endpoints = yield* parseEndpoints(flags.endpoint)
    const fields: Record<string, unknown> = {}
    if (Option.isSome(flags.mode)) fields["defaultMode"] = flags.mode.value
    if (Option.isSome(flags.percent)) fields["enforcementPercent"] = flags.percent.value
    if (Option.isSome(flags.dryRun)) fields["dryRun"] = flags.dryRun.value === "on" || flags.dryRun.value === "true"
    if (Option.isSome(flags.enforceWriteOnly)) {
      fields["enforceWriteOnly"] = flags.enforceWriteOnly.value === "on" || flags.enforceWriteOnly.value === "true"
    }
    const touchesEndpoints = flags.clearEndpoints || endpoints.length > 0
    if (Object.keys(fields).length === 0 && !touchesEndpoints) {
      return yield* new CliInputError({
        message: "nothing to change: give at least one of --mode, --percent, --endpoint, --clear-endpoints, --dry-run, --enforce-write-only"
      })
    }
    const patch = (current: RolloutView): Readonly<Record<string, unknown>> => {
      if (!touchesEndpoints) return fields
      const before = current.document["endpointMode"]
      const overrides: Record<string, unknown> = flags.clearEndpoints || typeof before !== "object" || before === null
        ? {}
        : { ...before }
      for (const [template, mode] of endpoints) {
        if (mode === "default") delete overrides[template]
        else overrides[template] = mode
      }
      return { ...fields, endpointMode: overrides }
    }
    const databaseUrl = Option.isSome(flags.databaseUrl)
      ? flags.databaseUrl
      : Option.isSome(flags.url) ? Option.none() : Option.fromNullishOr(process.env["DATABASE_URL"] || undefined)
    const source = yield* openRolloutSource(flags, "mode set", { databaseUrl, table: flags.table, column: flags.column })
    const outcome = yield* source.change({
      patch,
      expectedVersion: Option.getOrUndefined(flags.expectVersion),
      actor: flags.actor.value,
      reason: flags.reason.value,
      force: flags.force
    })
    if (flags.json) {
      return yield* print({ version: outcome.after.version, document: outcome.after.document, changed: outcome.changed })
    }
    if (!outcome.changed) {
      return yield* Console.log(`no change: the document in ${source.label} already says so (version ${outcome.after.version}); nothing audited`)
    }
    yield* Console.log(`changed the rollout document in ${source.label}: version ${outcome.before.version} → ${outcome.after.version}`)
    for (const d of diffViews(outcome.before, outcome.after)) {
      yield* Console.log(`  ${d.path}: ${formatChange(d.from)} → ${formatChange(d.to)}`)
    }
    yield* Console.log(
      `audited: actor ${flags.actor.value}, source ${source.via === "api" ? "api" : "cli"}${flags.force ? ", forced" : ""}, reason ${
        JSON.stringify(flags.reason.value)
      }`
    )
  }, (effect) => reportLogs(Effect.scoped(effect)))
).pipe(
  Command.withDescription(
    "Change fields of the rollout document (compare-and-set, finalisation guard, audited). Exit 0 done, 1 refused by the guard, 2 bad input or a version conflict."
  ),
  Command.withExamples([
    {
      command: "stage-normalization mode set --mode warn --percent 25 --actor you@example.com --reason 'ramp step back'",
      description: "Two fields, against the version just read"
    },
    {
      command: "stage-normalization mode set --dry-run on --enforce-write-only off --expect-version 9 --actor you --reason 'phase 2.7'",
      description: "Shadow mode, only if nobody changed the document since version 9"
    },
    {
      command: "stage-normalization mode set --endpoint /api/portfolio/strategies=enforce --url https://api.internal --actor you --reason x",
      description: "One endpoint override, through a service's mode API"
    }
  ])
)

/**
 * @since 0.2.0
 * @category commands
 */
export const modeCommand = Command.make("mode").pipe(
  Command.withDescription("Read and change the shared rollout document: get, set, history"),
  Command.withSubcommands([getCommand, setCommand, historyCommand])
)
