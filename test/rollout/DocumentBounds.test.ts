/**
 * Rollout documents are bounded (issue 25, defect 8): the schema refuses more than 256 endpoint
 * or operation overrides and more than 64 KiB of JSON, naming the limit, wherever a document is
 * decoded (mode API, CLI `mode set`, environment, stored and published documents).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import { decodeRolloutDocument, decodeRolloutDocumentResult } from "../../src/rollout/Config.ts"
import {
  documentBoundsViolation,
  MAX_DOCUMENT_BYTES,
  MAX_ENDPOINT_MODE_KEYS,
  MAX_OPERATION_OVERRIDE_KEYS
} from "../../src/rollout/DocumentBounds.ts"
import { decodeDocumentJson } from "../../src/rollout/internal/redisDocument.ts"

const routes = (n: number, width = 0) => {
  const out: Record<string, "warn"> = {}
  for (let i = 0; i < n; i++) out[`/api/${"z".repeat(width)}r${i}`] = "warn"
  return out
}

describe("document bounds", () => {
  it("the limits as documented", () => {
    assert.strictEqual(MAX_ENDPOINT_MODE_KEYS, 256)
    assert.strictEqual(MAX_OPERATION_OVERRIDE_KEYS, 256)
    assert.strictEqual(MAX_DOCUMENT_BYTES, 65_536)
  })

  it("256 endpoint overrides decode; 257 are refused naming the limit", () => {
    assert.isTrue(Result.isSuccess(decodeRolloutDocumentResult({ endpointMode: routes(256) })))
    const refused = decodeRolloutDocumentResult({ endpointMode: routes(257) })
    assert.isTrue(Result.isFailure(refused))
    if (Result.isFailure(refused)) assert.include(refused.failure.message, "at most 256 are allowed (MAX_ENDPOINT_MODE_KEYS)")
  })

  it("too many operation overrides are refused", () => {
    const overrides: Record<string, "read"> = {}
    for (let i = 0; i < 300; i++) overrides[`GET /api/r${i}`] = "read"
    assert.match(documentBoundsViolation({ operationOverrides: overrides }) ?? "", /operationOverrides has 300 keys; at most 256/)
  })

  it.effect("a document over 64 KiB is refused naming the byte limit", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(decodeRolloutDocument({ endpointMode: routes(200, 400) }))
      assert.include(error.message, `at most ${MAX_DOCUMENT_BYTES} are allowed (MAX_DOCUMENT_BYTES)`)
    }))

  it("a stored document over the bounds is rejected like any invalid one", () => {
    const stored = JSON.stringify({ endpointMode: routes(40_000), version: 3 })
    assert.isTrue(Result.isFailure(decodeDocumentJson(stored)))
  })
})
