import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Redacted, Result, Schema } from "effect"
import {
  DEFAULT_DOCUMENT,
  DEFAULT_OPERATION_OVERRIDES,
  decodeRolloutDocument,
  DEV_CONFIG,
  loadStageValidationEnv,
  PRESETS,
  PRODUCTION_CONFIG,
  resolveStageValidationEnv,
  STAGING_CONFIG,
  StageValidationConfig,
  validateOpsSecret
} from "../../src/rollout/index.ts"
import { decodeRolloutDocumentResult } from "../../src/rollout/Config.ts"
import { opsSecretConfig } from "../../src/rollout/EnvConfig.ts"
import { eventsNamed, makeLogCollector } from "./helpers.ts"

const withEnv = (env: Record<string, string>) =>
  Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromUnknown(env))

describe("StageValidationConfig schema", () => {
  it("fills every default, enforcementPercent 100 included", () => {
    const doc = Schema.decodeUnknownSync(StageValidationConfig)({ defaultMode: "enforce" })
    assert.strictEqual(doc.defaultMode, "enforce")
    assert.strictEqual(doc.enforcementPercent, 100)
    assert.deepStrictEqual(doc.endpointMode, {})
    assert.strictEqual(doc.enforceWriteOnly, false)
    assert.strictEqual(doc.dryRun, false)
    assert.strictEqual(doc.version, 0)
    assert.strictEqual(doc.bucketAlgorithm, "murmur3")
    assert.notStrictEqual(doc.enforcementSalt, doc.samplingSalt)
    assert.deepStrictEqual(doc.operationOverrides, DEFAULT_OPERATION_OVERRIDES)
    assert.strictEqual(doc.operationOverrides["POST /api/monte-carlo/simulate"], "read")
    assert.isUndefined(doc.stickinessHeader)
  })

  it("rejects unknown keys, out-of-range percentages, bad templates and bad override keys", () => {
    assert.isTrue(Result.isFailure(decodeRolloutDocumentResult({ enforcmentPercent: 10 })))
    assert.isTrue(Result.isFailure(decodeRolloutDocumentResult({ enforcementPercent: 100.5 })))
    assert.isTrue(Result.isFailure(decodeRolloutDocumentResult({ enforcementPercent: -1 })))
    assert.isTrue(Result.isFailure(decodeRolloutDocumentResult({ enforcementPercent: Number.NaN })))
    assert.isTrue(Result.isFailure(decodeRolloutDocumentResult({ endpointMode: { "api/x": "warn" } })))
    assert.isTrue(Result.isFailure(decodeRolloutDocumentResult({ endpointMode: { "/api/x": "block" } })))
    assert.isTrue(Result.isFailure(decodeRolloutDocumentResult({ operationOverrides: { "/api/x": "read" } })))
    assert.isTrue(Result.isFailure(decodeRolloutDocumentResult({ operationOverrides: { "post /api/x": "read" } })))
    assert.isTrue(Result.isFailure(decodeRolloutDocumentResult({ version: 1.5 })))
    assert.isTrue(Result.isSuccess(decodeRolloutDocumentResult({ endpointMode: { "/api/funds/:fundId/*": "off" } })))
  })

  it("checks the cross-field rules: distinct salts, sunset not before deprecation", () => {
    assert.isTrue(Result.isFailure(decodeRolloutDocumentResult({ enforcementSalt: "s", samplingSalt: "s" })))
    assert.isTrue(Result.isFailure(decodeRolloutDocumentResult({ enforcementSalt: "a\u0000b" })))
    assert.isTrue(
      Result.isFailure(decodeRolloutDocumentResult({ deprecationDate: "2026-06-01", sunsetDate: "2026-05-01" }))
    )
    const ok = decodeRolloutDocumentResult({
      deprecationDate: "2026-01-01",
      sunsetDate: "2026-06-30T00:00:00Z",
      docsUrl: "https://docs.example/stages",
      stickinessHeader: "x-fund-id"
    })
    assert.isTrue(Result.isSuccess(ok))
    assert.isTrue(Result.isFailure(decodeRolloutDocumentResult({ sunsetDate: "30/06/2026" })))
    assert.isTrue(Result.isFailure(decodeRolloutDocumentResult({ stickinessHeader: "x fund" })))
  })

  it.effect("decodeRolloutDocument fails with a SchemaError naming the bad field", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(decodeRolloutDocument({ enforcementPercent: 250 }))
      assert.strictEqual(error._tag, "SchemaError")
      assert.include(error.message, "enforcementPercent")
    }))
})

