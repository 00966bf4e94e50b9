/**
 * `OpsConfig`: the settings of the ops routes under `/_ops/stage-validation/`: the accepted
 * credentials (bearer tokens and Standard Webhooks secrets, several of each for rotation), the
 * alert that triggers the downgrade, the deduplication TTL, and whether the process runs in
 * production (the manual toggle is refused there).
 *
 * `layerConfig` reads the environment: `STAGE_VALIDATION_OPS_TOKEN` (comma-separated for
 * rotation), `STAGE_VALIDATION_WEBHOOK_SECRETS` (comma-separated `whsec_…`),
 * `STAGE_VALIDATION_ALERT_NAME` (default `StageValidationBlastRadius`), `NODE_ENV`. Every token
 * and secret must be ≥ 32 characters unless `NODE_ENV=test` (the rollout's `validateOpsSecret`).
 *
 * @since 0.1.0
 */
import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
import { type OpsSecretError, validateOpsSecret } from "../../rollout/EnvConfig.ts"
import { DEFAULT_DEDUPLICATION_TTL_SECONDS } from "./WebhookDeduplication.ts"
import { type OpsCredentials, SIGNATURE_TOLERANCE_SECONDS } from "./WebhookAuth.ts"

/**
 * The alert whose `firing` notification downgrades enforce → warn.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_ALERT_NAME = "StageValidationBlastRadius"

/**
 * Body limit of the ops routes: 1 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const OPS_MAX_BODY_BYTES = 1024 * 1024

/**
 * @since 0.1.0
 * @category models
 */
export interface OpsSettings {
  readonly credentials: OpsCredentials
  readonly alertName: string
  readonly deduplicationTtlSeconds: number
  readonly toleranceSeconds: number
  /** `NODE_ENV === "production"`: the manual toggle answers 403 */
  readonly production: boolean
}

const split = (raw: string): ReadonlyArray<string> =>
  raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0)

/**
 * @example
 * ```ts
 * import { OpsConfig } from "stage-normalization/http"
 * const layer = OpsConfig.layer({ credentials: { bearerTokens: ["t".repeat(32)], signingSecrets: [] } })
 * ```
 * @since 0.1.0
 * @category services
 */
export class OpsConfig extends Context.Service<OpsConfig, OpsSettings>()("stage-normalization/http/OpsConfig") {
  /**
   * Explicit settings (defaults: the alert name above, TTL 600 s, tolerance 300 s, not production).
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layer = (
    settings: Partial<OpsSettings> & { readonly credentials: OpsCredentials }
  ): Layer.Layer<OpsConfig> =>
    Layer.succeed(
      OpsConfig,
      OpsConfig.of({
        credentials: settings.credentials,
        alertName: settings.alertName ?? DEFAULT_ALERT_NAME,
        deduplicationTtlSeconds: settings.deduplicationTtlSeconds ?? DEFAULT_DEDUPLICATION_TTL_SECONDS,
        toleranceSeconds: settings.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS,
        production: settings.production ?? false
      })
    )

  /**
   * Settings from the environment (see the module notes). `fallbackToken` is used when
   * `STAGE_VALIDATION_OPS_TOKEN` is unset (the reference service generates one).
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layerConfig = (
    options: { readonly fallbackToken?: string | undefined } = {}
  ): Layer.Layer<OpsConfig, OpsSecretError> => Layer.effect(OpsConfig, loadOpsSettings(options))
}

const optional = (name: string) =>
  Config.String(name).pipe(Config.option, Config.map(Option.getOrUndefined), Effect.orElseSucceed(() => undefined))

/**
 * Reads and validates the ops settings from the environment.
 *
 * @since 0.1.0
 * @category config
 */
export const loadOpsSettings = Effect.fnUntraced(function*(
  options: { readonly fallbackToken?: string | undefined } = {}
) {
  const nodeEnv = yield* optional("NODE_ENV")
  const tokensRaw = (yield* optional("STAGE_VALIDATION_OPS_TOKEN")) ?? options.fallbackToken ?? ""
  const secretsRaw = (yield* optional("STAGE_VALIDATION_WEBHOOK_SECRETS")) ?? ""
  const alertName = (yield* optional("STAGE_VALIDATION_ALERT_NAME")) ?? DEFAULT_ALERT_NAME
  const bearerTokens: Array<string> = []
  for (const token of split(tokensRaw)) {
    bearerTokens.push(Redacted.value(yield* validateOpsSecret("STAGE_VALIDATION_OPS_TOKEN", token, { nodeEnv })))
  }
  const signingSecrets: Array<string> = []
  for (const secret of split(secretsRaw)) {
    signingSecrets.push(Redacted.value(yield* validateOpsSecret("STAGE_VALIDATION_WEBHOOK_SECRETS", secret, { nodeEnv })))
  }
  return OpsConfig.of({
    credentials: { bearerTokens, signingSecrets },
    alertName,
    deduplicationTtlSeconds: DEFAULT_DEDUPLICATION_TTL_SECONDS,
    toleranceSeconds: SIGNATURE_TOLERANCE_SECONDS,
    production: nodeEnv === "production"
  })
})
