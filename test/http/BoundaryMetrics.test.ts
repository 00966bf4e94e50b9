/**
 * The boundary's metric recording keeps each series' update hook between requests (see
 * BoundaryMetrics.ts); these check it still records exactly where `Metric.updateUnsafe` would:
 * into the registry of each request's context, under the metric attributes a host adds to the
 * context, and into a series again after someone removed it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Metric } from "effect"
import { endpointMetrics, recordValidation, recordValidationError } from "../../src/http/BoundaryMetrics.ts"
import { validationDurationSeconds, validationErrorsTotal, validationsTotal } from "../../src/observability/metrics.ts"

const ENDPOINT = "/api/metrics-test"
const sample = { endpoint: ENDPOINT, mode: "warn", result: "normalized", seconds: 0.00004, unknown: false } as const
const fresh = () => Context.make(Metric.MetricRegistry, new Map()) as Context.Context<never>
const countOf = (context: Context.Context<never>, result = "normalized") =>
  Metric.withAttributes(validationsTotal, { endpoint: ENDPOINT, mode: "warn", result }).valueUnsafe(context).count
const samplesOf = (context: Context.Context<never>) => validationDurationSeconds.valueUnsafe(context).count

describe("boundary metrics", () => {
  it("each request's registry gets its own counts, however requests alternate", () => {
    const a = fresh()
    const b = fresh()
    for (const context of [a, b, a, a, b, a]) recordValidation(context, sample)
    assert.strictEqual(countOf(a), 4)
    assert.strictEqual(countOf(b), 2)
    assert.strictEqual(samplesOf(a), 4)
    assert.strictEqual(samplesOf(b), 2)
  })

  it("metric attributes a host puts in the context make their own series", () => {
    const registry = new Map()
    const plain = Context.make(Metric.MetricRegistry, registry) as Context.Context<never>
    const tagged = Context.add(plain, Metric.CurrentMetricAttributes, { service: "api" }) as Context.Context<never>
    recordValidation(plain, sample)
    recordValidation(tagged, sample)
    recordValidation(tagged, sample)
    recordValidation(plain, sample)
    recordValidation(plain, sample)
    assert.strictEqual(countOf(plain), 3)
    assert.strictEqual(countOf(tagged), 2) // read under the same context attributes
    const series = Metric.snapshotUnsafe(plain).filter((s) => s.id === "stage_validation_validations_total")
    assert.sameMembers(series.map((s) => s.attributes?.["service"] ?? "none"), ["none", "api"])
  })

  it("a removed series is recorded into again", () => {
    const context = fresh()
    recordValidation(context, sample)
    recordValidation(context, sample)
    Metric.removeUnsafe(Metric.withAttributes(validationsTotal, { endpoint: ENDPOINT, mode: "warn", result: "normalized" }), context)
    recordValidation(context, sample)
    assert.strictEqual(countOf(context), 1)
  })

  it("a route's home context keeps its sink: counts, removal and other contexts as without it", () => {
    const home = fresh()
    const other = fresh()
    const metrics = endpointMetrics(ENDPOINT, home)
    const record = (context: Context.Context<never>) => metrics.record(context, "warn", "normalized", 0.00004, false)
    for (const context of [home, home, other, home, other, home]) record(context)
    assert.strictEqual(countOf(home), 4)
    assert.strictEqual(countOf(other), 2)
    assert.strictEqual(samplesOf(home), 4)
    Metric.removeUnsafe(Metric.withAttributes(validationsTotal, { endpoint: ENDPOINT, mode: "warn", result: "normalized" }), home)
    record(home)
    assert.strictEqual(countOf(home), 1)
    assert.strictEqual(samplesOf(home), 5)
  })

  it("results and validator errors land in their own series", () => {
    const context = fresh()
    recordValidation(context, { ...sample, result: "invalid", unknown: true })
    recordValidation(context, sample)
    recordValidationError(context, ENDPOINT)
    assert.strictEqual(countOf(context, "invalid"), 1)
    assert.strictEqual(countOf(context), 1)
    assert.strictEqual(Metric.withAttributes(validationErrorsTotal, { endpoint: ENDPOINT }).valueUnsafe(context).count, 1)
  })
})
