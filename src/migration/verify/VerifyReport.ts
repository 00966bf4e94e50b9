/**
 * The verification report (`verify --output report.json`): its Effect Schema is the one source of
 * truth — the JSON written by the CLI is encoded with it, and `docs/verify-report.schema.json`
 * (JSON Schema draft 2020-12) is generated from it by {@link verifyReportJsonSchema} (a test keeps
 * the file equal to the generated document).
 *
 * A report holds the run it verified, the scope (whole run or one fund), the nine checks — each
 * `pass`, `warn`, `fail` or `skipped`, with a one-line summary, machine-readable counts and up to
 * 20 examples — the per-fund table of check 7, and a summary whose `ok` decides the exit code.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"

/**
 * @since 0.1.0
 * @category models
 */
export const CheckStatus = Schema.Literals(["pass", "warn", "fail", "skipped"]).annotate({
  description: "pass: holds; warn: holds, with something to look at (fails under --strict); fail: does not hold; skipped: not applicable"
})

/**
 * @since 0.1.0
 * @category models
 */
export type CheckStatus = typeof CheckStatus.Type

/**
 * The nine checks, in order.
 *
 * @since 0.1.0
 * @category constants
 */
export const CHECK_NAMES = [
  "batches",
  "canonical",
  "nulls",
  "row-count",
  "audit",
  "sample",
  "funds",
  "distributions",
  "non-stage-content"
] as const

const Count = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))

/**
 * One row (or value, or batch) a check points at.
 *
 * @since 0.1.0
 * @category models
 */
export const CheckExample = Schema.Struct({
  pk: Schema.NullOr(Schema.String).annotate({ description: "primary key (or batch id) as text; null when not about a row" }),
  value: Schema.NullOr(Schema.String).annotate({ description: "the value found (JSON text for distributions)" }),
  expected: Schema.NullOr(Schema.String).annotate({ description: "the value expected, when there is one" }),
  note: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type CheckExample = typeof CheckExample.Type

/**
 * @since 0.1.0
 * @category models
 */
export const CheckResult = Schema.Struct({
  id: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 9 }))),
  name: Schema.Literals(CHECK_NAMES),
  title: Schema.String,
  status: CheckStatus,
  summary: Schema.String,
  counts: Schema.Record(Schema.String, Schema.Finite).annotate({ description: "named numbers behind the summary" }),
  examples: Schema.Array(CheckExample).annotate({ description: "at most 20" })
})

/**
 * @since 0.1.0
 * @category models
 */
export type CheckResult = typeof CheckResult.Type

const FundCounts = Schema.Struct({ rows: Count, nulls: Count, nonCanonical: Schema.NullOr(Count) })

/**
 * One fund of check 7 (`fundId` null: the rows without a fund).
 *
 * @since 0.1.0
 * @category models
 */
export const FundBreakdown = Schema.Struct({
  fundId: Schema.NullOr(Schema.String),
  baseline: Schema.NullOr(FundCounts).annotate({ description: "at run start; null when the fund was not there" }),
  current: FundCounts,
  updated: Count.annotate({ description: "audited updates of rows now in this fund" }),
  status: CheckStatus,
  note: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type FundBreakdown = typeof FundBreakdown.Type

/**
 * @since 0.1.0
 * @category models
 */
export const VerifyReport = Schema.Struct({
  reportVersion: Schema.Literal(1),
  tool: Schema.Struct({ name: Schema.String, version: Schema.String }),
  generatedAt: Schema.String.annotate({ description: "ISO 8601" }),
  run: Schema.Struct({
    runId: Schema.String,
    target: Schema.String.annotate({ description: "schema.table" }),
    column: Schema.String,
    kind: Schema.Literals(["scalar", "distribution"]),
    status: Schema.String,
    fundId: Schema.NullOr(Schema.String).annotate({ description: "the run's own --fund-id" }),
    startedAt: Schema.String,
    finishedAt: Schema.NullOr(Schema.String),
    rowsTotal: Count,
    rowsUpdated: Count,
    rowsSkipped: Count,
    rowsFailed: Count,
    vocabularyVersion: Schema.String,
    forcedUnknowns: Schema.Boolean,
    rolledBackBy: Schema.NullOr(Schema.String)
  }),
  scope: Schema.Struct({
    fundId: Schema.NullOr(Schema.String).annotate({ description: "verify --fund-id (null: the whole run)" }),
    sampleSize: Count,
    strict: Schema.Boolean
  }),
  checks: Schema.Array(CheckResult),
  funds: Schema.Array(FundBreakdown),
  summary: Schema.Struct({
    passed: Count,
    warnings: Count,
    failed: Count,
    skipped: Count,
    ok: Schema.Boolean.annotate({ description: "no failure (and, with strict, no warning): exit code 0, else 1" }),
    markedVerified: Schema.Boolean.annotate({ description: "this verification set the run's verified_at" }),
    verifiedAt: Schema.NullOr(Schema.String)
  })
}).annotate({
  title: "stage-normalization verification report",
  description: "Written by `stage-normalization verify --output FILE`: the nine checks of a migration run."
})

/**
 * @since 0.1.0
 * @category models
 */
export type VerifyReport = typeof VerifyReport.Type

/**
 * The report as JSON text, validated by encoding it with the schema (an invalid report fails with
 * the schema's error instead of producing a file that does not match the published schema).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { encodeReport, verify } from "stage-normalization/migration"
 * const json = verify({ runId: "12" }).pipe(Effect.flatMap(encodeReport))
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const encodeReport = (report: VerifyReport): Effect.Effect<string, Schema.SchemaError> =>
  Schema.encodeEffect(VerifyReport)(report).pipe(Effect.map((encoded) => `${JSON.stringify(encoded, null, 2)}\n`))

/**
 * The JSON Schema (draft 2020-12) of the report, as published in `docs/verify-report.schema.json`.
 *
 * @example
 * ```ts
 * import { verifyReportJsonSchema } from "stage-normalization/migration"
 * verifyReportJsonSchema()["$schema"] // => "https://json-schema.org/draft/2020-12/schema"
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const verifyReportJsonSchema = (): Record<string, unknown> => {
  const document = Schema.toJsonSchemaDocument(VerifyReport)
  const definitions = document.definitions as Record<string, unknown>
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    ...(document.schema as Record<string, unknown>),
    ...(Object.keys(definitions).length > 0 ? { $defs: definitions } : {})
  }
}