describe("presets", () => {
  it("production follows seed 000: warn, strategies enforced, write-only, 10 %", () => {
    assert.strictEqual(PRODUCTION_CONFIG.defaultMode, "warn")
    assert.strictEqual(PRODUCTION_CONFIG.endpointMode["/api/portfolio/strategies"], "enforce")
    assert.strictEqual(PRODUCTION_CONFIG.endpointMode["/api/monte-carlo/simulate"], "warn")
    assert.isTrue(PRODUCTION_CONFIG.enforceWriteOnly)
    assert.strictEqual(PRODUCTION_CONFIG.enforcementPercent, 10)
    assert.isFalse(PRODUCTION_CONFIG.dryRun)
  })
  it("staging is production's shape at 100 %, development is always dry-run", () => {
    assert.strictEqual(STAGING_CONFIG.enforcementPercent, 100)
    assert.isTrue(STAGING_CONFIG.enforceWriteOnly)
    assert.isTrue(DEV_CONFIG.dryRun)
    assert.strictEqual(DEV_CONFIG.defaultMode, "enforce")
    assert.deepStrictEqual(Object.keys(PRESETS), ["production", "staging", "development"])
  })
})

describe("environment loading", () => {
  it("no variables: the schema defaults, no warnings", () => {
    const r = resolveStageValidationEnv({})
    assert.deepStrictEqual(r.document, DEFAULT_DOCUMENT)
    assert.strictEqual(r.warnings.length, 0)
    assert.isUndefined(r.preset)
  })

  it("a plain STAGE_VALIDATION_MODE=enforce enforces everything (percent 100)", () => {
    const r = resolveStageValidationEnv({ STAGE_VALIDATION_MODE: "enforce" })
    assert.strictEqual(r.document.defaultMode, "enforce")
    assert.strictEqual(r.document.enforcementPercent, 100)
  })

  it("preset + overrides, case-insensitive, percent with a % sign, empty values ignored", () => {
    const r = resolveStageValidationEnv({
      STAGE_VALIDATION_PRESET: "Prod",
      STAGE_VALIDATION_MODE: " WARN ",
      ENFORCE_WRITE_ONLY: "no",
      ENFORCEMENT_PERCENT: "25%",
      STAGE_VALIDATION_DRY_RUN: ""
    })
    assert.strictEqual(r.preset, "production")
    assert.strictEqual(r.document.defaultMode, "warn")
    assert.isFalse(r.document.enforceWriteOnly)
    assert.strictEqual(r.document.enforcementPercent, 25)
    assert.isFalse(r.document.dryRun)
    assert.strictEqual(r.document.endpointMode["/api/portfolio/strategies"], "enforce")
    assert.strictEqual(r.warnings.length, 0)
  })

  it("every invalid value falls back to the safe value with one warning each", () => {
    const r = resolveStageValidationEnv({
      STAGE_VALIDATION_PRESET: "qa",
      STAGE_VALIDATION_MODE: "enforec",
      ENFORCE_WRITE_ONLY: "maybe",
      ENFORCEMENT_PERCENT: "150",
      STAGE_VALIDATION_DRY_RUN: "yes please"
    })
    assert.strictEqual(r.document.defaultMode, "warn")
    assert.strictEqual(r.document.enforcementPercent, 0)
    assert.isFalse(r.document.dryRun)
    assert.isFalse(r.document.enforceWriteOnly)
    assert.deepStrictEqual(
      r.warnings.map((w) => [w.field, w.value, w.fallback]),
      [
        ["STAGE_VALIDATION_PRESET", "qa", "defaults"],
        ["STAGE_VALIDATION_MODE", "enforec", "warn"],
        ["ENFORCE_WRITE_ONLY", "maybe", false],
        ["ENFORCEMENT_PERCENT", "150", 0],
        ["STAGE_VALIDATION_DRY_RUN", "yes please", false]
      ]
    )
  })

  it("rejects percent spellings that Number() would accept", () => {
    for (const bad of ["0x10", "1e1", "Infinity", "-5", "ten", "10.5.1"]) {
      const r = resolveStageValidationEnv({ ENFORCEMENT_PERCENT: bad })
      assert.strictEqual(r.document.enforcementPercent, 0, bad)
      assert.strictEqual(r.warnings.length, 1, bad)
    }
    assert.strictEqual(resolveStageValidationEnv({ ENFORCEMENT_PERCENT: "12.5" }).document.enforcementPercent, 12.5)
  })

  it("the development preset stays dry-run even when told otherwise", () => {
    const r = resolveStageValidationEnv({ STAGE_VALIDATION_PRESET: "dev", STAGE_VALIDATION_DRY_RUN: "false" })
    assert.isTrue(r.document.dryRun)
    assert.strictEqual(r.warnings.length, 1)
    assert.strictEqual(r.warnings[0]?.fallback, true)
  })

  it.effect("loads through effect Config and logs one structured JSON warning per invalid value", () =>
    Effect.gen(function*() {
      const logs = makeLogCollector()
      const result = yield* loadStageValidationEnv.pipe(
        withEnv({ STAGE_VALIDATION_MODE: "loud", ENFORCEMENT_PERCENT: "abc", ENFORCE_WRITE_ONLY: "true" }),
        Effect.provide(logs.layer)
      )
      assert.isTrue(result.document.enforceWriteOnly)
      assert.strictEqual(result.document.defaultMode, "warn")
      assert.strictEqual(result.document.enforcementPercent, 0)
      const warnings = eventsNamed(logs.lines, "stage_validation.invalid_env")
      assert.strictEqual(warnings.length, 2)
      assert.deepStrictEqual(warnings.map((w) => [w["field"], w["value"], w["fallback"]]), [
        ["STAGE_VALIDATION_MODE", "loud", "warn"],
        ["ENFORCEMENT_PERCENT", "abc", 0]
      ])
      for (const line of logs.lines) {
        assert.strictEqual(line.level, "WARN")
        assert.notInclude(line.json, "\n")
      }
    }))
})

