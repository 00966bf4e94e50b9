/**
 * Percentage bucketing: a stable hash of the UTF-8 bytes of `(salt, key)` mapped onto 10,000
 * buckets (0.01 % steps). A key is in a `p %` rollout iff `bucket < p × 100`, so raising the
 * percentage only ever adds keys (a monotonic ramp).
 *
 * **Which hash, and why.** The default is MurmurHash3 (x86, 32-bit, seed 0), written out here and
 * fed the UTF-8 bytes straight from `charCodeAt`, so a call allocates nothing (no `Buffer`, no
 * `TextEncoder` output, no hex string). Murmur3's finaliser gives full avalanche, which is all a
 * bucketing hash needs — there is no adversary choosing request ids to game a rollout — and it is
 * what Unleash's `flexibleRollout` uses too. It runs in tens of nanoseconds for a UUID, where
 * SHA-256 through `node:crypto` (the seeds' choice) costs about 1.4 µs a call on Node 24.
 * SHA-256 stays selectable (`bucketAlgorithm: "sha256"`) for hosts that need bucket parity with
 * the seeds' implementation or a cryptographic hash.
 *
 * **Input framing.** The hashed bytes are `utf8(salt) ‖ 0x00 ‖ utf8(key)`; salts cannot contain NUL
 * (the config schema checks it), so distinct `(salt, key)` pairs never collide by concatenation.
 * Lone UTF-16 surrogates encode as U+FFFD, exactly as `Buffer.from(s, "utf8")` does, so both
 * algorithms see the same bytes. The 32-bit hash `h` maps to `⌊h × 10000 / 2³²⌋` (multiply-high, no
 * modulo bias worth the name).
 *
 * **Separate salts for separate decisions.** Enforcement and offender-log sampling hash with
 * different salts; sharing one input would make "sampled" and "enforced" the same requests
 * (Unleash PR #533 fixed exactly that skew between variants and rollout).
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import {
  type BucketAlgorithm,
  DEFAULT_ENFORCEMENT_SALT,
  DEFAULT_SAMPLING_SALT,
  type StageValidationConfig
} from "./Config.ts"

/**
 * Number of buckets: 10,000, i.e. 0.01 % resolution.
 *
 * @example
 * ```ts
 * import { BUCKET_COUNT } from "stage-normalization/rollout"
 * BUCKET_COUNT // => 10000
 * ```
 * @since 0.1.0
 * @category constants
 */
export const BUCKET_COUNT = 10_000

const C1 = 0xcc9e2d51
const C2 = 0x1b873593
const TWO_POW_32 = 4294967296

// The murmur3 block step, once: scramble a 32-bit block, then fold it into the running hash.
// Small enough for V8 to inline at every call site, so the hot loop pays nothing for it.
const scramble = (k: number): number => {
  k = Math.imul(k, C1)
  k = (k << 15) | (k >>> 17)
  return Math.imul(k, C2)
}
const mixBlock = (h1: number, k: number): number => {
  h1 ^= scramble(k)
  h1 = (h1 << 13) | (h1 >>> 19)
  return (Math.imul(h1, 5) + 0xe6546b64) | 0
}

// Murmur3 state after `utf8(salt) ‖ 0x00`, per salt: a config has two salts, so the prefix is
// hashed once rather than per request. Bounded so arbitrary salts cannot grow it without limit.
interface Murmur3State {
  readonly h1: number
  readonly tail: number
  readonly tailLength: number
  readonly byteLength: number
}

const EMPTY_STATE: Murmur3State = { h1: 0, tail: 0, tailLength: 0, byteLength: 0 }

/**
 * Feeds the UTF-8 bytes of `s` (and, when `nul`, a trailing 0x00) into a murmur3 state and returns
 * the finalised hash, or the intermediate state when `finalise` is false. One function with local
 * variables only: V8 keeps everything in registers and nothing is allocated on the final call.
 */
