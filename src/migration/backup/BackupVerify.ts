/**
 * `backup verify`: recompute a backup's SHA-256 from its dump (streaming) and compare it with the
 * manifest and the `.sha256` file; the outcome is recorded in the manifest (`lastVerification`).
 * A mismatch, a missing dump or a size that differs is a negative result (`ok: false`), not an
 * error; an unreadable or invalid manifest is an error.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { readFile } from "node:fs/promises"
import { type BackupManifest, dumpPathOf, listManifests, readManifest, writeManifest } from "./BackupManifest.ts"
import { MigrationError } from "../MigrationError.ts"
import { BackupInvalid } from "../MigrationErrorReason.ts"
import { hashFile } from "./StreamingHash.ts"
import { nowIso } from "../../shared/WallClock.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface BackupVerification {
  readonly manifestPath: string
  readonly dumpPath: string
  readonly ok: boolean
  readonly expected: string
  readonly found: string | null
  readonly bytes: number | null
  readonly problems: ReadonlyArray<string>
}

/**
 * Choose a manifest: the given path, or the newest valid one in `dir` (holding `table` when
 * given).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { selectManifest } from "stage-normalization/migration"
 * const program = selectManifest({ dir: "backups", table: "public.portfolio_companies" })
 * ```
 *
 * @since 0.1.0
 * @category backups
 */
export const selectManifest = (
  options: { readonly manifest?: string | undefined; readonly dir?: string | undefined; readonly table?: string | undefined }
) =>
  Effect.gen(function*() {
    if (options.manifest !== undefined) return options.manifest
    const dir = options.dir ?? "backups"
    const found = yield* listManifests(dir)
    const table = options.table
    const matching = found.filter((f) =>
      f._tag === "Valid" &&
      (table === undefined || f.manifest.tables.some((t) => t.table === table || t.table.endsWith(`.${table}`)))
    )
    const first = matching[0]
    if (first === undefined) {
      return yield* new MigrationError({
        reason: new BackupInvalid({
          detail: `no backup manifest${table === undefined ? "" : ` of ${table}`} in ${dir} (make one with \`backup create\`)`
        })
      })
    }
    return first.path
  })

/**
 * Verify a backup's checksum (see the module header).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { verifyBackup } from "stage-normalization/migration"
 * const program = verifyBackup("backups/x.manifest.json").pipe(Effect.map((v) => v.ok))
 * ```
 *
 * @since 0.1.0
 * @category backups
 */
export const verifyBackup = Effect.fn("Migration.verifyBackup")(function*(manifestPath: string) {
  const manifest = yield* readManifest(manifestPath)
  const dumpPath = dumpPathOf(manifestPath, manifest)
  const problems: Array<string> = []
  const digest = yield* hashFile(dumpPath).pipe(Effect.option)
  let found: string | null = null
  let bytes: number | null = null
  if (digest._tag === "None") problems.push(`the dump ${dumpPath} is missing or unreadable`)
  else {
    found = digest.value.sha256
    bytes = digest.value.bytes
    if (found !== manifest.sha256) problems.push(`checksum mismatch: the manifest says ${manifest.sha256}, the file hashes to ${found}`)
    if (bytes !== manifest.bytes) problems.push(`size mismatch: the manifest says ${manifest.bytes} bytes, the file has ${bytes}`)
  }
  const sidecar = yield* Effect.promise(() => readFile(`${dumpPath}.sha256`, "utf8").catch(() => undefined))
  if (sidecar === undefined) problems.push(`${dumpPath}.sha256 is missing`)
  else if (sidecar.trim().split(/\s+/)[0] !== manifest.sha256) problems.push(`${dumpPath}.sha256 disagrees with the manifest`)
  const ok = problems.length === 0
  const updated: BackupManifest = { ...manifest, lastVerification: { at: yield* nowIso, ok, sha256: found ?? "" } }
  yield* writeManifest(manifestPath, updated)
  return { manifestPath, dumpPath, ok, expected: manifest.sha256, found, bytes, problems } satisfies BackupVerification as BackupVerification
})
