/**
 * The flags that pick where `mode` and `status` find the rollout document, and the source they
 * name: `--url` (a running service's mode API, with the ops token from `--token-file` or
 * `STAGE_VALIDATION_OPS_TOKEN`) or the shared store itself (`--redis-url`, else `REDIS_URL`;
 * `--prefix`, else `STAGE_VALIDATION_REDIS_PREFIX`, else the store's `stage-validation`). The
 * token is never a flag: a flag's value shows in the process list and the shell history.
 *
 * @since 0.2.0
 */
import { Effect, Option, type Scope } from "effect"
import { Flag } from "effect/cli"
import { readFile } from "node:fs/promises"
import { CliInputError } from "./CliInputError.ts"
import type { RolloutSource, SourceError } from "./RolloutSource.ts"
import { apiRolloutSource } from "./RolloutSourceApi.ts"
import { type GuardTarget, redisRolloutSource } from "./RolloutSourceRedis.ts"
import { DEFAULT_STORE_PREFIX } from "./SharedStore.ts"

/**
 * The environment variable holding the service's ops token(s), comma-separated for rotation (the
 * first one is used).
 *
 * @example
 * ```ts
 * import { OPS_TOKEN_ENV } from "./RolloutSourceFlags.ts" // internal: not part of the package's API
 * OPS_TOKEN_ENV // => "STAGE_VALIDATION_OPS_TOKEN"
 * ```
 * @since 0.2.0
 * @category constants
 */
export const OPS_TOKEN_ENV = "STAGE_VALIDATION_OPS_TOKEN"

/**
 * `--url`, `--token-file`, `--redis-url` and `--prefix`, all optional (the environment is read
 * when the source is opened, so that an explicit flag and an inherited variable can be told apart).
 *
 * @example
 * ```ts
 * import { Command } from "effect/cli"
 * import { sourceFlags } from "./RolloutSourceFlags.ts" // internal: not part of the package's API
 * const peek = Command.make("peek", { ...sourceFlags }) // the handler gets url, tokenFile, redisUrl, prefix
 * ```
 * @since 0.2.0
 * @category flags
 */
export const sourceFlags = {
  url: Flag.String("url").pipe(
    Flag.withDescription("A running service's base URL: use its mode API (/_ops/stage-validation/mode) instead of Redis"),
    Flag.optional
  ),
  tokenFile: Flag.String("token-file").pipe(
    Flag.withDescription(`File holding the ops token for --url (default: ${OPS_TOKEN_ENV})`),
    Flag.optional
  ),
  redisUrl: Flag.String("redis-url").pipe(
    Flag.withDescription("Redis holding the shared rollout document (default: REDIS_URL)"),
    Flag.optional
  ),
  prefix: Flag.String("prefix").pipe(
    Flag.withDescription(`Key prefix of the rollout document (default: STAGE_VALIDATION_REDIS_PREFIX, else ${DEFAULT_STORE_PREFIX})`),
    Flag.optional
  )
}

/**
 * The values of {@link sourceFlags}.
 *
 * @since 0.2.0
 * @category models
 */
export interface SourceFlagValues {
  readonly url: Option.Option<string>
  readonly tokenFile: Option.Option<string>
  readonly redisUrl: Option.Option<string>
  readonly prefix: Option.Option<string>
}

const env = (name: string): string | undefined => {
  const value = process.env[name]?.trim()
  return value === undefined || value === "" ? undefined : value
}

const readToken = (tokenFile: Option.Option<string>): Effect.Effect<string, CliInputError> =>
  Option.isSome(tokenFile)
    ? Effect.tryPromise({
      try: () => readFile(tokenFile.value, "utf8"),
      catch: (cause) =>
        new CliInputError({ message: `cannot read --token-file ${tokenFile.value}: ${(cause as Error).message ?? String(cause)}` })
    }).pipe(
      Effect.flatMap((text) => {
        const token = text.trim()
        return token === ""
          ? Effect.fail(new CliInputError({ message: `--token-file ${tokenFile.value} is empty` }))
          : Effect.succeed(token)
      })
    )
    : Effect.suspend(() => {
      const token = env(OPS_TOKEN_ENV)?.split(",")[0]?.trim()
      return token === undefined || token === ""
        ? Effect.fail(
          new CliInputError({
            message: `--url needs the service's ops token: --token-file PATH (a file holding it) or ${OPS_TOKEN_ENV}`
          })
        )
        : Effect.succeed(token)
    })

/**
 * The source the flags name, before anything is opened: the mode API (with its token), the shared
 * store, or none (`message` says what to give).
 *
 * @since 0.2.0
 * @category models
 */
export type SourceChoice =
  | { readonly _tag: "Api"; readonly url: string; readonly token: string }
  | { readonly _tag: "Redis"; readonly url: string; readonly prefix: string }
  | { readonly _tag: "None"; readonly message: string }