function murmur3Utf8(state: Murmur3State, s: string, finalise: true): number
function murmur3Utf8(state: Murmur3State, s: string, finalise: false): Murmur3State
function murmur3Utf8(state: Murmur3State, s: string, finalise: boolean): number | Murmur3State {
  let h1 = state.h1
  let tail = state.tail
  let tailLength = state.tailLength
  let byteLength = state.byteLength
  const n = s.length
  let i = 0
  while (i < n) {
    // ASCII fast path: four characters are four bytes, whatever the alignment of the pending tail.
    if (i + 3 < n) {
      const a = s.charCodeAt(i)
      const b = s.charCodeAt(i + 1)
      const c = s.charCodeAt(i + 2)
      const d = s.charCodeAt(i + 3)
      if ((a | b | c | d) < 0x80) {
        const word = a | (b << 8) | (c << 16) | (d << 24)
        let k: number
        if (tailLength === 0) {
          k = word
        } else {
          const shift = tailLength << 3
          k = tail | (word << shift)
          tail = word >>> (32 - shift)
        }
        h1 = mixBlock(h1, k)
        byteLength += 4
        i += 4
        continue
      }
    }
    const code = s.charCodeAt(i++)
    let packed: number
    let count: number
    if (code < 0x80) {
      packed = code
      count = 1
    } else if (code < 0x800) {
      packed = (0xc0 | (code >> 6)) | ((0x80 | (code & 0x3f)) << 8)
      count = 2
    } else if (code >= 0xd800 && code <= 0xdfff) {
      const next = i < n ? s.charCodeAt(i) : 0
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++
        const cp = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00)
        packed = (0xf0 | (cp >> 18)) | ((0x80 | ((cp >> 12) & 0x3f)) << 8) | ((0x80 | ((cp >> 6) & 0x3f)) << 16) |
          ((0x80 | (cp & 0x3f)) << 24)
        count = 4
      } else {
        // lone surrogate → U+FFFD (EF BF BD), as Buffer.from and TextEncoder do
        packed = 0xef | (0xbf << 8) | (0xbd << 16)
        count = 3
      }
    } else {
      packed = (0xe0 | (code >> 12)) | ((0x80 | ((code >> 6) & 0x3f)) << 8) | ((0x80 | (code & 0x3f)) << 16)
      count = 3
    }
    for (let j = 0; j < count; j++) {
      tail |= ((packed >>> (j << 3)) & 0xff) << (tailLength << 3)
      if (++tailLength === 4) {
        h1 = mixBlock(h1, tail)
        tail = 0
        tailLength = 0
      }
    }
    byteLength += count
  }
  if (!finalise) {
    // the salt prefix: append the 0x00 separator
    byteLength++
    if (++tailLength === 4) {
      h1 = mixBlock(h1, tail)
      tail = 0
      tailLength = 0
    }
    return { h1, tail, tailLength, byteLength }
  }
  return fmix(h1, tail, tailLength, byteLength)
}

const fmix = (h1: number, tail: number, tailLength: number, byteLength: number): number => {
  if (tailLength > 0) h1 ^= scramble(tail)
  let h = h1 ^ byteLength
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const saltPrefixes = new Map<string, Murmur3State>()

const saltPrefix = (salt: string): Murmur3State => {
  let state = saltPrefixes.get(salt)
  if (state === undefined) {
    state = murmur3Utf8(EMPTY_STATE, salt, false)
    if (saltPrefixes.size >= 64) saltPrefixes.clear()
    saltPrefixes.set(salt, state)
  }
  return state
}

/**
 * MurmurHash3 x86 32-bit (seed 0) of `utf8(salt) ‖ 0x00 ‖ utf8(key)`, as an unsigned 32-bit integer.
 * Allocation-free once the salt's prefix state is cached.
 *
 * @example
 * ```ts
 * import { murmur3SaltedKey } from "stage-normalization/rollout"
 * murmur3SaltedKey("salt", "req-1") === murmur3SaltedKey("salt", "req-1") // => true
 * ```
 * @since 0.1.0
 * @category hashing
 */
export const murmur3SaltedKey = (salt: string, key: string): number => murmur3Utf8(saltPrefix(salt), key, true)

/**
 * MurmurHash3 x86 32-bit of a byte array (reference implementation; the salted variant streams the
 * same bytes without building the array).
 *
 * @example
 * ```ts
 * import { murmur3Bytes } from "./Bucketing.ts" // internal: not part of the package's API
 * murmur3Bytes(new TextEncoder().encode("hello")).toString(16) // => "248bfa47"
 * ```
 * @since 0.1.0
 * @category hashing
 */
export const murmur3Bytes = (bytes: Uint8Array, seed = 0): number => {
  let h1 = seed | 0
  const blocks = bytes.length >>> 2
  for (let b = 0; b < blocks; b++) {
    const o = b << 2
    h1 = mixBlock(h1, bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24))
  }
  let tail = 0
  const rest = bytes.length & 3
  for (let j = 0; j < rest; j++) tail |= bytes[(blocks << 2) + j]! << (j << 3)
  return fmix(h1, tail, rest, bytes.length)
}

/**
 * SHA-256 of `utf8(salt) ‖ 0x00 ‖ utf8(key)`, first four bytes big-endian, as an unsigned 32-bit
 * integer.
 *
 * @example
 * ```ts
 * import { sha256SaltedKey } from "stage-normalization/rollout"
 * sha256SaltedKey("salt", "req-1") >= 0 // => true
 * ```
 * @since 0.1.0
 * @category hashing
 */
export const sha256SaltedKey = (salt: string, key: string): number =>
  createHash("sha256").update(salt, "utf8").update("\u0000", "utf8").update(key, "utf8").digest().readUInt32BE(0)

