/**
 * The bounds of a rollout document: at most {@link MAX_ENDPOINT_MODE_KEYS} endpoint overrides,
 * {@link MAX_OPERATION_OVERRIDE_KEYS} operation overrides and {@link MAX_DOCUMENT_BYTES} bytes of
 * JSON. Every instance holds the document on its hot path and every change travels through Redis
 * with a timeout, so a document is bounded before anything else looks at it: the schema checks
 * the bounds (API, CLI, environment, stored and published documents alike) and the mode API
 * checks them first, answering 400 with the limit named.
 *
 * @since 0.3.0
 */

/**
 * Most keys an `endpointMode` may have: 256.
 *
 * @example
 * ```ts
 * import { MAX_ENDPOINT_MODE_KEYS } from "stage-normalization/rollout"
 * MAX_ENDPOINT_MODE_KEYS // => 256
 * ```
 * @since 0.3.0
 * @category constants
 */
export const MAX_ENDPOINT_MODE_KEYS = 256

/**
 * Most keys an `operationOverrides` may have: 256.
 *
 * @example
 * ```ts
 * import { MAX_OPERATION_OVERRIDE_KEYS } from "stage-normalization/rollout"
 * MAX_OPERATION_OVERRIDE_KEYS // => 256
 * ```
 * @since 0.3.0
 * @category constants
 */
export const MAX_OPERATION_OVERRIDE_KEYS = 256

/**
 * Most bytes a document may take as JSON (UTF-8): 64 KiB.
 *
 * @example
 * ```ts
 * import { MAX_DOCUMENT_BYTES } from "stage-normalization/rollout"
 * MAX_DOCUMENT_BYTES // => 65536
 * ```
 * @since 0.3.0
 * @category constants
 */
export const MAX_DOCUMENT_BYTES = 64 * 1024

const LIMITED_RECORDS = [
  ["endpointMode", MAX_ENDPOINT_MODE_KEYS, "MAX_ENDPOINT_MODE_KEYS"],
  ["operationOverrides", MAX_OPERATION_OVERRIDE_KEYS, "MAX_OPERATION_OVERRIDE_KEYS"]
] as const

/**
 * Why a document (decoded, or the raw JSON value of one) exceeds the bounds, naming the limit;
 * `undefined` when it does not. Counts keys before measuring bytes, so an oversized record is
 * refused without serialising it.
 *
 * @example
 * ```ts
 * import { documentBoundsViolation } from "stage-normalization/rollout"
 * documentBoundsViolation({ defaultMode: "warn" }) // => undefined
 * ```
 * @since 0.3.0
 * @category validation
 */
export const documentBoundsViolation = (document: unknown): string | undefined => {
  if (typeof document !== "object" || document === null) return undefined
  for (const [field, max, name] of LIMITED_RECORDS) {
    const value: unknown = (document as Record<string, unknown>)[field]
    if (typeof value !== "object" || value === null) continue
    const keys = Object.keys(value).length
    if (keys > max) return `${field} has ${keys} keys; at most ${max} are allowed (${name})`
  }
  let bytes: number
  try {
    bytes = Buffer.byteLength(JSON.stringify(document), "utf8")
  } catch {
    return "the document cannot be serialised as JSON"
  }
  if (bytes > MAX_DOCUMENT_BYTES) {
    return `the document is ${bytes} bytes as JSON; at most ${MAX_DOCUMENT_BYTES} are allowed (MAX_DOCUMENT_BYTES)`
  }
  return undefined
}