/**
 * Reads the flags (and the environment behind them). Bad combinations are a `CliInputError`
 * (exit 2): `--url` with `--redis-url`, `--prefix` or a guard database (the service's guard reads
 * its own), `--token-file` without `--url`, a URL that is not http(s) or redis(s), an unreadable
 * token. No source at all is `None`, for the caller to report.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { chooseRolloutSource } from "./RolloutSourceFlags.ts" // internal: not part of the package's API
 * const choice = chooseRolloutSource(
 *   { url: Option.none(), tokenFile: Option.none(), redisUrl: Option.some("redis://127.0.0.1:6379"), prefix: Option.none() },
 *   "mode get"
 * ) // Effect<{ _tag: "Redis", url: "redis://127.0.0.1:6379", prefix: "stage-validation" }, CliInputError>
 * ```
 * @since 0.2.0
 * @category constructors
 */
export const chooseRolloutSource = (
  flags: SourceFlagValues,
  command: string,
  databaseUrl: Option.Option<string> = Option.none()
): Effect.Effect<SourceChoice, CliInputError> =>
  Effect.gen(function*() {
    if (Option.isSome(flags.url)) {
      const conflicting = [
        Option.isSome(flags.redisUrl) ? "--redis-url" : undefined,
        Option.isSome(flags.prefix) ? "--prefix" : undefined,
        Option.isSome(databaseUrl) ? "--database-url" : undefined
      ].filter((f) => f !== undefined)
      if (conflicting.length > 0) {
        return yield* new CliInputError({
          message: `${command}: --url talks to the service's mode API, which uses its own store and database; ` +
            `drop ${conflicting.join(", ")} (or drop --url to use the shared store directly)`
        })
      }
      if (!/^https?:\/\//i.test(flags.url.value)) {
        return yield* new CliInputError({ message: `--url must be an http(s) URL, got ${JSON.stringify(flags.url.value)}` })
      }
      return { _tag: "Api", url: flags.url.value, token: yield* readToken(flags.tokenFile) } as const
    }
    if (Option.isSome(flags.tokenFile)) {
      return yield* new CliInputError({ message: `${command}: --token-file goes with --url (the mode API); Redis needs no token here` })
    }
    const redisUrl = Option.getOrUndefined(flags.redisUrl) ?? env("REDIS_URL")
    if (redisUrl === undefined) {
      return {
        _tag: "None",
        message: `${command} needs the rollout document: --redis-url (or REDIS_URL) for the shared store the services use, ` +
          `or --url for a running service's mode API`
      } as const
    }
    if (!/^rediss?:\/\//i.test(redisUrl)) {
      return yield* new CliInputError({ message: `--redis-url must be a redis:// URL, got ${JSON.stringify(redisUrl)}` })
    }
    const prefix = Option.getOrUndefined(flags.prefix) ?? env("STAGE_VALIDATION_REDIS_PREFIX") ?? DEFAULT_STORE_PREFIX
    return { _tag: "Redis", url: redisUrl, prefix } as const
  })

/**
 * Opens a chosen source (in the caller's scope); `None` fails with its message (exit 2).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { openChosenSource } from "./RolloutSourceFlags.ts" // internal: not part of the package's API
 * const read = openChosenSource({ _tag: "Redis", url: "redis://127.0.0.1:6379", prefix: "stage-validation" }).pipe(
 *   Effect.flatMap((source) => source.read),
 *   Effect.scoped
 * )
 * ```
 * @since 0.2.0
 * @category constructors
 */
export const openChosenSource = (
  choice: SourceChoice,
  guard?: GuardTarget
): Effect.Effect<RolloutSource, SourceError, Scope.Scope> => {
  switch (choice._tag) {
    case "Api":
      return Effect.succeed(apiRolloutSource(choice.url, choice.token))
    case "Redis":
      return redisRolloutSource(
        choice.url,
        choice.prefix,
        guard ?? { databaseUrl: Option.none(), table: "portfolio_companies", column: "stage" }
      )
    case "None":
      return Effect.fail(new CliInputError({ message: choice.message }))
  }
}

/**
 * Opens the source the flags name: {@link chooseRolloutSource}, then {@link openChosenSource}
 * (no source at all is a `CliInputError` too).
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { openRolloutSource } from "./RolloutSourceFlags.ts" // internal: not part of the package's API
 * const label = openRolloutSource(
 *   { url: Option.none(), tokenFile: Option.none(), redisUrl: Option.some("redis://127.0.0.1:6379"), prefix: Option.none() },
 *   "mode get"
 * ).pipe(Effect.map((source) => source.label), Effect.scoped)
 * ```
 * @since 0.2.0
 * @category constructors
 */
export const openRolloutSource = (
  flags: SourceFlagValues,
  command: string,
  guard?: GuardTarget
): Effect.Effect<RolloutSource, SourceError, Scope.Scope> =>
  chooseRolloutSource(flags, command, guard?.databaseUrl).pipe(Effect.flatMap((choice) => openChosenSource(choice, guard)))
