/**
 * Boot-time configuration from the environment, through effect `Config`:
 * `STAGE_VALIDATION_PRESET` (production | staging | development, aliases prod / stage / dev / local),
 * then the seeds' overrides `STAGE_VALIDATION_MODE`, `ENFORCE_WRITE_ONLY`, `ENFORCEMENT_PERCENT`,
 * `STAGE_VALIDATION_DRY_RUN`.
 *
 * **Startup validation never crashes the host.** Each invalid value logs exactly one structured
 * warning `{ event, field, value, fallback, message }` and falls back to the safe value: mode
 * `warn`, percentage `0`, dry-run off; an unknown preset falls back to the schema defaults and an
 * invalid `ENFORCE_WRITE_ONLY` keeps the preset's value. Empty values count as unset. The
 * development preset is always dry-run.
 *
 * Also here: {@link validateOpsSecret} / {@link opsSecretConfig}, the length check for the secrets
 * guarding the ops routes (≥ 32 characters unless `NODE_ENV=test`).
 *
 * @since 0.1.0
 */
import { Config, Effect, Option, Redacted, Schema } from "effect"
import { DEFAULT_DOCUMENT, type Mode, type RolloutDocument } from "./Config.ts"
import { parsePresetName, PRESET_NAMES, type PresetName, PRESETS } from "./Presets.ts"

/**
 * The raw environment values the loader reads (unset → `undefined`).
 *
 * @example
 * ```ts
 * import { resolveStageValidationEnv, type RawStageValidationEnv } from "stage-normalization/rollout"
 * const env: RawStageValidationEnv = { STAGE_VALIDATION_PRESET: "staging", ENFORCEMENT_PERCENT: "50" }
 * resolveStageValidationEnv(env).document.enforcementPercent // => 50
 * ```
 * @since 0.1.0
 * @category models
 */
export interface RawStageValidationEnv {
  readonly STAGE_VALIDATION_PRESET?: string | undefined
  readonly STAGE_VALIDATION_MODE?: string | undefined
  readonly ENFORCE_WRITE_ONLY?: string | undefined
  readonly ENFORCEMENT_PERCENT?: string | undefined
  readonly STAGE_VALIDATION_DRY_RUN?: string | undefined
}

/**
 * One rejected environment value: which variable, what it held (truncated to 100 characters),
 * and what was used instead.
 *
 * @example
 * ```ts
 * import { resolveStageValidationEnv } from "stage-normalization/rollout"
 * resolveStageValidationEnv({ ENFORCEMENT_PERCENT: "lots" }).warnings[0]?.fallback // => 0
 * ```
 * @since 0.1.0
 * @category models
 */
export interface EnvWarning {
  readonly event: "stage_validation.invalid_env"
  readonly field: keyof RawStageValidationEnv
  readonly value: string
  readonly fallback: string | number | boolean
  readonly message: string
}

/**
 * The outcome of loading: the boot document, the preset it started from, and the warnings.
 *
 * @example
 * ```ts
 * import { resolveStageValidationEnv } from "stage-normalization/rollout"
 * resolveStageValidationEnv({ STAGE_VALIDATION_PRESET: "dev" }).preset // => "development"
 * ```
 * @since 0.1.0
 * @category models
 */
export interface EnvLoadResult {
  readonly document: RolloutDocument
  readonly preset: PresetName | undefined
  readonly warnings: ReadonlyArray<EnvWarning>
}

const optionalString = (name: keyof RawStageValidationEnv) =>
  Config.String(name).pipe(Config.option, Config.map(Option.getOrUndefined))

/**
 * The effect `Config` describing the five variables, as raw strings (validation and fallbacks
 * happen in {@link resolveStageValidationEnv}, so that a bad value warns instead of failing).
 *
 * @example
 * ```ts
 * import { ConfigProvider, Effect } from "effect"
 * import { StageValidationEnv } from "stage-normalization/rollout"
 * const raw = Effect.runSync(StageValidationEnv.pipe(
 *   Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromUnknown({ ENFORCEMENT_PERCENT: "25" }))
 * ))
 * raw.ENFORCEMENT_PERCENT // => "25"
 * ```
 * @since 0.1.0
 * @category config
 */
export const StageValidationEnv: Config.Config<RawStageValidationEnv> = Config.all({
  STAGE_VALIDATION_PRESET: optionalString("STAGE_VALIDATION_PRESET"),
  STAGE_VALIDATION_MODE: optionalString("STAGE_VALIDATION_MODE"),
  ENFORCE_WRITE_ONLY: optionalString("ENFORCE_WRITE_ONLY"),
  ENFORCEMENT_PERCENT: optionalString("ENFORCEMENT_PERCENT"),
  STAGE_VALIDATION_DRY_RUN: optionalString("STAGE_VALIDATION_DRY_RUN")
})

const TRUE = new Set(["true", "1", "yes", "on"])
const FALSE = new Set(["false", "0", "no", "off"])

const parseBoolean = (raw: string): boolean | undefined => {
  const v = raw.trim().toLowerCase()
  return TRUE.has(v) ? true : FALSE.has(v) ? false : undefined
}

