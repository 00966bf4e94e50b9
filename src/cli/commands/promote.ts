/**
 * `stage-normalization promote --prometheus-url URL [--to N] [--force]`: evaluate the promotion
 * gate on Prometheus' numbers and, only if it passes, move `enforcementPercent` to the next ramp
 * step (or to `--to N`) in the **shared** rollout store — the Redis document every service
 * instance follows (`--redis-url`, else `REDIS_URL`; `--prefix`, else
 * `STAGE_VALIDATION_REDIS_PREFIX`, else `stage-validation`, as for `mode` and `status`; the older
 * `--redis-prefix` still works, with a deprecation note on stderr). The change is a compare-and-set on the
 * version read, audited (source `cli`), and reaches every instance through the store's pub/sub.
 *
 * Prints the verdict table (criterion, threshold, measured, pass/fail) of the newest window, one
 * line per window, and what happened. Every evaluation that reaches the store — promoted, forced or
 * held — is recorded in the audit history with its decision record (values, thresholds, PromQL,
 * verdict). `--dry-run` evaluates and prints the gate only (no store, nothing recorded). Exit
 * codes: 0 promoted (or forced, or already at the last step), 1 the gate failed, 3 the gate was
 * inconclusive (too little traffic, or Prometheus could not be read — never a pass; with
 * `--on-inconclusive fail` it exits 1 like a failed gate), 2 bad input (flags, no shared store, no
 * rollout document in it).
 *
 * @since 0.1.0
 */
import { Config, Console, Effect, Layer, Option, Ref } from "effect"
import { Command, Flag } from "effect/cli"
import { layerPrometheusMetricsSourceFetch } from "../../rollout/PrometheusMetricsSource.ts"
import { MetricsSource, type MetricsSourceError } from "../../rollout/MetricsSource.ts"
import { DEFAULT_PROMOTION_POLICY, promote, type PromotionPolicy, type PromotionResult } from "../../rollout/Promote.ts"
import { evaluatePromotionWindows, type GateResult, type GateRow, type GateVerdict } from "../../rollout/PromotionGate.ts"
import { CliExitCode, CliInputError } from "../CliInputError.ts"
import { optionalDatabaseUrlFlag } from "../CommandDatabase.ts"
import { writeGateMetricsFile } from "../GateMetricsFile.ts"
import { renderGateRows } from "../GateReport.ts"
import { checkChangeText } from "../RolloutSource.ts"
import { INT4_MAX, intFlag } from "../NumericFlags.ts"
import { backfillLayer, DEFAULT_STORE_PREFIX, redisFailureMessage, requireSharedDocument, sharedStoreLayer } from "../SharedStore.ts"
import { targetFlags } from "../TargetFlags.ts"

/** A MetricsSource that remembers why it failed, so an unreadable Prometheus reads "inconclusive". */
const recordingMetricsSource = (inner: Layer.Layer<MetricsSource>, failure: Ref.Ref<Option.Option<MetricsSourceError>>) =>
  Layer.effect(
    MetricsSource,
    Effect.gen(function*() {
      const source = yield* MetricsSource
      return MetricsSource.of({
        snapshots: (request) => source.snapshots(request).pipe(Effect.tapError((e) => Ref.set(failure, Option.some(e)))),
        ...(source.queries !== undefined ? { queries: source.queries } : {})
      })
    })
  ).pipe(Layer.provide(inner))

/** Prints the newest window's table, one line per window and the verdict; returns the verdict shown. */
const printGate = Effect.fnUntraced(function*(
  evaluation: { readonly verdict: GateVerdict; readonly reasons: ReadonlyArray<string>; readonly table: ReadonlyArray<GateRow>; readonly windows: ReadonlyArray<GateResult> },
  metricsFailure: Option.Option<MetricsSourceError>
) {
  // Prometheus could not be read: nothing was measured, so the verdict is inconclusive (never a pass).
  const verdict: GateVerdict = Option.isSome(metricsFailure) ? "inconclusive" : evaluation.verdict
  if (Option.isSome(metricsFailure)) {
    yield* Console.log(`Prometheus could not be read: ${metricsFailure.value.message}\n`)
  }
  if (evaluation.table.length > 0) {
    yield* Console.log(renderGateRows(evaluation.table))
    yield* Console.log("")
  }
  for (const [i, w] of evaluation.windows.entries()) {
    yield* Console.log(`window ${i + 1}: ${w.verdict}${w.verdict === "pass" ? "" : ` — ${w.reasons.join("; ")}`}`)
  }
  yield* Console.log(`\nverdict: ${verdict}${verdict === "pass" ? "" : ` — ${evaluation.reasons.join("; ")}`}`)
  return verdict
})

