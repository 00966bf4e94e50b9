/**
 * Optional peer dependencies, loaded when a layer needs them and not before.
 *
 * The library's entries import nothing but `effect` at load time. The drivers a host chooses —
 * node-redis for the shared rollout store, `@effect/sql-pg` for PostgreSQL, PGlite for the
 * embedded database, `@effect/platform-node` for the Node integrations — are optional peer
 * dependencies (see docs/adr/ADR-005-dependencies.md). A layer that needs one imports it with a
 * dynamic `import()` when it is built; when the package is not installed the layer fails with a
 * {@link MissingPeerDependencyError} that names the package and the command that installs it,
 * instead of the module loader's stack trace: it prints as one line (its `stack` and Node's
 * `inspect` are `MissingPeerDependencyError: <message>`); the loader's error stays its `cause`,
 * without the loader's frames.
 *
 * @since 0.2.0
 */
import { Effect, Schema } from "effect"

/**
 * The optional peers and the version ranges the library is tested with (package.json's
 * `peerDependencies` says the same; a test keeps the two in step).
 *
 * @example
 * ```ts
 * import { OPTIONAL_PEERS } from "stage-normalization/migration"
 * OPTIONAL_PEERS["@effect/sql-pg"] // => "^4.0.5"
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const OPTIONAL_PEERS = {
  "@effect/platform-node": "^4.1.0",
  "@effect/sql-pg": "^4.0.5",
  "@electric-sql/pglite": "0.5.14",
  "@electric-sql/pglite-socket": "0.2.17",
  redis: "^6.3.1"
} as const

/**
 * The name of an optional peer dependency.
 *
 * @since 0.2.0
 * @category models
 */
export type OptionalPeer = keyof typeof OPTIONAL_PEERS

/**
 * A layer needed an optional peer dependency that is not installed. `packages` lists every
 * package the feature needs (with its range), `install` the command that adds them.
 *
 * @example
 * ```ts
 * import { MissingPeerDependencyError } from "stage-normalization/rollout"
 * const e = new MissingPeerDependencyError({ feature: "ModeStore.layerRedis", packages: ["redis@^6.3.1"], missing: "redis" })
 * e.message
 * // => "ModeStore.layerRedis needs the optional peer dependency redis, which is not installed: npm install redis@^6.3.1"
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export class MissingPeerDependencyError extends Schema.TaggedError<MissingPeerDependencyError>(
  "stage-normalization/MissingPeerDependencyError"
)("MissingPeerDependencyError", {
  /** what needed it, e.g. `ModeStore.layerRedis` */
  feature: Schema.String,
  /** the package that could not be loaded */
  missing: Schema.String,
  /** every package the feature needs, as `name@range` */
  packages: Schema.Array(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {
  /** The command that installs what the feature needs. */
  get install(): string {
    return `npm install ${this.packages.join(" ")}`
  }

  override get message(): string {
    return `${this.feature} needs the optional peer dependency ${this.missing}, which is not installed: ${this.install}`
  }

  /** How Node prints it (an unhandled rejection, `console.error`): one line, without the loader's error. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `MissingPeerDependencyError: ${this.message}`
  }
}

/** One line: where it was raised says nothing the message does not. */
const oneLineStack = (error: MissingPeerDependencyError): MissingPeerDependencyError => {
  Object.defineProperty(error, "stack", { value: `MissingPeerDependencyError: ${error.message}`, configurable: true, writable: true })
  return error
}

// The loader's error says everything in its first line ("Cannot find package 'redis' imported
// from …"); its frames are the module loader's. Kept as the cause, without them.
const withoutFrames = (cause: unknown): unknown => {
  if (cause instanceof Error && typeof cause.stack === "string") {
    try {
      Object.defineProperty(cause, "stack", { value: cause.stack.split("\n")[0], configurable: true, writable: true })
    } catch {
      // a frozen error keeps its stack
    }
  }
  return cause
}

const isModuleNotFound = (cause: unknown, name: string): boolean => {
  if (typeof cause !== "object" || cause === null) return false
  const { code, message } = cause as { code?: unknown; message?: unknown }
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    typeof message === "string" && (message.includes(`'${name}'`) || message.includes(`'${name}/`))
}

/**
 * Imports optional peers for `feature`. `load` must be a function of literal `import()`
 * expressions (so that bundlers — the CLI's own build among them — can see them); `needs` lists
 * the peers it loads, in the order a missing one should be reported. A missing package fails
 * with {@link MissingPeerDependencyError}; any other load failure is a defect.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { importPeers } from "stage-normalization/migration"
 * const PgClient = importPeers("layerFromUrl", ["@effect/sql-pg"], () => import("@effect/sql-pg")).pipe(
 *   Effect.map((module) => module.PgClient)
 * )
 * ```
 *
 * @since 0.2.0
 * @category loading
 */
export const importPeers = <A>(
  feature: string,
  needs: ReadonlyArray<OptionalPeer>,
  load: () => Promise<A>
): Effect.Effect<A, MissingPeerDependencyError> =>
  Effect.tryPromise({ try: load, catch: (cause) => cause }).pipe(
    Effect.catch((cause) => {
      const missing = needs.find((name) => isModuleNotFound(cause, name))
      return missing === undefined
        ? Effect.die(cause)
        : Effect.fail(oneLineStack(
          new MissingPeerDependencyError({
            feature,
            missing,
            packages: needs.map((name) => `${name}@${OPTIONAL_PEERS[name]}`),
            cause: withoutFrames(cause)
          })
        ))
    })
  )
