/**
 * Rollout presets from the seeds (000 handoff memo, 001 runbook): production, staging and
 * development. Each is a complete {@link RolloutDocument} at version 0; `STAGE_VALIDATION_PRESET`
 * picks one at boot and the other env variables override its fields.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { type RolloutDocument, StageValidationConfig } from "./Config.ts"

const decode = Schema.decodeUnknownSync(StageValidationConfig)

/**
 * Production, as in seed 000: warn by default, `POST/PUT/PATCH /api/portfolio/strategies` enforced
 * (phase 3), `/api/monte-carlo/simulate` warning (it is a read), write-only enforcement on while
 * the historical data migrates (phase 2.5), 10 % of traffic in the enforced set (the first ramp
 * step), shadow mode off.
 *
 * @example
 * ```ts
 * import { PRODUCTION_CONFIG } from "stage-normalization/rollout"
 * PRODUCTION_CONFIG.enforcementPercent // => 10
 * ```
 * @since 0.1.0
 * @category presets
 */
export const PRODUCTION_CONFIG: RolloutDocument = decode({
  defaultMode: "warn",
  endpointMode: {
    "/api/portfolio/strategies": "enforce",
    "/api/monte-carlo/simulate": "warn"
  },
  enforceWriteOnly: true,
  enforcementPercent: 10,
  dryRun: false
})

/**
 * Staging runs one step ahead of production with the same shape: the same endpoint overrides and
 * write-only enforcement, at 100 % so every invalid write is rejected before production sees it.
 *
 * @example
 * ```ts
 * import { STAGING_CONFIG } from "stage-normalization/rollout"
 * STAGING_CONFIG.enforcementPercent // => 100
 * ```
 * @since 0.1.0
 * @category presets
 */
export const STAGING_CONFIG: RolloutDocument = decode({
  defaultMode: "warn",
  endpointMode: {
    "/api/portfolio/strategies": "enforce",
    "/api/monte-carlo/simulate": "warn"
  },
  enforceWriteOnly: true,
  enforcementPercent: 100,
  dryRun: false
})

/**
 * Local development: everything evaluated as if enforcing, **always dry-run** (the env loader
 * refuses to turn `dryRun` off for this preset), so developers see `X-Stage-Would-Reject` without
 * ever getting a 400.
 *
 * @example
 * ```ts
 * import { DEV_CONFIG } from "stage-normalization/rollout"
 * DEV_CONFIG.dryRun // => true
 * ```
 * @since 0.1.0
 * @category presets
 */
export const DEV_CONFIG: RolloutDocument = decode({
  defaultMode: "enforce",
  endpointMode: {},
  enforceWriteOnly: false,
  enforcementPercent: 100,
  dryRun: true
})

/**
 * Preset names accepted by `STAGE_VALIDATION_PRESET`.
 *
 * @example
 * ```ts
 * import { PRESET_NAMES } from "stage-normalization/rollout"
 * PRESET_NAMES // => ["production", "staging", "development"]
 * ```
 * @since 0.1.0
 * @category presets
 */
export const PRESET_NAMES = ["production", "staging", "development"] as const

/**
 * @example
 * ```ts
 * import { PRESETS, type PresetName } from "stage-normalization/rollout"
 * const name: PresetName = "staging"
 * PRESETS[name].enforcementPercent // => 100
 * ```
 * @since 0.1.0
 * @category models
 */
export type PresetName = (typeof PRESET_NAMES)[number]

/**
 * The presets by name.
 *
 * @example
 * ```ts
 * import { PRESETS } from "stage-normalization/rollout"
 * PRESETS.development.dryRun // => true
 * ```
 * @since 0.1.0
 * @category presets
 */
export const PRESETS: Readonly<Record<PresetName, RolloutDocument>> = {
  production: PRODUCTION_CONFIG,
  staging: STAGING_CONFIG,
  development: DEV_CONFIG
}

const ALIASES: Readonly<Record<string, PresetName>> = {
  production: "production",
  prod: "production",
  staging: "staging",
  stage: "staging",
  development: "development",
  dev: "development",
  local: "development"
}

/**
 * Parses a preset name (case-insensitive; `prod`, `stage`, `dev`, `local` are accepted aliases).
 *
 * @example
 * ```ts
 * import { parsePresetName } from "stage-normalization/rollout"
 * parsePresetName("Prod") // => "production"
 * parsePresetName("qa") // => undefined
 * ```
 * @since 0.1.0
 * @category presets
 */
export const parsePresetName = (input: string): PresetName | undefined =>
  Object.hasOwn(ALIASES, input.trim().toLowerCase()) ? ALIASES[input.trim().toLowerCase()] : undefined
