/**
 * SHA-256 of backup files, computed while the bytes stream — never by reading a whole dump into
 * memory: {@link writeHashed} hashes a stream as it writes it to disk (the hash is of exactly the
 * bytes written), {@link hashFile} re-reads a file in chunks. Both are interruptible: the streams
 * are destroyed and a partial output file is removed.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { createReadStream, createWriteStream, rmSync } from "node:fs"
import type { Readable } from "node:stream"
import { describeCause, MigrationError } from "../MigrationError.ts"
import { BackupFailed, BackupInvalid } from "../MigrationErrorReason.ts"

/**
 * A digest and the number of bytes it covers.
 *
 * @since 0.1.0
 * @category models
 */
interface Digest {
  readonly sha256: string
  readonly bytes: number
}

/**
 * The SHA-256 of a file, read in chunks.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { hashFile } from "./StreamingHash.ts" // internal: not part of the package's API
 * const program = hashFile("backups/x.dump").pipe(Effect.map((d) => d.sha256))
 * ```
 *
 * @since 0.1.0
 * @category hashing
 */
export const hashFile = (path: string): Effect.Effect<Digest, MigrationError> =>
  Effect.callback<Digest, MigrationError>((resume) => {
    const hash = createHash("sha256")
    let bytes = 0
    const stream = createReadStream(path)
    stream.on("data", (chunk) => {
      const buffer = chunk as Buffer
      bytes += buffer.length
      hash.update(buffer)
    })
    stream.on("error", (cause) =>
      resume(Effect.fail(new MigrationError({ reason: new BackupInvalid({ detail: `cannot read ${path}: ${describeCause(cause)}`, cause }) })))
    )
    stream.on("end", () => resume(Effect.succeed({ sha256: hash.digest("hex"), bytes })))
    return Effect.sync(() => stream.destroy())
  })

/**
 * Write a stream to `path`, hashing the bytes as they pass. On failure or interruption the file is
 * removed. `onSourceError` names the producer in the message (e.g. "pg_dump").
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Readable } from "node:stream"
 * import { writeHashed } from "./StreamingHash.ts" // internal: not part of the package's API
 * const program = writeHashed(Readable.from([Buffer.from("abc")]), "/tmp/abc.bin", "test").pipe(
 *   Effect.map((d) => d.sha256) // => "ba7816bf…"
 * )
 * ```
 *
 * @since 0.1.0
 * @category hashing
 */
export const writeHashed = (source: Readable, path: string, producer: string): Effect.Effect<Digest, MigrationError> =>
  Effect.callback<Digest, MigrationError>((resume) => {
    const hash = createHash("sha256")
    let bytes = 0
    let done = false
    const out = createWriteStream(path, { flags: "wx" })
    const fail = (what: string, cause: unknown) => {
      if (done) return
      done = true
      source.unpipe(out)
      out.destroy()
      rmSync(path, { force: true })
      resume(Effect.fail(new MigrationError({ reason: new BackupFailed({ detail: `${what}: ${describeCause(cause)}`, cause }) })))
    }
    source.on("data", (chunk: Buffer) => {
      bytes += chunk.length
      hash.update(chunk)
    })
    source.on("error", (cause) => fail(`reading the output of ${producer}`, cause))
    out.on("error", (cause) => fail(`writing ${path}`, cause))
    out.on("finish", () => {
      if (done) return
      done = true
      resume(Effect.succeed({ sha256: hash.digest("hex"), bytes }))
    })
    source.pipe(out)
    return Effect.sync(() => {
      if (done) return
      done = true
      source.unpipe(out)
      source.destroy()
      out.destroy()
      rmSync(path, { force: true })
    })
  })
