/**
 * Writes vectors/bucketing.json: (salt, key, algorithm) → 32-bit hash and bucket, from the current
 * implementation. Run it only when bucketing changes on purpose (which moves every request between
 * the enforced and the warned set), then review the diff.
 *
 *   node scripts/generate-bucketing-vectors.ts
 */
import { writeFileSync } from "node:fs"
import {
  bucketOf,
  DEFAULT_ENFORCEMENT_SALT,
  DEFAULT_SAMPLING_SALT,
  murmur3SaltedKey,
  sha256SaltedKey
} from "../src/rollout/index.ts"

const keys: ReadonlyArray<readonly [string, string]> = [
  ["", "empty key"],
  ["a", "1 byte"],
  ["ab", "2 bytes"],
  ["abc", "3 bytes"],
  ["abcd", "4 bytes: one block"],
  ["abcde", "5 bytes"],
  ["req-1", "short id"],
  ["req-2", "short id"],
  ["req-10", "short id"],
  ["0", "digit"],
  ["42", "digits"],
  ["1234567890", "digits"],
  ["3f2b8c1e-9d4a-4c7b-8e2f-0a1b2c3d4e5f", "uuid v4"],
  ["7c9e6679-7425-40de-944b-e07fc1f90ae7", "uuid v4"],
  ["00000000-0000-0000-0000-000000000000", "nil uuid"],
  ["ffffffff-ffff-ffff-ffff-ffffffffffff", "max uuid"],
  ["01J9Z8Q4X6V3K2M1N0P9R8S7T6", "ulid"],
  ["fund:1", "stickiness: fund"],
  ["fund:2", "stickiness: fund"],
  ["client-acme", "stickiness: client"],
  ["The quick brown fox jumps over the lazy dog", "long ASCII"],
  ["x".repeat(200), "200 bytes"],
  [" leading space", "space"],
  ["tab\there", "tab"],
  ["new\nline", "newline"],
  ["NUL\u0000inside", "NUL inside the key (only salts exclude NUL)"],
  ["é", "2-byte UTF-8 (U+00E9)"],
  ["e\u0301", "e + combining acute (not normalised)"],
  ["Ünïcödé", "Latin-1 supplement"],
  ["ß", "sharp s"],
  ["Série A", "accented stage name"],
  ["серия-а", "Cyrillic"],
  ["シリーズA", "Katakana (3-byte UTF-8)"],
  ["日本語", "CJK"],
  ["种子轮", "CJK (seed round)"],
  ["시리즈 A", "Hangul"],
  ["سلسلة أ", "Arabic"],
  ["סדרה א", "Hebrew"],
  ["🚀", "astral plane: 4-byte UTF-8 (surrogate pair)"],
  ["fund-🦄-7", "emoji in the middle"],
  ["👩‍💻", "ZWJ sequence"],
  ["Ｓｅｅｄ", "full-width Latin"],
  ["\u200b", "zero-width space"],
  ["\ud800", "lone high surrogate: hashed as U+FFFD"],
  ["a\udc00b", "lone low surrogate: hashed as U+FFFD"],
  ["\ufffd", "U+FFFD itself (same bytes as a lone surrogate)"],
  ["\u{10ffff}", "last code point"],
  ["mixed-ASCII-é-ü-日-🚀-end", "mixed widths"]
]

const salts: ReadonlyArray<readonly [string, string]> = [
  [DEFAULT_ENFORCEMENT_SALT, "default enforcement salt"],
  [DEFAULT_SAMPLING_SALT, "default log-sampling salt"]
]
const extraSalts: ReadonlyArray<readonly [string, string]> = [
  ["s", "1-byte salt"],
  ["tenant-42/enforcement", "custom salt"],
  ["salé", "non-ASCII salt"]
]

const cases: Array<Record<string, unknown>> = []
for (const algorithm of ["murmur3", "sha256"] as const) {
  const hash = algorithm === "murmur3" ? murmur3SaltedKey : sha256SaltedKey
  for (const [salt, saltNote] of salts) {
    for (const [key, keyNote] of keys) {
      cases.push({ salt, key, algorithm, hash: hash(salt, key), bucket: bucketOf(key, salt, algorithm), note: `${keyNote}; ${saltNote}` })
    }
  }
  for (const [salt, saltNote] of extraSalts) {
    for (const [key, keyNote] of keys.slice(6, 14)) {
      cases.push({ salt, key, algorithm, hash: hash(salt, key), bucket: bucketOf(key, salt, algorithm), note: `${keyNote}; ${saltNote}` })
    }
  }
}

const file = {
  format: 1,
  buckets: 10000,
  input: "utf8(salt) ++ [0x00] ++ utf8(key); lone UTF-16 surrogates encode as U+FFFD",
  hashes: {
    murmur3: "MurmurHash3 x86 32-bit, seed 0, as an unsigned integer",
    sha256: "SHA-256, first 4 bytes big-endian, as an unsigned integer"
  },
  bucket: "floor(hash * 10000 / 2^32)",
  inRollout: "bucket < percent * 100",
  cases
}
writeFileSync(new URL("../vectors/bucketing.json", import.meta.url), JSON.stringify(file, null, 2) + "\n")
console.log(`wrote ${cases.length} cases`)