type OnInconclusive = "hold" | "fail"

const exitCodeOf = (verdict: GateVerdict, onInconclusive: OnInconclusive): number =>
  verdict === "pass" ? 0 : verdict === "inconclusive" && onInconclusive === "hold" ? 3 : 1

const report = Effect.fnUntraced(function*(
  result: PromotionResult,
  metricsFailure: Option.Option<MetricsSourceError>,
  onInconclusive: OnInconclusive
) {
  if (result.outcome === "at-final-step") {
    yield* Console.log(`already at the last ramp step (${result.fromPercent} %): nothing to promote`)
    return 0
  }
  yield* Console.log(`promotion ${result.fromPercent} % → ${result.toPercent} %\n`)
  const verdict = yield* printGate(result, metricsFailure)
  switch (result.outcome) {
    case "promoted":
      yield* Console.log(`promoted: enforcementPercent ${result.fromPercent} → ${result.toPercent} (version ${result.document.version})`)
      return 0
    case "forced":
      yield* Console.log(
        `FORCED past the gate: enforcementPercent ${result.fromPercent} → ${result.toPercent} (version ${result.document.version}, audited as forced)`
      )
      return 0
    case "held":
      yield* Console.log(
        `held: enforcementPercent stays at ${result.fromPercent} % (the attempt and its decision record are audited as refused)`
      )
      return Math.max(1, exitCodeOf(verdict, onInconclusive))
  }
})

/** `--dry-run`: the gate alone, from Prometheus; nothing is read from or written to the store. */
const gateOnly = Effect.fnUntraced(function*(
  policy: PromotionPolicy,
  metricsFailure: Ref.Ref<Option.Option<MetricsSourceError>>,
  onInconclusive: OnInconclusive
) {
  const metrics = yield* MetricsSource
  const snapshots = yield* Effect.result(metrics.snapshots({ windows: policy.requiredPasses, windowSeconds: policy.windowSeconds }))
  const evaluation = snapshots._tag === "Success"
    ? evaluatePromotionWindows(snapshots.success, policy.criteria, policy.requiredPasses)
    : { verdict: "inconclusive" as const, reasons: [snapshots.failure.message], table: [], windows: [] }
  yield* Console.log(`promotion gate (dry run: nothing changes)\n`)
  const verdict = yield* printGate(evaluation, yield* Ref.get(metricsFailure))
  return exitCodeOf(verdict, onInconclusive)
})

/**
 * The key prefix from `--prefix`, or from the deprecated `--redis-prefix` (with a one-line note on
 * stderr), else `STAGE_VALIDATION_REDIS_PREFIX`, else the store's default. Both flags with
 * different values is bad input.
 */
const storePrefix = (prefix: Option.Option<string>, deprecated: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isSome(deprecated)) {
      if (Option.isSome(prefix) && prefix.value !== deprecated.value) {
        return yield* new CliInputError({
          message: `--prefix ${JSON.stringify(prefix.value)} and --redis-prefix ${JSON.stringify(deprecated.value)} disagree: give --prefix only`
        })
      }
      yield* Console.error("note: --redis-prefix is deprecated and will be removed; use --prefix (same meaning, as in mode and status)")
    }
    const fromEnv = process.env["STAGE_VALIDATION_REDIS_PREFIX"]?.trim()
    return Option.getOrUndefined(prefix) ?? Option.getOrUndefined(deprecated) ?? (fromEnv || undefined) ?? DEFAULT_STORE_PREFIX
  })

/** Each window is one round of six Prometheus queries: a bound on what one `promote` may send. */
const MAX_WINDOWS = 1_000

/** The target the finalisation guard checks: `--table` and `--column` of the migration. */
const guardTarget = targetFlags({ table: "Migrated table the guard checks", column: "Migrated column the guard checks" })

