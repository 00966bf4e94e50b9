/**
 * stage-normalization: normalise investment-stage values and roll their validation out safely.
 *
 * The root export re-exports every module's public API; each folder is also a subpath export
 * (`stage-normalization/normalizer`, `/rollout`, `/observability`, …) for hosts that want less.
 *
 * @since 0.1.0
 */
export * from "./normalizer/index.ts"
export * from "./observability/index.ts"
export * from "./rollout/index.ts"
export * from "./http/index.ts"
export * from "./migration/index.ts"
