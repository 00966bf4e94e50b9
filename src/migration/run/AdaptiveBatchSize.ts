/**
 * Adaptive batch sizing, GitLab-style: after each batch the size moves towards the one that
 * would have taken the target duration (default 1 s), growing at most 20 % and shrinking at most
 * 50 % per step, with a ±10 % dead band so it settles, always within `[min, max]`.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category models
 */
export interface BatchSizing {
  readonly initial: number
  readonly min: number
  readonly max: number
  /** Target duration of one batch in milliseconds. */
  readonly targetMs: number
  /** When false the size stays `initial` (apart from statement-timeout splits). */
  readonly adaptive: boolean
}

/**
 * Defaults: 5,000 rows, within [100, 50,000], towards 1 s.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BATCH_SIZING: BatchSizing = { initial: 5_000, min: 100, max: 50_000, targetMs: 1_000, adaptive: true }

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n))

/**
 * The size of the next batch after one of `current` rows took `durationMs`.
 *
 * @example
 * ```ts
 * import { DEFAULT_BATCH_SIZING } from "stage-normalization/migration"
 * import { nextBatchSize } from "./AdaptiveBatchSize.ts" // internal: not part of the package's API
 * nextBatchSize(5_000, 100, DEFAULT_BATCH_SIZING)   // => 6000 (fast: grow 20 %)
 * nextBatchSize(5_000, 4_000, DEFAULT_BATCH_SIZING) // => 2500 (slow: shrink at most 50 %)
 * nextBatchSize(5_000, 1_050, DEFAULT_BATCH_SIZING) // => 5000 (on target)
 * ```
 *
 * @since 0.1.0
 * @category sizing
 */
export const nextBatchSize = (current: number, durationMs: number, sizing: BatchSizing): number => {
  if (!sizing.adaptive) return current
  const ratio = durationMs <= 0 ? Infinity : sizing.targetMs / durationMs
  if (ratio >= 1 / 1.1 && ratio <= 1.1) return clamp(current, sizing.min, sizing.max)
  return clamp(Math.round(current * clamp(ratio, 0.5, 1.2)), sizing.min, sizing.max)
}
