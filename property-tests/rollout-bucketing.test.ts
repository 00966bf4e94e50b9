/**
 * fast-check properties of percentage bucketing (≥ 1,000 runs each) and a uniformity check over
 * 100,000 keys per key shape and algorithm (every decile within ±1 % absolute, chi-square p > 0.001).
 * Key samples come from fixed seeds, so the statistics are reproducible.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import {
  BUCKET_COUNT,
  bucketOf,
  isInPercent,
  murmur3SaltedKey
} from "../src/rollout/index.ts"
import { murmur3Bytes } from "../src/rollout/Bucketing.ts"

const runs = { numRuns: 1_000 }
const algorithm = fc.constantFrom("murmur3" as const, "sha256" as const)
const key = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.uuid()
)
const salt = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !s.includes("\u0000"))
const percent = fc.oneof(
  fc.integer({ min: 0, max: 100 }),
  fc.double({ min: 0, max: 100, noNaN: true }),
  fc.constantFrom(0, 0.01, 0.5, 10, 25, 50, 99.99, 100)
)

describe("bucketing properties", () => {
  it("buckets are integers in 0…9,999 and deterministic", () => {
    fc.assert(
      fc.property(key, salt, algorithm, (k, s, a) => {
        const b = bucketOf(k, s, a)
        return Number.isInteger(b) && b >= 0 && b < BUCKET_COUNT && b === bucketOf(k, s, a)
      }),
      runs
    )
  })

  it("monotonic ramp: in the rollout at p % ⇒ in it at every q ≥ p", () => {
    fc.assert(
      fc.property(key, salt, algorithm, percent, percent, (k, s, a, p1, p2) => {
        const [p, q] = p1 <= p2 ? [p1, p2] : [p2, p1]
        return !isInPercent(k, s, p, a) || isInPercent(k, s, q, a)
      }),
      runs
    )
  })

  it("0 % never, 100 % always", () => {
    fc.assert(
      fc.property(key, salt, algorithm, (k, s, a) => !isInPercent(k, s, 0, a) && isInPercent(k, s, 100, a)),
      runs
    )
  })

  it("the allocation-free murmur3 equals murmur3 of the framed UTF-8 bytes for any string", () => {
    fc.assert(
      fc.property(key, salt, (k, s) =>
        murmur3SaltedKey(s, k) ===
          murmur3Bytes(new Uint8Array(Buffer.concat([Buffer.from(s, "utf8"), Buffer.from([0]), Buffer.from(k, "utf8")])))),
      runs
    )
  })
})

// Regularised upper incomplete gamma Q(a, x) (Numerical Recipes gammq), for chi-square p-values.
// ln Γ(z) by Stirling's series, shifted up to z ≥ 10 (error far below 1e-10 there).
const logGamma = (z: number): number => {
  let shift = 0
  let x = z
  while (x < 10) {
    shift -= Math.log(x)
    x++
  }
  const x2 = x * x
  return shift + (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) +
    1 / (12 * x) - 1 / (360 * x * x2) + 1 / (1260 * x * x2 * x2) - 1 / (1680 * x * x2 * x2 * x2)
}
const gammaQ = (a: number, x: number): number => {
  if (x < a + 1) {
    let sum = 1 / a
    let del = sum
    for (let n = 1; n < 1_000; n++) {
      del *= x / (a + n)
      sum += del
      if (Math.abs(del) < Math.abs(sum) * 1e-15) break
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - logGamma(a))
  }
  let b = x + 1 - a
  let c = 1 / 1e-300
  let d = 1 / b
  let h = d
  for (let i = 1; i < 1_000; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < 1e-300) d = 1e-300
    c = b + an / c
    if (Math.abs(c) < 1e-300) c = 1e-300
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < 1e-15) break
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h
}
const at = (chi2: number, df: number) => gammaQ(df / 2, chi2 / 2)
const chiSquarePValue = (counts: ReadonlyArray<number>, total: number): number => {
  const expected = total / counts.length
  const chi2 = counts.reduce((acc, o) => acc + ((o - expected) ** 2) / expected, 0)
  return gammaQ((counts.length - 1) / 2, chi2 / 2)
}

const N = 100_000
const keyShapes: ReadonlyArray<readonly [string, () => ReadonlyArray<string>]> = [
  ["random UUIDs", () => fc.sample(fc.uuid(), { numRuns: N, seed: 20251030 })],
  ["sequential ids", () => Array.from({ length: N }, (_, i) => `req-${i}`)],
  ["random Unicode strings", () => fc.sample(fc.string({ unit: "grapheme", minLength: 1, maxLength: 16 }), { numRuns: N, seed: 7 })]
]

describe("uniformity over 100,000 keys", () => {
  it("the chi-square p-value helper is calibrated", () => {
    // df = 9: the 0.001 critical value is 27.877; df = 99: 148.23
    assert.approximately(at(27.877, 9), 0.001, 0.00005)
    assert.approximately(at(148.23, 99), 0.001, 0.00005)
    assert.approximately(at(9, 10), 0.5321, 0.001)
  })

  for (const [shape, make] of keyShapes) {
    for (const alg of ["murmur3", "sha256"] as const) {
      it(`${shape}, ${alg}: deciles within ±1 %, chi-square p > 0.001`, () => {
        const keys = make()
        assert.strictEqual(keys.length, N)
        const deciles = Array.from({ length: 10 }, () => 0)
        const hundredths = Array.from({ length: 100 }, () => 0)
        for (const k of keys) {
          const b = bucketOf(k, "stage-validation/enforcement", alg)
          deciles[Math.floor(b / 1_000)]!++
          hundredths[Math.floor(b / 100)]!++
        }
        for (const count of deciles) assert.approximately(count / N, 0.1, 0.01)
        assert.isAbove(chiSquarePValue(deciles, N), 0.001)
        assert.isAbove(chiSquarePValue(hundredths, N), 0.001)
      })
    }
  }
})