describe("ops secrets", () => {
  it.effect("need 32 characters outside tests, any non-empty value in tests", () =>
    Effect.gen(function*() {
      const short = yield* Effect.flip(validateOpsSecret("WEBHOOK_SECRET", "x".repeat(31), { nodeEnv: "production" }))
      assert.strictEqual(short.reason, "TooShort")
      assert.strictEqual(short.length, 31)
      assert.include(short.message, "at least 32")
      const missing = yield* Effect.flip(validateOpsSecret("WEBHOOK_SECRET", undefined, { nodeEnv: "test" }))
      assert.strictEqual(missing.reason, "Missing")
      const ok = yield* validateOpsSecret("WEBHOOK_SECRET", "x".repeat(32), { nodeEnv: "production" })
      assert.strictEqual(Redacted.value(ok), "x".repeat(32))
      const testOk = yield* validateOpsSecret("WEBHOOK_SECRET", Redacted.make("short"), { nodeEnv: "test" })
      assert.strictEqual(Redacted.value(testOk), "short")
    }))

  it.effect("opsSecretConfig reads the secret and NODE_ENV through Config", () =>
    Effect.gen(function*() {
      const err = yield* Effect.flip(opsSecretConfig("OPS_TOKEN").pipe(withEnv({ NODE_ENV: "production", OPS_TOKEN: "abc" })))
      assert.strictEqual(err._tag, "OpsSecretError")
      assert.strictEqual(err.reason, "TooShort")
      const ok = yield* opsSecretConfig("OPS_TOKEN").pipe(withEnv({ NODE_ENV: "test", OPS_TOKEN: "abc" }))
      assert.strictEqual(Redacted.value(ok), "abc")
    }))
})
