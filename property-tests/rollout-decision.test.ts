/**
 * fast-check properties of getValidationDecision over arbitrary configs × requests (≥ 1,000 runs
 * each), plus route-matching properties.
 */
import { describe, it } from "@effect/vitest"
import fc from "fast-check"
import {
  getValidationDecision,
  type Mode,
  type Operation,
  type StageValidationConfig,
  type ValidationRequest
} from "../src/rollout/index.ts"
import { matchRouteTemplate } from "../src/rollout/Routes.ts"

const runs = { numRuns: 1_000 }

const TEMPLATES = [
  "/api/portfolio/strategies",
  "/api/monte-carlo/simulate",
  "/api/funds/:fundId/companies",
  "/api/allocations",
  "/api/funds/:fundId/*",
  "/api/:resource/:id"
] as const
const METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "get", "post", "Patch"] as const

const mode = fc.constantFrom<Mode>("off", "warn", "enforce")
const operation = fc.constantFrom<Operation>("read", "write")
const percent = fc.oneof(
  fc.constantFrom(0, 100, 0.01, 10, 25, 50, 99.99),
  fc.integer({ min: 0, max: 100 }),
  fc.double({ min: 0, max: 100, noNaN: true })
)

const config: fc.Arbitrary<StageValidationConfig> = fc.record({
  defaultMode: mode,
  endpointMode: fc.dictionary(fc.constantFrom(...TEMPLATES), mode, { maxKeys: 4 }),
  enforceWriteOnly: fc.boolean(),
  enforcementPercent: percent,
  dryRun: fc.boolean(),
  operationOverrides: fc.dictionary(
    fc.tuple(fc.constantFrom("GET", "POST", "PUT", "DELETE"), fc.constantFrom(...TEMPLATES)).map(([m, t]) => `${m} ${t}`),
    operation,
    { maxKeys: 4 }
  ),
  bucketAlgorithm: fc.constantFrom("murmur3" as const, "sha256" as const),
  enforcementSalt: fc.constantFrom("stage-validation/enforcement", "e", "tenant/é")
}, { requiredKeys: ["defaultMode", "endpointMode", "enforceWriteOnly", "enforcementPercent", "dryRun"] })

const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/)
const concrete = (template: string) =>
  fc.array(segment, { minLength: 3, maxLength: 3 }).map((values) => {
    let i = 0
    return template.replace(/:[A-Za-z]+/g, () => values[i++]!).replace("*", values[2]!)
  })
const path = fc.oneof(
  fc.constantFrom(...TEMPLATES),
  fc.constantFrom(...TEMPLATES).chain(concrete),
  fc.constantFrom(...TEMPLATES).chain(concrete).map((p) => `${p}/?q=1`),
  fc.string({ maxLength: 30 }).map((s) => `/${s}`)
)
const request: fc.Arbitrary<ValidationRequest> = fc.record({
  method: fc.constantFrom(...METHODS),
  path,
  requestId: fc.oneof(fc.uuid(), fc.string({ maxLength: 20 })),
  stickinessKey: fc.option(fc.string({ maxLength: 10 }), { nil: undefined })
})