/**
 * @since 0.1.0
 * @category commands
 */
export const promoteCommand = Command.make(
  "promote",
  {
    prometheusUrl: Flag.String("prometheus-url").pipe(
      Flag.withDescription("Prometheus base URL, e.g. http://127.0.0.1:9090 (default: PROMETHEUS_URL)"),
      Flag.withFallbackConfig(Config.String("PROMETHEUS_URL"))
    ),
    to: intFlag("to", { min: 0, max: 100, description: "Target percentage instead of the next ramp step" }).pipe(Flag.optional),
    dryRun: Flag.Boolean("dry-run").pipe(
      Flag.withDescription("Only evaluate and print the gate; change nothing (needs no Redis)"),
      Flag.withDefault(false)
    ),
    force: Flag.Boolean("force").pipe(
      Flag.withDescription("Promote even if the gate does not pass (audited as forced)"),
      Flag.withDefault(false)
    ),
    metricsFile: Flag.String("metrics-file").pipe(
      Flag.withDescription("Write the gate's metrics (stage_validation_gate_*) to this Prometheus text file (textfile collector, Pushgateway)"),
      Flag.optional
    ),
    onInconclusive: Flag.Literals("on-inconclusive", ["hold", "fail"]).pipe(
      Flag.withDescription("An inconclusive gate (too little traffic, Prometheus unreadable): hold (exit 3, wait and retry) or fail (exit 1); never promotes"),
      Flag.withDefault("hold")
    ),
    job: Flag.String("job").pipe(Flag.withDescription("Only the metrics of this Prometheus job"), Flag.optional),
    windows: intFlag("windows", {
      min: 1,
      max: MAX_WINDOWS,
      description: `Consecutive passing windows required (default ${DEFAULT_PROMOTION_POLICY.requiredPasses})`
    }).pipe(Flag.optional),
    windowSeconds: intFlag("window-seconds", {
      min: 1,
      max: INT4_MAX,
      description: `Length of one window in seconds (default ${DEFAULT_PROMOTION_POLICY.windowSeconds})`
    }).pipe(Flag.optional),
    redisUrl: Flag.String("redis-url").pipe(
      Flag.withDescription("Redis holding the shared rollout document (default: REDIS_URL)"),
      Flag.withFallbackConfig(Config.String("REDIS_URL")),
      Flag.optional
    ),
    prefix: Flag.String("prefix").pipe(
      Flag.withDescription(`Key prefix of the rollout document (default: STAGE_VALIDATION_REDIS_PREFIX, else ${DEFAULT_STORE_PREFIX})`),
      Flag.optional
    ),
    redisPrefix: Flag.String("redis-prefix").pipe(
      Flag.withDescription("Deprecated: the old name of --prefix (same meaning; prints a deprecation note)"),
      Flag.optional
    ),
    databaseUrl: optionalDatabaseUrlFlag(
      "PostgreSQL holding the migration record, so the finalisation guard knows whether the backfill is verified (default: DATABASE_URL; without it, raising read enforcement needs --force)"
    ),
    table: guardTarget.table,
    column: guardTarget.column,
    actor: Flag.String("actor").pipe(Flag.withDescription("Who promotes (audit log; default: $USER)"), Flag.optional),
    reason: Flag.String("reason").pipe(Flag.withDescription("Why (audit log)"), Flag.withDefault("promote via CLI"))
  },
  Effect.fnUntraced(function*(flags) {
    // audited text is text: checked before anything is read (the --actor default is $USER)
    const problem = checkChangeText("--actor", Option.getOrElse(flags.actor, () => process.env["USER"] ?? "cli")) ??
      checkChangeText("--reason", flags.reason)
    if (problem !== undefined) return yield* new CliInputError({ message: problem })
    const to = Option.getOrUndefined(flags.to)
    const windows = Option.getOrElse(flags.windows, () => DEFAULT_PROMOTION_POLICY.requiredPasses)
    const windowSeconds = Option.getOrElse(flags.windowSeconds, () => DEFAULT_PROMOTION_POLICY.windowSeconds)
    if (!/^https?:\/\//.test(flags.prometheusUrl)) {
      return yield* new CliInputError({ message: `--prometheus-url must be an http(s) URL, got ${JSON.stringify(flags.prometheusUrl)}` })
    }
    const policy: PromotionPolicy = {
      ...DEFAULT_PROMOTION_POLICY,
      requiredPasses: windows,
      windowSeconds,
      ...(to !== undefined ? { ramp: [to] } : {})
    }
    const metricsFailure = yield* Ref.make(Option.none<MetricsSourceError>())
    const metrics = recordingMetricsSource(
      layerPrometheusMetricsSourceFetch({ url: flags.prometheusUrl, ...(Option.isSome(flags.job) ? { job: flags.job.value } : {}) }),
      metricsFailure
    )
    if (flags.dryRun) {
      const code = yield* gateOnly(policy, metricsFailure, flags.onInconclusive).pipe(Effect.provide(metrics))
      if (code !== 0) {
        return yield* new CliExitCode({ code, reason: code === 3 ? "the gate is inconclusive" : "the gate does not pass" })
      }
      return
    }
    if (Option.isNone(flags.redisUrl)) {
      return yield* new CliInputError({
        message: "promote changes the shared rollout store: give --redis-url (or set REDIS_URL) — the Redis the services use"
      })
    }
    const redisUrl = flags.redisUrl.value
    const prefix = yield* storePrefix(flags.prefix, flags.redisPrefix)
    const actor = Option.getOrElse(flags.actor, () => process.env["USER"] ?? "cli")

    const program = Effect.gen(function*() {
      yield* requireSharedDocument(redisUrl, prefix)
      const result = yield* promote({
        actor,
        reason: flags.reason,
        source: "cli",
        force: flags.force,
        policy,
        onInconclusive: flags.onInconclusive
      })
      const code = yield* report(result, yield* Ref.get(metricsFailure), flags.onInconclusive)
      if (Option.isSome(flags.metricsFile)) yield* writeGateMetricsFile(flags.metricsFile.value)
      if (code !== 0) {
        return yield* new CliExitCode({
          code,
          reason: code === 3
            ? "the gate was inconclusive: not promoted"
            : result.verdict === "inconclusive"
            ? "the gate was inconclusive (--on-inconclusive fail): not promoted"
            : "the gate failed: not promoted"
        })
      }
    })

    return yield* program.pipe(
      Effect.provide(Layer.merge(
        sharedStoreLayer(redisUrl, prefix, backfillLayer(flags.databaseUrl, flags.table, flags.column, "stage-normalization promote")),
        metrics
      )),
      Effect.scoped,
      Effect.catchTags({
        RedisError: (e) => Effect.fail(new CliInputError({ message: redisFailureMessage(redisUrl, e) })),
        ModeStoreError: (e) => Effect.fail(new CliExitCode({ code: 1, reason: `not promoted: ${e.message}` })),
        BackfillNotVerifiedError: (e) =>
          Effect.fail(new CliExitCode({ code: 1, reason: `not promoted: ${e.message} (--force overrides, audited)` })),
        MigrationError: (e) => Effect.fail(new CliInputError({ message: `cannot read the migration record: ${e.message}` })),
        MissingPeerDependencyError: (e) => Effect.fail(new CliInputError({ message: e.message }))
      })
    )
  })
).pipe(
  Command.withDescription(
    "Evaluate the promotion gate on Prometheus and, only on a pass, move enforcementPercent to the next ramp step in the shared (Redis) rollout store; every attempt is recorded in the audit history with its decision record. Exit 0 promoted, 1 gate failed, 3 inconclusive (1 with --on-inconclusive fail), 2 bad input."
  ),
  Command.withExamples([
    {
      command: "stage-normalization promote --prometheus-url http://prometheus:9090 --dry-run",
      description: "Would the gate pass now? (prints the table, changes nothing)"
    },
    {
      command: "stage-normalization promote --prometheus-url http://prometheus:9090 --redis-url redis://redis:6379 --job api",
      description: "Next ramp step (10 → 25 → 50 → 100) if three 10-minute windows pass"
    },
    {
      command: "stage-normalization promote --prometheus-url http://prometheus:9090 --to 50 --reason 'week 3'",
      description: "Straight to 50 %, same gate"
    }
  ])
)
