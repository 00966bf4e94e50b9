/**
 * The rollout configuration: `Mode`, the `StageValidationConfig` contract from ARCHITECTURE.md and
 * its Effect Schema with defaults and extensions (per-route operation overrides, bucketing salts and
 * algorithm, stickiness header, alias deprecation / sunset dates, docs URL, document version).
 *
 * Decoding any object with the schema yields a {@link RolloutDocument}: a config with every default
 * filled in, which is what the `ModeStore` holds and versions. The checks of single field values
 * (route templates, dates, salts, …) live in `internal/configFields.ts`.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { documentBoundsViolation } from "./DocumentBounds.ts"
import { HeaderName, IsoDate, LineageId, Percent, RouteKey, RouteTemplate, Salt, Version } from "./internal/configFields.ts"

/**
 * What stage validation does on a route: `off` observes only, `warn` validates and emits headers,
 * `enforce` rejects invalid input with a 400.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Mode } from "stage-normalization/rollout"
 * Schema.is(Mode)("warn") // => true
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const Mode = Schema.Literals(["off", "warn", "enforce"])

/**
 * @example
 * ```ts
 * import type { Mode } from "stage-normalization/rollout"
 * const mode: Mode = "enforce"
 * ```
 * @since 0.1.0
 * @category models
 */
export type Mode = typeof Mode.Type

/**
 * Every mode, from least to most strict.
 *
 * @example
 * ```ts
 * import { MODES } from "stage-normalization/rollout"
 * MODES.indexOf("enforce") > MODES.indexOf("warn") // => true
 * ```
 * @since 0.1.0
 * @category constants
 */
export const MODES: ReadonlyArray<Mode> = ["off", "warn", "enforce"]

/**
 * Whether a request only reads (safe to keep warning while historical data is migrated) or writes.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Operation } from "stage-normalization/rollout"
 * Schema.is(Operation)("read") // => true
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const Operation = Schema.Literals(["read", "write"])

/**
 * @example
 * ```ts
 * import type { Operation } from "stage-normalization/rollout"
 * const op: Operation = "read"
 * ```
 * @since 0.1.0
 * @category models
 */
export type Operation = typeof Operation.Type

/**
 * The bucketing hash: `murmur3` (default, fast, allocation-free) or `sha256` (the seeds' choice,
 * via `node:crypto`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { BucketAlgorithm } from "stage-normalization/rollout"
 * Schema.is(BucketAlgorithm)("sha256") // => true
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const BucketAlgorithm = Schema.Literals(["murmur3", "sha256"])

/**
 * @example
 * ```ts
 * import type { BucketAlgorithm } from "stage-normalization/rollout"
 * const algorithm: BucketAlgorithm = "murmur3"
 * ```
 * @since 0.1.0
 * @category models
 */
export type BucketAlgorithm = typeof BucketAlgorithm.Type

/**
 * The seeds' write/read classification table, as per-route operation overrides. Methods default
 * to GET/HEAD/OPTIONS → read and everything else → write; the one entry that matters is
 * `POST /api/monte-carlo/simulate`, a pure computation and therefore a **read**.
 *
 * @example
 * ```ts
 * import { DEFAULT_OPERATION_OVERRIDES } from "stage-normalization/rollout"
 * DEFAULT_OPERATION_OVERRIDES["POST /api/monte-carlo/simulate"] // => "read"
 * ```
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_OPERATION_OVERRIDES: Readonly<Record<string, Operation>> = {
  "POST /api/portfolio/strategies": "write",
  "PUT /api/portfolio/strategies": "write",
  "PATCH /api/portfolio/strategies": "write",
  "POST /api/monte-carlo/simulate": "read",
  "GET /api/funds/:fundId/companies": "read",
  "POST /api/allocations": "write",
  "PUT /api/allocations": "write",
  "PATCH /api/allocations": "write"
}

/**
 * Default salt of the enforcement bucket. Log sampling uses {@link DEFAULT_SAMPLING_SALT}: two
 * decisions sharing one hash input would be correlated (Unleash PR #533).
 *
 * @example
 * ```ts
 * import { DEFAULT_ENFORCEMENT_SALT, DEFAULT_SAMPLING_SALT } from "stage-normalization/rollout"
 * DEFAULT_ENFORCEMENT_SALT !== DEFAULT_SAMPLING_SALT // => true
 * ```
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_ENFORCEMENT_SALT = "stage-validation/enforcement"

/**
 * Default salt of the offender-log sampling bucket.
 *
 * @example
 * ```ts
 * import { DEFAULT_SAMPLING_SALT } from "stage-normalization/rollout"
 * DEFAULT_SAMPLING_SALT // => "stage-validation/log-sampling"
 * ```
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_SAMPLING_SALT = "stage-validation/log-sampling"

/**
 * Default value of `docsUrl` (the `X-Stage-Docs` header and the deprecation `Link`).
 *
 * @example
 * ```ts

 * DEFAULT_DOCS_URL.startsWith("https://") // => true
 * ```
 * @since 0.1.0
 * @category constants
 */
