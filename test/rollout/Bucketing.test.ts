import { assert, describe, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import {
  BUCKET_COUNT,
  bucketOf,
  DEFAULT_DOCUMENT,
  DEFAULT_ENFORCEMENT_SALT,
  DEFAULT_SAMPLING_SALT,
  isInEnforcedSet,
  isInPercent,
  isSampledForLogs,
  murmur3SaltedKey,
  sha256SaltedKey
} from "../../src/rollout/index.ts"
import { enforcementBucket, hashToBucket, isBucketInPercent, murmur3Bytes, samplingBucket } from "../../src/rollout/Bucketing.ts"

interface VectorCase {
  readonly salt: string
  readonly key: string
  readonly algorithm: "murmur3" | "sha256"
  readonly hash: number
  readonly bucket: number
  readonly note: string
}
const vectors = JSON.parse(readFileSync(new URL("../../vectors/bucketing.json", import.meta.url), "utf8")) as {
  readonly format: number
  readonly buckets: number
  readonly cases: ReadonlyArray<VectorCase>
}

// An independent reference: build the bytes with Buffer, hash them in one piece.
const framed = (salt: string, key: string): Uint8Array =>
  new Uint8Array(Buffer.concat([Buffer.from(salt, "utf8"), Buffer.from([0]), Buffer.from(key, "utf8")]))
const referenceHash = (c: Pick<VectorCase, "salt" | "key" | "algorithm">): number =>
  c.algorithm === "murmur3"
    ? murmur3Bytes(framed(c.salt, c.key))
    : createHash("sha256").update(framed(c.salt, c.key)).digest().readUInt32BE(0)

const enc = (s: string) => new TextEncoder().encode(s)

describe("murmur3", () => {
  it("matches the published MurmurHash3 x86_32 test values", () => {
    assert.strictEqual(murmur3Bytes(enc("")), 0)
    assert.strictEqual(murmur3Bytes(enc(""), 1), 0x514e28b7)
    assert.strictEqual(murmur3Bytes(enc(""), 0xffffffff), 0x81f16f39)
    assert.strictEqual(murmur3Bytes(enc("hello")), 0x248bfa47)
    assert.strictEqual(murmur3Bytes(enc("Hello, world!"), 1234), 0xfaf6cdb3)
    assert.strictEqual(murmur3Bytes(enc("The quick brown fox jumps over the lazy dog")), 0x2e4ff723)
    assert.strictEqual(murmur3Bytes(new Uint8Array([0x21, 0x43, 0x65, 0x87])), 0xf55b516b)
  })

  it("the streaming, allocation-free version equals hashing the framed bytes, for every tail alignment", () => {
    const pieces = ["", "a", "é", "日", "🚀", "\ud800", "abc", "x\udc00"]
    for (const salt of ["s", "sa", "sal", "salt", "salé", DEFAULT_ENFORCEMENT_SALT]) {
      for (const a of pieces) {
        for (const b of pieces) {
          const key = `${a}k${b}${a}`
          assert.strictEqual(murmur3SaltedKey(salt, key), murmur3Bytes(framed(salt, key)), JSON.stringify([salt, key]))
        }
      }
    }
  })
})

describe("vectors/bucketing.json", () => {
  it("has the documented shape, ≥ 100 cases, both algorithms and non-ASCII keys", () => {
    assert.strictEqual(vectors.format, 1)
    assert.strictEqual(vectors.buckets, BUCKET_COUNT)
    assert.isAtLeast(vectors.cases.length, 100)
    assert.isAtLeast(vectors.cases.filter((c) => c.algorithm === "sha256").length, 50)
    assert.isAtLeast(vectors.cases.filter((c) => [...c.key].some((ch) => ch.codePointAt(0)! > 0x7f)).length, 30)
  })

  it.each(vectors.cases.map((c, i) => [i, c] as const))("case %i", (_, c) => {
    const hash = c.algorithm === "murmur3" ? murmur3SaltedKey(c.salt, c.key) : sha256SaltedKey(c.salt, c.key)
    assert.strictEqual(hash, c.hash, c.note)
    assert.strictEqual(referenceHash(c), c.hash, `reference: ${c.note}`)
    assert.strictEqual(bucketOf(c.key, c.salt, c.algorithm), c.bucket, c.note)
    assert.strictEqual(hashToBucket(c.hash), c.bucket)
  })
})

describe("bucket mapping and percentages", () => {
  it("maps the 32-bit range onto 0…9999", () => {
    assert.strictEqual(hashToBucket(0), 0)
    assert.strictEqual(hashToBucket(429496), 0)
    assert.strictEqual(hashToBucket(429497), 1)
    assert.strictEqual(hashToBucket(0xffffffff), 9999)
  })

  it("in a p % rollout iff bucket < p × 100, with 0.01 % resolution", () => {
    assert.isTrue(isBucketInPercent(0, 0.01))
    assert.isFalse(isBucketInPercent(1, 0.01))
    assert.isTrue(isBucketInPercent(2499, 25))
    assert.isFalse(isBucketInPercent(2500, 25))
    assert.isFalse(isInPercent("k", "s", Number.NaN))
    assert.isFalse(isInPercent("k", "s", -5))
    assert.isTrue(isInPercent("k", "s", 250))
  })

  it("enforcement and log sampling use different salts, from the config", () => {
    const key = "3f2b8c1e-9d4a-4c7b-8e2f-0a1b2c3d4e5f"
    assert.strictEqual(enforcementBucket(DEFAULT_DOCUMENT, key), bucketOf(key, DEFAULT_ENFORCEMENT_SALT))
    assert.strictEqual(samplingBucket(DEFAULT_DOCUMENT, key), bucketOf(key, DEFAULT_SAMPLING_SALT))
    const custom = { ...DEFAULT_DOCUMENT, enforcementSalt: "e", samplingSalt: "l", bucketAlgorithm: "sha256" as const }
    assert.strictEqual(enforcementBucket(custom, key), bucketOf(key, "e", "sha256"))
    assert.strictEqual(samplingBucket(custom, key), bucketOf(key, "l", "sha256"))
    // not the same decision: over many keys the two 10 % sets overlap about 1 %, not 10 %
    let both = 0
    const n = 20_000
    const at10 = { ...DEFAULT_DOCUMENT, enforcementPercent: 10 }
    for (let i = 0; i < n; i++) {
      const k = `request-${i}`
      if (isInEnforcedSet(at10, k) && isSampledForLogs(at10, k, 10)) both++
    }
    assert.approximately(both / n, 0.01, 0.004)
  })
})
