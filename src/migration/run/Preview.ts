/**
 * The dry run (`migrate` without `--apply`, the default): the same keyset scan as a real run,
 * read-only, aggregated into a preview — every distinct stored value (for distributions, every
 * distinct stage string) with the canonical stage it would become and how many rows hold it, the
 * unknown values with suggestions, and row counts. **Nothing is written**: no tracking tables, no
 * SQL twin, no run row (the runs table only ever holds applied runs). Normalisation is the
 * TypeScript `normalizeStage`, which the SQL twin is property-tested equal to.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { stageVocabulary } from "../../normalizer/StageVocabulary.ts"
import type { Vocabulary } from "../../normalizer/Vocabulary.ts"
import { ALL_ROWS, type Partition } from "../sql/BoundStatement.ts"
import { previewRange } from "./BatchStatements.ts"
import type { ForceUnknownOptions } from "./ForceUnknown.ts"
import { type PreviewAction, PreviewTally } from "./PreviewTally.ts"
import type { MigrationEvent, UnknownValue } from "../MigrationEvent.ts"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { InvalidOptions, QueryFailed } from "../MigrationErrorReason.ts"
import { checkFundId, resolveTarget, type TargetKind, type TargetSpec } from "../schema/Target.ts"
import { SqlClient } from "effect/sql"

/**
 * @since 0.1.0
 * @category models
 */
export interface PreviewOptions extends TargetSpec {
  readonly fundId?: string | undefined
  /** Rows per read (default 5,000). */
  readonly batchSize?: number | undefined
  /** Pause between reads (default 100 ms). */
  readonly sleepMs?: number | undefined
  readonly vocabulary?: Vocabulary<string> | undefined
  /** Distinct values kept in the preview (default 10,000; the rest are counted, not listed). */
  readonly maxDistinct?: number | undefined
  readonly onEvent?: ((event: MigrationEvent) => Effect.Effect<void>) | undefined
  readonly shouldStop?: Effect.Effect<boolean> | undefined
  /** Show what `--force-unknown` would map (action `forced`). */
  readonly forceUnknown?: ForceUnknownOptions | undefined
}

/**
 * One line of the preview: a stored value (or a stage string inside distributions).
 *
 * @since 0.1.0
 * @category models
 */
export interface PreviewValue {
  readonly value: string
  /** The canonical stage it maps to, `null` when unknown (and not forced). */
  readonly stage: string | null
  readonly rows: number
  /** `forced`: unknown, mapped by `--force-unknown` (`reason` says how). */
  readonly action: PreviewAction
  readonly reason?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PreviewReport {
  readonly target: string
  readonly column: string
  readonly kind: TargetKind
  readonly fundId: string | null
  readonly rowsScanned: number
  readonly rowsNull: number
  /** Already canonical. */
  readonly rowsUnchanged: number
  /** Would be updated by `--apply`. */
  readonly rowsToUpdate: number
  /** Would be left unchanged although not canonical (unknown or invalid). */
  readonly rowsSkipped: number
  /** Would be mapped by `--force-unknown` (counted in `rowsToUpdate` too). */
  readonly rowsForced: number
  readonly values: ReadonlyArray<PreviewValue>
  readonly unknowns: ReadonlyArray<UnknownValue>
  /** More distinct values than `maxDistinct` were seen; counts stay exact. */
  readonly truncated: boolean
  /** The scan was stopped before the end (a signal). */
  readonly stopped: boolean
}

const previewImpl = Effect.fn("Migration.preview")(function*(options: PreviewOptions) {
  const sql = yield* SqlClient.SqlClient
  const target = yield* resolveTarget(options)
  const fundId = options.fundId ?? null
  if (fundId !== null) yield* checkFundId(target, fundId)
  const batchSize = options.batchSize ?? 5_000
  const sleepMs = options.sleepMs ?? 100
  if (!Number.isInteger(batchSize) || batchSize < 1 || !Number.isInteger(sleepMs) || sleepMs < 0) {
    return yield* new MigrationError({ reason: new InvalidOptions({ detail: "--batch-size must be ≥ 1 and --sleep-ms ≥ 0" }) })
  }
  const vocabulary = options.vocabulary ?? stageVocabulary
  const maxDistinct = options.maxDistinct ?? 10_000
  const emit = options.onEvent ?? (() => Effect.void)
  const shouldStop = options.shouldStop ?? Effect.succeed(false)
  const partition: Partition = fundId === null ? ALL_ROWS : { _tag: "Fund", fund: fundId }

  const tally = new PreviewTally(target.kind, vocabulary, options.forceUnknown, maxDistinct)

  const totalRows = yield* sql.unsafe<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${target.sql} AS t${
      fundId !== null && target.fund !== undefined ? ` WHERE t.${target.fund.sql} = $1::text::${target.fund.type}` : ""
    }`,
    fundId !== null ? [fundId] : []
  ).pipe(Effect.map((rows) => Number(rows[0]?.n ?? 0)))

  let lo: string | null = null
  let stopped = false
  while (true) {
    if (yield* shouldStop) {
      stopped = true
      break
    }
    const statement = previewRange(target, { partition, lo, limit: batchSize })
    const rows = yield* sql.unsafe<{ hi: string | null; n: number; groups: string }>(statement.text, statement.params)
    const page = rows[0]
    if (page === undefined || page.n === 0 || page.hi === null) break
    tally.add(JSON.parse(page.groups) as Array<[string | null, number]>)
    lo = page.hi
    yield* emit({ _tag: "PreviewProgress", scanned: tally.counts.scanned, rowsTotal: totalRows })
    if (page.n < batchSize) break
    if (sleepMs > 0) yield* Effect.sleep(sleepMs)
  }

  const { counts } = tally
  return {
    target: target.label,
    column: target.column.name,
    kind: target.kind,
    fundId,
    rowsScanned: counts.scanned,
    rowsNull: counts.nulls,
    rowsUnchanged: counts.unchanged,
    rowsToUpdate: counts.update,
    rowsSkipped: counts.skipped,
    rowsForced: counts.forced,
    values: tally.listedValues(),
    unknowns: tally.unknowns(),
    truncated: tally.truncated,
    stopped
  } satisfies PreviewReport as PreviewReport
})

/**
 * Preview what `migrate` would do, writing nothing.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { layerFromUrl, preview } from "stage-normalization/migration"
 * const program = preview({ table: "portfolio_companies", sleepMs: 0 }).pipe(
 *   Effect.map((r) => `${r.rowsToUpdate} of ${r.rowsScanned} rows would change`),
 *   Effect.provide(layerFromUrl(process.env.DATABASE_URL))
 * )
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const preview = (options: PreviewOptions) =>
  previewImpl(options).pipe(
    Effect.catchTag("SqlError", (cause) =>
      Effect.fail(new MigrationError({ reason: new QueryFailed({ detail: `preview failed: ${describeCause(cause)}`, cause }) }))
    )
  )
