/**
 * `stage-normalization status`: one screen for the on-call engineer — the rollout document (mode,
 * overrides, percentage, shadow, write-only, version, the last change with who and why), the last
 * gate decision in the audit history with its inputs, the gate now (`--prometheus-url`), whether
 * the downgrade webhook fired recently (`--since`, default 24h), the backfill from PostgreSQL
 * (latest run, progress, last verify, the guard's answer) and the runbook's next step for the
 * phase the document is in. `--json` for scripts. `--svg FILE` also draws the rollout's timeline
 * from its audit history (phases, enforced %, every gate verdict, the downgrade), with the reject
 * ratio and p99 from Prometheus when it answers.
 *
 * Any subset of Redis (or the service's mode API), PostgreSQL and Prometheus may be unreachable or
 * not configured: each section says `ok` or `error` with the reason, and the report ends with what
 * could not be read. The exit code is 0 whenever the report was printed — unreadable parts
 * included, so a script reads the `state` fields, not the exit code; 2 for bad flags (an `--svg`
 * path that cannot be written included); 1 when `--svg` was asked for and the audit history could
 * not be read (nothing to draw).
 *
 * @since 0.2.0
 */
import { Clock, Config, Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { CliInputError } from "../CliInputError.ts"
import { reportLogs } from "../CommandLogs.ts"
import { optionalDatabaseUrlFlag } from "../CommandDatabase.ts"
import { chooseRolloutSource, sourceFlags } from "../RolloutSourceFlags.ts"
import { renderStatus } from "../StatusReport.ts"
import { gatherStatus } from "../StatusSections.ts"
import { checkSvgPath, writeStatusTimeline } from "../StatusTimeline.ts"
import { targetFlags } from "../TargetFlags.ts"
import { terminalJson } from "../TerminalJson.ts"

const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `30m`, `24h`, `7d` in milliseconds; `undefined` for anything else. */
const parseSince = (text: string): number | undefined => {
  const m = /^(\d{1,4})([mhd])$/.exec(text.trim())
  return m === null ? undefined : Number(m[1]) * UNITS[m[2]!]!
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

const backfillTarget = targetFlags({ table: "Migrated table the backfill section reads", column: "Migrated column the backfill section reads" })

/**
 * @since 0.2.0
 * @category commands
 */
export const statusCommand = Command.make(
  "status",
  {
    ...sourceFlags,
    databaseUrl: optionalDatabaseUrlFlag("PostgreSQL holding the migration record (default: DATABASE_URL; without it the backfill section is not read)"),
    table: backfillTarget.table,
    column: backfillTarget.column,
    prometheusUrl: Flag.String("prometheus-url").pipe(
      Flag.withDescription("Prometheus for the gate's current verdict (default: PROMETHEUS_URL; without it that section is not read)"),
      Flag.withFallbackConfig(Config.String("PROMETHEUS_URL")),
      Flag.optional
    ),
    job: Flag.String("job").pipe(Flag.withDescription("Only the metrics of this Prometheus job"), Flag.optional),
    since: Flag.String("since").pipe(
      Flag.withDescription("Webhook activity newer than this counts as recent: 30m, 24h, 7d"),
      Flag.withDefault("24h")
    ),
    timeoutSeconds: Flag.Int("timeout-seconds").pipe(
      Flag.withDescription("How long each source (store, PostgreSQL, Prometheus) may take"),
      Flag.withDefault(10)
    ),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print the report as JSON (each section with its state)"), Flag.withDefault(false)),
    svg: Flag.String("svg").pipe(
      Flag.withDescription(
        "Also draw the rollout's timeline from its audit history into this SVG file (reject ratio and p99 from --prometheus-url when it answers)"
      ),
      Flag.optional
    )
  },
  Effect.fnUntraced(function*(flags) {
    const sinceMillis = parseSince(flags.since)
    if (sinceMillis === undefined) {
      return yield* new CliInputError({ message: `--since expects a duration such as 30m, 24h or 7d, got ${JSON.stringify(flags.since)}` })
    }
    if (flags.timeoutSeconds < 1 || flags.timeoutSeconds > 300) {
      return yield* new CliInputError({ message: `--timeout-seconds must be within 1..300, got ${flags.timeoutSeconds}` })
    }
    if (Option.isSome(flags.prometheusUrl) && !/^https?:\/\//i.test(flags.prometheusUrl.value)) {
      return yield* new CliInputError({ message: `--prometheus-url must be an http(s) URL, got ${JSON.stringify(flags.prometheusUrl.value)}` })
    }
    const svgPath = Option.isSome(flags.svg) ? Option.some(yield* checkSvgPath(flags.svg.value)) : Option.none<string>()
    const source = yield* chooseRolloutSource(flags, "status")
    const report = yield* gatherStatus({
      source,
      databaseUrl: Option.filter(flags.databaseUrl, (url) => url.trim() !== ""),
      table: flags.table,
      column: flags.column,
      prometheus: Option.map(flags.prometheusUrl, (url) => ({ url, job: Option.getOrUndefined(flags.job) })),
      sinceMillis,
      timeout: `${flags.timeoutSeconds} seconds`,
      now: yield* Clock.currentTimeMillis
    })
    yield* Console.log(flags.json ? terminalJson(report, 2) : renderStatus(report))
    if (Option.isSome(svgPath)) {
      const drawn = yield* writeStatusTimeline({
        source,
        prometheus: Option.map(flags.prometheusUrl, (url) => ({ url, job: Option.getOrUndefined(flags.job) })),
        path: svgPath.value,
        now: yield* Clock.currentTimeMillis,
        timeout: `${flags.timeoutSeconds} seconds`
      })
      const note = `wrote the rollout timeline to ${drawn.path}: ${plural(drawn.entries, "audit entry", "audit entries")}, ` +
        `${plural(drawn.gateVerdicts, "gate verdict", "gate verdicts")}; ` +
        (drawn.metrics._tag === "Available" ? `metric series from ${drawn.metrics.source}` : `metric series unavailable: ${drawn.metrics.reason}`)
      // with --json, stdout stays one JSON document
      yield* flags.json ? Console.error(note) : Console.log(`\n${note}`)
    }
  }, reportLogs)
).pipe(
  Command.withDescription(
    "One screen for on-call: rollout document, last gate decision, gate now, downgrade webhook, backfill, next runbook step; --svg FILE also draws the rollout timeline. Exit 0 whenever the report is printed (unreadable parts are marked in it), 2 for bad flags, 1 when --svg has no audit history to draw."
  ),
  Command.withExamples([
    {
      command: "stage-normalization status --redis-url redis://redis:6379 --database-url $DATABASE_URL --prometheus-url http://prometheus:9090",
      description: "Everything"
    },
    {
      command: "stage-normalization status --url https://api.internal --token-file ~/.ops-token --json | jq '.next'",
      description: "Through a service's mode API, for a script"
    },
    {
      command: "stage-normalization status --redis-url redis://redis:6379 --prometheus-url http://prometheus:9090 --svg rollout.svg",
      description: "The report, and the rollout's timeline as a picture"
    }
  ])
)