/**
 * Maps an unsigned 32-bit hash onto a bucket `0 … 9,999`.
 *
 * @example
 * ```ts
 * import { hashToBucket } from "./Bucketing.ts" // internal: not part of the package's API
 * hashToBucket(0) // => 0
 * hashToBucket(0xffffffff) // => 9999
 * ```
 * @since 0.1.0
 * @category bucketing
 */
export const hashToBucket = (hash: number): number => Math.floor((hash * BUCKET_COUNT) / TWO_POW_32)

/**
 * The bucket (`0 … 9,999`) of `key` under `salt` with the chosen algorithm (default murmur3).
 *
 * @example
 * ```ts
 * import { bucketOf } from "stage-normalization/rollout"
 * const b = bucketOf("req-42", "stage-validation/enforcement")
 * b >= 0 && b < 10000 // => true
 * ```
 * @since 0.1.0
 * @category bucketing
 */
export const bucketOf = (key: string, salt: string, algorithm: BucketAlgorithm = "murmur3"): number =>
  hashToBucket(algorithm === "sha256" ? sha256SaltedKey(salt, key) : murmur3SaltedKey(salt, key))

/**
 * Whether a bucket falls in a `percent` rollout: `bucket < percent × 100`. 0 % (or NaN) admits no
 * bucket, 100 % every bucket.
 *
 * @example
 * ```ts
 * import { isBucketInPercent } from "./Bucketing.ts" // internal: not part of the package's API
 * isBucketInPercent(999, 10) // => true
 * isBucketInPercent(1000, 10) // => false
 * ```
 * @since 0.1.0
 * @category bucketing
 */
export const isBucketInPercent = (bucket: number, percent: number): boolean => bucket < percent * 100

/**
 * Whether `key` is in a `percent` rollout under `salt`. Does not hash at 0 % or 100 %.
 *
 * @example
 * ```ts
 * import { isInPercent } from "stage-normalization/rollout"
 * isInPercent("any-key", "salt", 100) // => true
 * isInPercent("any-key", "salt", 0) // => false
 * ```
 * @since 0.1.0
 * @category bucketing
 */
export const isInPercent = (
  key: string,
  salt: string,
  percent: number,
  algorithm: BucketAlgorithm = "murmur3"
): boolean => {
  if (!(percent > 0)) return false
  if (percent >= 100) return true
  return bucketOf(key, salt, algorithm) < percent * 100
}

/**
 * The enforcement bucket of a key under a config (its `enforcementSalt` and `bucketAlgorithm`).
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * import { enforcementBucket } from "./Bucketing.ts" // internal: not part of the package's API
 * enforcementBucket(DEFAULT_DOCUMENT, "req-1") < 10000 // => true
 * ```
 * @since 0.1.0
 * @category bucketing
 */
export const enforcementBucket = (config: StageValidationConfig, key: string): number =>
  bucketOf(key, config.enforcementSalt ?? DEFAULT_ENFORCEMENT_SALT, config.bucketAlgorithm ?? "murmur3")

/**
 * Whether a key is in the enforced set of a config (`enforcementPercent`, enforcement salt).
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT, isInEnforcedSet } from "stage-normalization/rollout"
 * isInEnforcedSet(DEFAULT_DOCUMENT, "req-1") // => true (100 % by default)
 * ```
 * @since 0.1.0
 * @category bucketing
 */
export const isInEnforcedSet = (config: StageValidationConfig, key: string): boolean =>
  isInPercent(
    key,
    config.enforcementSalt ?? DEFAULT_ENFORCEMENT_SALT,
    config.enforcementPercent,
    config.bucketAlgorithm ?? "murmur3"
  )

/**
 * The log-sampling bucket of a key under a config (its `samplingSalt`).
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT } from "stage-normalization/rollout"
 * import { samplingBucket } from "./Bucketing.ts" // internal: not part of the package's API
 * samplingBucket(DEFAULT_DOCUMENT, "req-1") < 10000 // => true
 * ```
 * @since 0.1.0
 * @category bucketing
 */
export const samplingBucket = (config: StageValidationConfig, key: string): number =>
  bucketOf(key, config.samplingSalt ?? DEFAULT_SAMPLING_SALT, config.bucketAlgorithm ?? "murmur3")

/**
 * Whether a request's offender log line is kept at a sampling rate of `percent`. Uses the
 * sampling salt, so which requests are logged is independent of which are enforced.
 *
 * @example
 * ```ts
 * import { DEFAULT_DOCUMENT, isSampledForLogs } from "stage-normalization/rollout"
 * isSampledForLogs(DEFAULT_DOCUMENT, "req-1", 100) // => true
 * ```
 * @since 0.1.0
 * @category bucketing
 */
export const isSampledForLogs = (config: StageValidationConfig, key: string, percent: number): boolean =>
  isInPercent(key, config.samplingSalt ?? DEFAULT_SAMPLING_SALT, percent, config.bucketAlgorithm ?? "murmur3")