const DEFAULT_DOCS_URL = "https://www.npmjs.com/package/stage-normalization"

/**
 * The decision-engine contract from ARCHITECTURE.md: the five required fields, plus optional
 * extensions that the decision engine fills with their defaults when absent. A decoded
 * {@link RolloutDocument} is a `StageValidationConfig` with every field present.
 *
 * @example
 * ```ts
 * import type { StageValidationConfig } from "stage-normalization/rollout"
 * const phase25: StageValidationConfig = {
 *   defaultMode: "warn",
 *   endpointMode: {},
 *   enforceWriteOnly: true,
 *   enforcementPercent: 100,
 *   dryRun: false
 * }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface StageValidationConfig {
  readonly defaultMode: Mode
  /** key: route template */
  readonly endpointMode: Readonly<Record<string, Mode>>
  readonly enforceWriteOnly: boolean
  /** 0..100 */
  readonly enforcementPercent: number
  readonly dryRun: boolean
  /** key: `"METHOD /route/template"`; default {@link DEFAULT_OPERATION_OVERRIDES} */
  readonly operationOverrides?: Readonly<Record<string, Operation>>
  /** default `"murmur3"` */
  readonly bucketAlgorithm?: BucketAlgorithm
  /** default {@link DEFAULT_ENFORCEMENT_SALT} */
  readonly enforcementSalt?: string
  /** default {@link DEFAULT_SAMPLING_SALT} */
  readonly samplingSalt?: string
  /**
   * request header whose value is the bucketing key (unless the host gives one), e.g.
   * `x-fund-id`; whoever sets the header picks the bucket, so name only a header your own edge sets
   */
  readonly stickinessHeader?: string
  /** when the stage aliases were deprecated (RFC 9745 `Deprecation`) */
  readonly deprecationDate?: string
  /** when the aliases stop being accepted (RFC 8594 `Sunset`), never before `deprecationDate` */
  readonly sunsetDate?: string
  /** default {@link DEFAULT_DOCS_URL} */
  readonly docsUrl?: string
  /** document version, incremented by every change in the `ModeStore`; default 0 */
  readonly version?: number
  /**
   * the shared document's lineage, created when an empty store is seeded and kept by every change;
   * absent: the legacy lineage (documents written before 0.4.0). Set by the `ModeStore`, never by a change
   */
  readonly lineage?: string
  /**
   * set by the `ModeStore` until someone changes the document: `"boot"`, the boot seed of an empty
   * store; `"restore"`, a document an instance restored after the store lost it
   */
  readonly seeded?: "boot" | "restore"
}

const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

const StageValidationConfigFields = Schema.Struct({
  defaultMode: withDefault(Mode, "warn"),
  endpointMode: withDefault(Schema.Record(RouteTemplate, Mode), {}),
  enforceWriteOnly: withDefault(Schema.Boolean, false),
  enforcementPercent: withDefault(Percent, 100),
  dryRun: withDefault(Schema.Boolean, false),
  operationOverrides: withDefault(Schema.Record(RouteKey, Operation), DEFAULT_OPERATION_OVERRIDES),
  bucketAlgorithm: withDefault(BucketAlgorithm, "murmur3"),
  enforcementSalt: withDefault(Salt, DEFAULT_ENFORCEMENT_SALT),
  samplingSalt: withDefault(Salt, DEFAULT_SAMPLING_SALT),
  stickinessHeader: Schema.optionalKey(HeaderName),
  deprecationDate: Schema.optionalKey(IsoDate),
  sunsetDate: Schema.optionalKey(IsoDate),
  docsUrl: withDefault(Schema.NonEmptyString, DEFAULT_DOCS_URL),
  version: withDefault(Version, 0),
  lineage: Schema.optionalKey(LineageId),
  seeded: Schema.optionalKey(Schema.Literals(["boot", "restore"]))
})