const parsePercent = (raw: string): number | undefined => {
  const v = raw.trim().replace(/%$/, "").trim()
  if (!/^(?:\d+(?:\.\d+)?|\.\d+)$/.test(v)) return undefined
  const n = Number(v)
  return Number.isFinite(n) && n >= 0 && n <= 100 ? n : undefined
}

const parseMode = (raw: string): Mode | undefined => {
  const v = raw.trim().toLowerCase()
  return v === "off" || v === "warn" || v === "enforce" ? v : undefined
}

const present = (raw: string | undefined): raw is string => raw !== undefined && raw.trim().length > 0

const shown = (raw: string): string => (raw.length > 100 ? `${raw.slice(0, 100)}…` : raw)

/**
 * Resolves raw environment values into a boot document and warnings. Pure; never fails.
 *
 * @example
 * ```ts
 * import { resolveStageValidationEnv } from "stage-normalization/rollout"
 * const r = resolveStageValidationEnv({ STAGE_VALIDATION_MODE: "enforec", ENFORCEMENT_PERCENT: "10" })
 * r.document.defaultMode // => "warn"
 * r.warnings[0]?.field // => "STAGE_VALIDATION_MODE"
 * ```
 * @since 0.1.0
 * @category config
 */
export const resolveStageValidationEnv = (env: RawStageValidationEnv): EnvLoadResult => {
  const warnings: Array<EnvWarning> = []
  const warn = (
    field: keyof RawStageValidationEnv,
    value: string,
    fallback: string | number | boolean,
    message: string
  ) => warnings.push({ event: "stage_validation.invalid_env", field, value: shown(value), fallback, message })

  let preset: PresetName | undefined
  let base: RolloutDocument = DEFAULT_DOCUMENT
  if (present(env.STAGE_VALIDATION_PRESET)) {
    preset = parsePresetName(env.STAGE_VALIDATION_PRESET)
    if (preset === undefined) {
      warn(
        "STAGE_VALIDATION_PRESET",
        env.STAGE_VALIDATION_PRESET,
        "defaults",
        `unknown preset; expected one of ${PRESET_NAMES.join(", ")}; using the schema defaults`
      )
    } else {
      base = PRESETS[preset]
    }
  }

  let defaultMode = base.defaultMode
  if (present(env.STAGE_VALIDATION_MODE)) {
    const mode = parseMode(env.STAGE_VALIDATION_MODE)
    if (mode === undefined) {
      defaultMode = "warn"
      warn("STAGE_VALIDATION_MODE", env.STAGE_VALIDATION_MODE, "warn", "expected off, warn or enforce")
    } else {
      defaultMode = mode
    }
  }

  let enforceWriteOnly = base.enforceWriteOnly
  if (present(env.ENFORCE_WRITE_ONLY)) {
    const value = parseBoolean(env.ENFORCE_WRITE_ONLY)
    if (value === undefined) {
      warn(
        "ENFORCE_WRITE_ONLY",
        env.ENFORCE_WRITE_ONLY,
        enforceWriteOnly,
        "expected true/false (1/0, yes/no, on/off); keeping the preset value"
      )
    } else {
      enforceWriteOnly = value
    }
  }

  let enforcementPercent = base.enforcementPercent
  if (present(env.ENFORCEMENT_PERCENT)) {
    const value = parsePercent(env.ENFORCEMENT_PERCENT)
    if (value === undefined) {
      enforcementPercent = 0
      warn("ENFORCEMENT_PERCENT", env.ENFORCEMENT_PERCENT, 0, "expected a number from 0 to 100")
    } else {
      enforcementPercent = value
    }
  }

  let dryRun = base.dryRun
  if (present(env.STAGE_VALIDATION_DRY_RUN)) {
    const value = parseBoolean(env.STAGE_VALIDATION_DRY_RUN)
    if (value === undefined) {
      dryRun = false
      warn("STAGE_VALIDATION_DRY_RUN", env.STAGE_VALIDATION_DRY_RUN, false, "expected true/false (1/0, yes/no, on/off)")
    } else {
      dryRun = value
    }
  }
  if (preset === "development" && !dryRun) {
    dryRun = true
    warn(
      "STAGE_VALIDATION_DRY_RUN",
      env.STAGE_VALIDATION_DRY_RUN ?? "",
      true,
      "the development preset is always dry-run"
    )
  }

  return {
    document: { ...base, defaultMode, enforceWriteOnly, enforcementPercent, dryRun },
    preset,
    warnings
  }
}

/**
 * Loads the boot document from the environment (the current `ConfigProvider`, `process.env` by
 * default), logging one structured warning per invalid value. Never fails: a provider error is
 * itself reported as a warning and the defaults are used.
 *
 * @example
 * ```ts
 * import { ConfigProvider, Effect } from "effect"
 * import { loadStageValidationEnv } from "stage-normalization/rollout"
 * const result = Effect.runSync(loadStageValidationEnv.pipe(
 *   Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromUnknown({ STAGE_VALIDATION_PRESET: "dev" }))
 * ))
 * result.document.dryRun // => true
 * ```
 * @since 0.1.0
 * @category config
 */
