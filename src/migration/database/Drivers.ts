/**
 * The migration module's drivers, loaded when a layer is built: `@effect/sql-pg` for a
 * PostgreSQL server (and the embedded database's socket) and PGlite for the embedded database.
 * Both are optional peer dependencies: importing `stage-normalization/migration` never needs
 * them, and a layer built without them fails with a `MissingPeerDependencyError` saying what to
 * install (see `shared/PeerDependency.ts`).
 *
 * @internal
 */
import type * as PgClientModule from "@effect/sql-pg/PgClient"
import { importPeers } from "../../shared/PeerDependency.ts"

/**
 * `@effect/sql-pg`'s `PgClient` module.
 *
 * @internal
 */
export const loadPgClient = (feature: string) =>
  importPeers(feature, ["@effect/sql-pg"], (): Promise<typeof PgClientModule> => import("@effect/sql-pg/PgClient"))

/**
 * PGlite and its socket server.
 *
 * @internal
 */
export const loadPglite = (feature: string) =>
  importPeers(
    feature,
    ["@electric-sql/pglite", "@electric-sql/pglite-socket"],
    () => Promise.all([import("@electric-sql/pglite"), import("@electric-sql/pglite-socket")])
  )