/**
 * The Effect Schema of the rollout configuration. Decoding fills every default (`defaultMode`
 * warn, `endpointMode` {}, `enforceWriteOnly` false, `enforcementPercent` 100, `dryRun` false,
 * the seeds' operation overrides, murmur3 with separate enforcement / sampling salts, version 0)
 * and checks the cross-field rules: the two salts differ, the sunset is never before the
 * deprecation date; and the bounds (at most 256 endpoint and operation overrides, 64 KiB as JSON).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { StageValidationConfig } from "stage-normalization/rollout"
 * const doc = Schema.decodeUnknownSync(StageValidationConfig)({ defaultMode: "enforce" })
 * doc.enforcementPercent // => 100
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const StageValidationConfig = StageValidationConfigFields.pipe(
  Schema.check(
    Schema.makeFilter((c: typeof StageValidationConfigFields.Type) => {
      if (c.enforcementSalt === c.samplingSalt) {
        return "enforcementSalt and samplingSalt must differ (a shared hash input correlates the two decisions)"
      }
      if (
        c.deprecationDate !== undefined && c.sunsetDate !== undefined &&
        Date.parse(c.sunsetDate) < Date.parse(c.deprecationDate)
      ) {
        return "sunsetDate must not be earlier than deprecationDate"
      }
      return undefined
    })
  ),
  // bounded documents: key counts and bytes as JSON (DocumentBounds.ts)
  Schema.check(Schema.makeFilter((c: typeof StageValidationConfigFields.Type) => documentBoundsViolation(c)))
)

/**
 * A fully resolved, versioned rollout configuration: what the `ModeStore` holds and shares.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { StageValidationConfig, type RolloutDocument } from "stage-normalization/rollout"
 * const doc: RolloutDocument = Schema.decodeUnknownSync(StageValidationConfig)({})
 * doc.version // => 0
 * ```
 * @since 0.1.0
 * @category models
 */
export type RolloutDocument = typeof StageValidationConfig.Type

/**
 * The JSON form of a {@link RolloutDocument} (what Redis stores and the ops API accepts).
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT, encodeRolloutDocument, type RolloutDocumentEncoded } from "stage-normalization/rollout"
 * const json: RolloutDocumentEncoded = encodeRolloutDocument(DEFAULT_DOCUMENT)
 * ```
 * @since 0.1.0
 * @category models
 */
export type RolloutDocumentEncoded = typeof StageValidationConfig.Encoded

const decodeStrict = Schema.decodeUnknownResult(StageValidationConfig)
const decodeExit = Schema.decodeUnknownExit(StageValidationConfig)

/**
 * Decodes untrusted input into a {@link RolloutDocument}, rejecting unknown keys (a misspelt
 * `enforcmentPercent` must not be silently dropped). Fails with a `SchemaError`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { decodeRolloutDocument } from "stage-normalization/rollout"
 * const doc = Effect.runSync(decodeRolloutDocument({ enforcementPercent: 10 }))
 * doc.enforcementPercent // => 10
 * ```
 * @since 0.1.0
 * @category decoding
 */
export const decodeRolloutDocument = (input: unknown): Effect.Effect<RolloutDocument, Schema.SchemaError> =>
  Effect.suspend(() => decodeExit(input, { onExcessProperty: "error", errors: "all" }))

/**
 * Synchronous variant of {@link decodeRolloutDocument} returning a `Result`.
 *
 * @example
 * ```ts
 * import { Result } from "effect"
 * import { decodeRolloutDocumentResult } from "./Config.ts" // internal: not part of the package's API
 * Result.isFailure(decodeRolloutDocumentResult({ enforcementPercent: 101 })) // => true
 * ```
 * @since 0.1.0
 * @category decoding
 */
export const decodeRolloutDocumentResult = (input: unknown) =>
  decodeStrict(input, { onExcessProperty: "error", errors: "all" })

const encodeSync = Schema.encodeSync(StageValidationConfig)

/**
 * Encodes a document to its JSON form.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { StageValidationConfig, encodeRolloutDocument } from "stage-normalization/rollout"
 * const doc = Schema.decodeUnknownSync(StageValidationConfig)({})
 * JSON.parse(JSON.stringify(encodeRolloutDocument(doc))).version // => 0
 * ```
 * @since 0.1.0
 * @category encoding
 */
export const encodeRolloutDocument = (doc: RolloutDocument): RolloutDocumentEncoded => encodeSync(doc)

/**
 * The document every default produces: warn everywhere, nothing enforced, version 0.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * DEFAULT_DOCUMENT.defaultMode // => "warn"
 * ```
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_DOCUMENT: RolloutDocument = Schema.decodeUnknownSync(StageValidationConfig)({})
