/**
 * A per-call override of the shared store's timeouts, for the actions that only make things safer
 * (a downgrade): they must not be refused by a slow store the way the 100 ms background reads are.
 * Set around an effect with {@link withStoreTimeout}; the Redis backend waits up to the larger of
 * its own timeout and this one for each command made inside it. Nothing else sees it: the
 * background refresh and the hot path keep their own timeouts.
 *
 * @internal
 */
import { Context, Duration, Effect } from "effect"

/** @internal */
export const StoreTimeout = Context.Reference<Duration.Duration | undefined>(
  "stage-normalization/rollout/StoreTimeout",
  { defaultValue: () => undefined }
)

/** Runs `effect` with every store command inside it allowed up to `timeout`. @internal */
export const withStoreTimeout = (timeout: Duration.Input) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, StoreTimeout, Duration.fromInputUnsafe(timeout))

/** The timeout of one store command: the backend's own, or the override when that is longer. @internal */
export const effectiveTimeout = (own: Duration.Duration): Effect.Effect<Duration.Duration> =>
  StoreTimeout.useSync((override) => (override === undefined ? own : Duration.max(own, override)))