export const loadStageValidationEnv: Effect.Effect<EnvLoadResult> = Effect.gen(function*() {
  const raw = yield* Effect.result(StageValidationEnv)
  if (raw._tag === "Failure") {
    const warning: EnvWarning = {
      event: "stage_validation.invalid_env",
      field: "STAGE_VALIDATION_PRESET",
      value: "",
      fallback: "defaults",
      message: `could not read the environment: ${raw.failure.message}`
    }
    yield* Effect.logWarning(warning)
    return { document: DEFAULT_DOCUMENT, preset: undefined, warnings: [warning] }
  }
  const result = resolveStageValidationEnv(raw.success)
  for (const warning of result.warnings) {
    yield* Effect.logWarning(warning).pipe(Effect.annotateLogs({ event: warning.event, field: warning.field }))
  }
  return result
}).pipe(Effect.withLogSpan("stage_validation.load_env"))

/**
 * Minimum length of an ops secret outside tests.
 *
 * @example
 * ```ts
 * import { OPS_SECRET_MIN_LENGTH } from "stage-normalization/rollout"
 * OPS_SECRET_MIN_LENGTH // => 32
 * ```
 * @since 0.1.0
 * @category constants
 */
export const OPS_SECRET_MIN_LENGTH = 32

/**
 * An ops secret (webhook HMAC key, ops API token) is missing or too short.
 *
 * @example
 * ```ts
 * import { OpsSecretError } from "stage-normalization/rollout"
 * new OpsSecretError({ name: "ALERTMANAGER_WEBHOOK_SECRET", reason: "TooShort", length: 8, minimum: 32 }).message
 * // => "ALERTMANAGER_WEBHOOK_SECRET must be at least 32 characters (got 8)"
 * ```
 * @since 0.1.0
 * @category errors
 */
export class OpsSecretError extends Schema.TaggedError<OpsSecretError>("stage-normalization/rollout/OpsSecretError")(
  "OpsSecretError",
  {
    name: Schema.String,
    reason: Schema.Literals(["Missing", "TooShort"]),
    length: Schema.Number,
    minimum: Schema.Number
  }
) {
  override get message(): string {
    return this.reason === "Missing"
      ? `${this.name} is not set`
      : `${this.name} must be at least ${this.minimum} characters (got ${this.length})`
  }
}

/**
 * Checks an ops secret: it must be set, and at least {@link OPS_SECRET_MIN_LENGTH} characters
 * unless `nodeEnv` is `"test"`. Succeeds with the secret as a `Redacted`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { validateOpsSecret } from "stage-normalization/rollout"
 * const err = Effect.runSync(Effect.flip(validateOpsSecret("OPS_TOKEN", "short", { nodeEnv: "production" })))
 * err.reason // => "TooShort"
 * ```
 * @since 0.1.0
 * @category config
 */
export const validateOpsSecret = (
  name: string,
  value: string | Redacted.Redacted<string> | undefined,
  options: { readonly nodeEnv?: string | undefined } = {}
): Effect.Effect<Redacted.Redacted<string>, OpsSecretError> => {
  const secret = value === undefined ? "" : typeof value === "string" ? value : Redacted.value(value)
  const minimum = options.nodeEnv === "test" ? 1 : OPS_SECRET_MIN_LENGTH
  if (secret.length === 0) {
    return Effect.fail(new OpsSecretError({ name, reason: "Missing", length: 0, minimum }))
  }
  if (secret.length < minimum) {
    return Effect.fail(new OpsSecretError({ name, reason: "TooShort", length: secret.length, minimum }))
  }
  return Effect.succeed(typeof value === "string" || value === undefined ? Redacted.make(secret) : value)
}

/**
 * Reads an ops secret and `NODE_ENV` through effect `Config` and validates it with
 * {@link validateOpsSecret}.
 *
 * @example
 * ```ts
 * import { ConfigProvider, Effect } from "effect"
 * import { opsSecretConfig } from "./EnvConfig.ts" // internal: not part of the package's API
 * const program = opsSecretConfig("ALERTMANAGER_WEBHOOK_SECRET").pipe(
 *   Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromUnknown({ NODE_ENV: "production" }))
 * )
 * // fails with OpsSecretError { reason: "Missing" }
 * ```
 * @since 0.1.0
 * @category config
 */
export const opsSecretConfig = (name: string): Effect.Effect<Redacted.Redacted<string>, OpsSecretError> =>
  Effect.gen(function*() {
    const secret = yield* Config.Redacted(name).pipe(Config.option, Config.map(Option.getOrUndefined)).pipe(
      Effect.orElseSucceed(() => undefined)
    )
    const nodeEnv = yield* Config.String("NODE_ENV").pipe(Config.option, Config.map(Option.getOrUndefined))
      .pipe(Effect.orElseSucceed(() => undefined))
    return yield* validateOpsSecret(name, secret, { nodeEnv })
  })