describe("decision properties", () => {
  it("dry-run never rejects", () => {
    fc.assert(
      fc.property(config, request, (c, r) => !getValidationDecision({ ...c, dryRun: true }, r).shouldReject),
      runs
    )
  })

  it("off never emits headers or rejects (and emitting headers ⇔ mode ≠ off)", () => {
    fc.assert(
      fc.property(config, request, (c, r) => {
        const allOff = getValidationDecision({ ...c, defaultMode: "off", endpointMode: {} }, r)
        const d = getValidationDecision(c, r)
        return allOff.mode === "off" && !allOff.shouldEmitHeaders && !allOff.shouldReject &&
          !allOff.shouldEnforce && !allOff.shouldEmitWouldReject && d.shouldEmitHeaders === (d.mode !== "off") &&
          (d.mode !== "off" || (!d.shouldReject && !d.shouldEnforce))
      }),
      runs
    )
  })

  it("with enforceWriteOnly, reads never enforce (not even in shadow)", () => {
    fc.assert(
      fc.property(config, request, (c, r) => {
        const d = getValidationDecision({ ...c, enforceWriteOnly: true }, r)
        return d.operation === "write" || !d.shouldEnforce
      }),
      runs
    )
  })

  it("shouldReject ⇒ shouldEnforce, and shouldEnforce ⇔ mode = enforce", () => {
    fc.assert(
      fc.property(config, request, (c, r) => {
        const d = getValidationDecision(c, r)
        return (!d.shouldReject || d.shouldEnforce) && d.shouldEnforce === (d.mode === "enforce")
      }),
      runs
    )
  })

  it("shouldEmitWouldReject ⇔ shouldEnforce ∧ isDryRun; shouldReject ⇔ shouldEnforce ∧ ¬isDryRun", () => {
    fc.assert(
      fc.property(config, request, (c, r) => {
        const d = getValidationDecision(c, r)
        return d.shouldEmitWouldReject === (d.shouldEnforce && d.isDryRun) &&
          d.shouldReject === (d.shouldEnforce && !d.isDryRun)
      }),
      runs
    )
  })

  it("at 0 % or 100 % the result does not depend on the request id (or stickiness key)", () => {
    fc.assert(
      fc.property(config, request, fc.string(), fc.option(fc.string(), { nil: undefined }), fc.constantFrom(0, 100), (c, r, id, sticky, p) => {
        const cp = { ...c, enforcementPercent: p }
        const a = getValidationDecision(cp, r)
        const b = getValidationDecision(cp, { ...r, requestId: id, stickinessKey: sticky })
        return a === b && (p === 100 || !a.shouldEnforce)
      }),
      runs
    )
  })

  it("the enforced set only grows with the percentage", () => {
    fc.assert(
      fc.property(config, request, percent, percent, (c, r, p1, p2) => {
        const [p, q] = p1 <= p2 ? [p1, p2] : [p2, p1]
        return !getValidationDecision({ ...c, enforcementPercent: p }, r).shouldEnforce ||
          getValidationDecision({ ...c, enforcementPercent: q }, r).shouldEnforce
      }),
      runs
    )
  })

  it("the operation depends only on the operation overrides, never on modes, percentages or flags", () => {
    fc.assert(
      fc.property(config, config, request, (c1, c2, r) => {
        const { operationOverrides: _, ...rest } = c2
        const sameOverrides: StageValidationConfig = c1.operationOverrides === undefined
          ? rest
          : { ...rest, operationOverrides: c1.operationOverrides }
        return getValidationDecision(c1, r).operation === getValidationDecision(sameOverrides, r).operation
      }),
      runs
    )
  })
})

describe("route matching properties", () => {
  it("a concrete path filled from a template matches that template when it is the only one", () => {
    fc.assert(
      fc.property(fc.constantFrom(...TEMPLATES).chain((t) => concrete(t).map((p) => [t, p] as const)), ([t, p]) => {
        const only: StageValidationConfig = {
          defaultMode: "warn",
          endpointMode: { [t]: "enforce" },
          enforceWriteOnly: false,
          enforcementPercent: 100,
          dryRun: false,
          operationOverrides: {}
        }
        return matchRouteTemplate(only, p) === t && matchRouteTemplate(only, `${p}/`) === t &&
          matchRouteTemplate(only, `${p}?x=${p}`) === t
      }),
      runs
    )
  })

  it("a path with a different number of segments never matches a template without *", () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        const only: StageValidationConfig = {
          defaultMode: "warn",
          endpointMode: { "/api/funds/:fundId/companies": "enforce" },
          enforceWriteOnly: false,
          enforcementPercent: 100,
          dryRun: false,
          operationOverrides: {}
        }
        const p = `/${segments.join("/")}`
        return segments.length === 4 || matchRouteTemplate(only, p) === undefined
      }),
      runs
    )
  })
})
