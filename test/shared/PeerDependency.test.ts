/**
 * Optional peers: the loader's typed error, what counts as "missing", and that the table of
 * optional peers is package.json's. (The real thing — entries and layers in a folder where the
 * peers are not installed — is scripts/consumer-test.sh.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { readFileSync } from "node:fs"
import { inspect } from "node:util"
import { importPeers, MissingPeerDependencyError, OPTIONAL_PEERS } from "../../src/shared/PeerDependency.ts"

const notFound = (message: string, code = "ERR_MODULE_NOT_FOUND") => Object.assign(new Error(message), { code })

describe("importPeers", () => {
  it.effect("a missing peer is a MissingPeerDependencyError naming every package the feature needs", () =>
    Effect.gen(function*() {
      const error = yield* importPeers("ModeStore.layerRedis", ["@effect/platform-node", "redis"], () =>
        Promise.reject(notFound("Cannot find package 'redis' imported from /app/node_modules/@effect/platform-node/dist/NodeRedis.js"))).pipe(
        Effect.flip
      )
      assert.instanceOf(error, MissingPeerDependencyError)
      assert.strictEqual(error.missing, "redis")
      assert.deepStrictEqual(error.packages, ["@effect/platform-node@^4.1.0", "redis@^6.3.1"])
      assert.strictEqual(
        error.message,
        "ModeStore.layerRedis needs the optional peer dependency redis, which is not installed: " +
          "npm install @effect/platform-node@^4.1.0 redis@^6.3.1"
      )
    }))

  it.effect("prints as one line, without the loader's stack; the loader's error stays its cause", () =>
    Effect.gen(function*() {
      const loader = notFound("Cannot find package 'redis' imported from /app/node_modules/@effect/platform-node/dist/NodeRedis.js")
      const error = yield* importPeers("ModeStore.layerRedis", ["redis"], () => Promise.reject(loader)).pipe(Effect.flip)
      const oneLine = `MissingPeerDependencyError: ${error.message}`
      // how Node prints an unhandled rejection or console.error(error)
      assert.strictEqual(inspect(error), oneLine)
      assert.strictEqual(error.stack, oneLine)
      // how an Effect host's runMain prints it: no frame of the loader's (or of ours)
      assert.notMatch(Cause.pretty(Cause.fail(error)), /^\s+at /m)
      assert.strictEqual(error.cause, loader)
      assert.strictEqual((error.cause as { code?: string }).code, "ERR_MODULE_NOT_FOUND")
      assert.include((error.cause as Error).message, "Cannot find package 'redis'")
    }))

  it.effect("CommonJS's MODULE_NOT_FOUND and a subpath count as missing too", () =>
    Effect.gen(function*() {
      const error = yield* importPeers("layerFromUrl", ["@effect/sql-pg"], () =>
        Promise.reject(notFound("Cannot find module '@effect/sql-pg/PgClient'", "MODULE_NOT_FOUND"))).pipe(Effect.flip)
      assert.strictEqual(error.missing, "@effect/sql-pg")
    }))

  it.effect("a package whose name only starts like a peer's is not that peer: the failure is a defect", () =>
    Effect.gen(function*() {
      const exit = yield* importPeers("EmbeddedPostgres.layer", ["@electric-sql/pglite"], () =>
        Promise.reject(notFound("Cannot find package '@electric-sql/pglite-socket' imported from /app"))).pipe(Effect.exit)
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
    }))

  it.effect("any other load failure is a defect, not a missing peer", () =>
    Effect.gen(function*() {
      const exit = yield* importPeers("layerFromUrl", ["@effect/sql-pg"], () => Promise.reject(new SyntaxError("Unexpected token"))).pipe(
        Effect.exit
      )
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
    }))

  it.effect("an installed peer loads", () =>
    Effect.gen(function*() {
      const module = yield* importPeers("layerFromUrl", ["@effect/sql-pg"], () => import("@effect/sql-pg/PgClient"))
      assert.strictEqual(typeof module.layer, "function")
    }))
})

describe("OPTIONAL_PEERS", () => {
  it("is package.json's optional peer dependencies, with the same ranges", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      readonly peerDependencies: Record<string, string>
      readonly peerDependenciesMeta: Record<string, { readonly optional?: boolean }>
    }
    const optional = Object.fromEntries(
      Object.entries(pkg.peerDependencies).filter(([name]) => pkg.peerDependenciesMeta[name]?.optional === true)
    )
    assert.deepStrictEqual(optional, { ...OPTIONAL_PEERS })
    assert.strictEqual(pkg.peerDependenciesMeta["effect"], undefined, "effect is a required peer")
  })
})
