/**
 * `status --svg FILE`: the live rollout's timeline — the audit history of the rollout source
 * (Redis, or a service's mode API) drawn by `TimelineSvg.ts` from its oldest entry to now, with
 * the reject ratio and p99 from Prometheus when it is given and answers (`query_range`), else
 * with the reason they are missing written into the picture.
 *
 * The path is checked before anything is read (its folder must exist and be writable, and it
 * must not be a folder); a bad path is a `CliInputError` (exit 2). A history that cannot be read
 * leaves nothing to draw: a `CliExitCode` 1 after the report is printed.
 *
 * @since 0.3.0
 */
import { Duration, Effect, Option } from "effect"
import { constants } from "node:fs"
import { access, stat, writeFile } from "node:fs/promises"
import { dirname, resolve } from "node:path"
import { AUDIT_HISTORY_LIMIT } from "../rollout/AuditLog.ts"
import { CliExitCode, CliInputError } from "./CliInputError.ts"
import { sourceErrorMessage } from "./RolloutSource.ts"
import { openChosenSource, type SourceChoice } from "./RolloutSourceFlags.ts"
import { fetchTimelineMetrics } from "./TimelineMetrics.ts"
import { gateVerdictEntries } from "./TimelineModel.ts"
import { renderTimelineSvg, type TimelineMetrics } from "./TimelineSvg.ts"

/**
 * What was drawn.
 *
 * @since 0.3.0
 * @category models
 */
export interface TimelineWritten {
  readonly path: string
  readonly entries: number
  readonly gateVerdicts: number
  readonly metrics: TimelineMetrics
}

const reason = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/**
 * Checks that `path` can be written as a file: a non-empty name, not a folder, in a folder that
 * exists and is writable. Returns the absolute path.
 *
 * @example
 * ```ts
 * import { checkSvgPath } from "./StatusTimeline.ts" // internal: not part of the package's API
 * const checked = checkSvgPath("/no/such/dir/x.svg") // Effect<string, CliInputError>: fails, the folder does not exist
 * ```
 * @since 0.3.0
 * @category constructors
 */
export const checkSvgPath = (path: string): Effect.Effect<string, CliInputError> =>
  Effect.gen(function*() {
    if (path.trim() === "") return yield* new CliInputError({ message: "--svg needs a file name" })
    const absolute = resolve(path)
    const folder = dirname(absolute)
    const target = yield* Effect.promise(() => stat(absolute).then((s) => s, () => undefined))
    if (target?.isDirectory() === true) return yield* new CliInputError({ message: `--svg ${path} is a folder, not a file` })
    const parent = yield* Effect.promise(() => stat(folder).then((s) => s, () => undefined))
    if (parent === undefined || !parent.isDirectory()) {
      return yield* new CliInputError({ message: `--svg ${path}: the folder ${folder} does not exist` })
    }
    yield* Effect.tryPromise({
      try: () => access(target === undefined ? folder : absolute, constants.W_OK),
      catch: () => new CliInputError({ message: `--svg ${path}: ${target === undefined ? `the folder ${folder}` : "the file"} is not writable` })
    })
    return absolute
  })

/**
 * Reads the history (up to {@link AUDIT_HISTORY_LIMIT} entries) and the metric series, draws the
 * picture and writes it to `path` (already checked by {@link checkSvgPath}).
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { writeStatusTimeline } from "./StatusTimeline.ts" // internal: not part of the package's API
 * const written = writeStatusTimeline({
 *   source: { _tag: "Redis", url: "redis://127.0.0.1:6379", prefix: "stage-validation" },
 *   prometheus: Option.none(), path: "/tmp/rollout.svg", now: Date.now(), timeout: "10 seconds"
 * }) // Effect<TimelineWritten, CliInputError | CliExitCode>
 * ```
 * @since 0.3.0
 * @category constructors
 */
export const writeStatusTimeline = (options: {
  readonly source: SourceChoice
  readonly prometheus: Option.Option<{ readonly url: string; readonly job: string | undefined }>
  readonly path: string
  readonly now: number
  readonly timeout: Duration.Input
}): Effect.Effect<TimelineWritten, CliInputError | CliExitCode> =>
  Effect.gen(function*() {
    const entries = yield* Effect.scoped(
      openChosenSource(options.source).pipe(Effect.flatMap((source) => source.history(AUDIT_HISTORY_LIMIT)))
    ).pipe(
      Effect.timeoutOrElse({
        duration: options.timeout,
        orElse: () => Effect.fail(new CliInputError({ message: "the rollout store did not answer in time" }))
      }),
      Effect.catch((e) =>
        Effect.fail(new CliExitCode({ code: 1, reason: `--svg: nothing drawn, the audit history could not be read: ${sourceErrorMessage(e)}` }))
      )
    )
    const times = entries.map((e) => Date.parse(e.at)).filter(Number.isFinite)
    const from = Math.min(options.now, ...times)
    const metrics: TimelineMetrics = Option.isNone(options.prometheus)
      ? { _tag: "Unavailable", reason: "not configured: give --prometheus-url or set PROMETHEUS_URL" }
      : yield* fetchTimelineMetrics({ url: options.prometheus.value.url, job: options.prometheus.value.job, from, to: options.now, timeout: options.timeout })
    const svg = renderTimelineSvg({ entries, metrics, until: options.now, title: "Rollout timeline (live)" })
    yield* Effect.tryPromise({
      try: () => writeFile(options.path, svg),
      catch: (cause) => new CliInputError({ message: `--svg: cannot write ${options.path}: ${reason(cause)}` })
    })
    return { path: options.path, entries: entries.length, gateVerdicts: gateVerdictEntries(entries).length, metrics }
  })
