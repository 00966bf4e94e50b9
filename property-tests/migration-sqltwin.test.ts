/**
 * The SQL twin agrees with `normalizeStage`: for thousands of fast-check strings (case,
 * separators, whitespace, full-width and mathematical letters, Cyrillic look-alikes, zero-width
 * characters, empty and over-long input) the generated `normalize_stage(text)` returns the stage
 * `normalizeStage` finds, or NULL exactly when it finds none. Checked on the real PostgreSQL
 * (required: the suite fails when it is unreachable) and on the embedded database. Each fast-check
 * run sends 500 strings in one query (`unnest … WITH ORDINALITY`).
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import fc from "fast-check"
import { ensureSqlTwin } from "../src/migration/sql/SqlTwinInstaller.ts"
import { CANONICAL_STAGES, normalizeStage, STAGE_ALIASES, Vocabulary } from "../src/normalizer/index.ts"
import { layerScratchEmbedded, layerScratchPostgres, requirePostgres } from "../test/migration/support/Databases.ts"

const BATCH = 500

const fullWidth = (s: string) =>
  Array.from(s, (c) => (c >= "!" && c <= "~" ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join("")
// Mathematical bold letters (outside the BMP; NFKC maps them back to ASCII).
const mathBold = (s: string) =>
  Array.from(s, (c) =>
    c >= "A" && c <= "Z"
      ? String.fromCodePoint(0x1d400 + c.charCodeAt(0) - 65)
      : c >= "a" && c <= "z"
      ? String.fromCodePoint(0x1d41a + c.charCodeAt(0) - 97)
      : c).join("")
const cyrillic: Record<string, string> = { a: "а", e: "е", o: "о", p: "р", c: "с", s: "ѕ", i: "і", A: "А", E: "Е", S: "Ѕ", C: "С" }
const lookAlike = (s: string, at: number) => {
  const chars = Array.from(s)
  const i = chars.findIndex((c, k) => k >= at % Math.max(1, chars.length) && cyrillic[c] !== undefined)
  if (i >= 0) chars[i] = cyrillic[chars[i]!]!
  return chars.join("")
}

const spellings = [...CANONICAL_STAGES, ...STAGE_ALIASES.map((a) => a.alias), "series x", "angel", "bridge", "pre-ipo"]
const whitespace = fc.constantFrom(" ", "\t", "\n", "\r", "\v", "\f", "\u00a0", "\u3000", "\u2003", "\u200b", "\ufeff")
const padding = fc.array(whitespace, { maxLength: 3 }).map((xs) => xs.join(""))
const separator = fc.array(fc.constantFrom(" ", "_", "-", ".", "\t", "  ", "\u00a0", "\u200b", "/", ","), {
  minLength: 1,
  maxLength: 3
}).map((xs) => xs.join(""))

const variant = fc.tuple(
  fc.constantFrom(...spellings),
  fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
  separator,
  padding,
  padding,
  fc.constantFrom("", " Round", "_stage", " plus", "+", " PLUS", "-round-round"),
  fc.constantFrom("plain", "fullwidth", "mathbold", "lookalike", "zerowidth"),
  fc.nat()
).map(([spelling, flips, sep, before, after, suffix, transform, n]) => {
  let s = Array.from(spelling + suffix, (c, i) => (flips[i % flips.length] ? c.toUpperCase() : c.toLowerCase())).join("")
  s = s.replace(/[ _.-]+/g, sep)
  if (transform === "fullwidth") s = fullWidth(s)
  else if (transform === "mathbold") s = mathBold(s)
  else if (transform === "lookalike") s = lookAlike(s, n)
  else if (transform === "zerowidth") s = s.slice(0, n % (s.length + 1)) + "\u200d" + s.slice(n % (s.length + 1))
  return before + s + after
})

// Around the 64-code-unit limit, with characters outside the BMP (which count twice in JS).
const nearLimit = fc.tuple(fc.constantFrom(...CANONICAL_STAGES, "Series A", "𝐒𝐞𝐞𝐝"), fc.integer({ min: 40, max: 70 }), whitespace)
  .map(([s, width, pad]) => s + pad.repeat(Math.max(0, width - s.length)))

const anyString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.constant("")
)

// PostgreSQL text cannot hold NUL, and lone surrogates cannot be sent as UTF-8.
const storable = (s: string) => !s.includes("\u0000") && !/\p{Surrogate}/u.test(s)

const input = fc.oneof(
  { weight: 6, arbitrary: variant },
  { weight: 2, arbitrary: nearLimit },
  { weight: 2, arbitrary: anyString }
).filter(storable)

const expected = (s: string): string | null => {
  const r = normalizeStage(s)
  return r._tag === "Canonical" ? r.stage : null
}

const agreement = (runs: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { twin } = yield* ensureSqlTwin()
    const query = (xs: ReadonlyArray<string>) =>
      Effect.runPromise(
        sql<{ i: string; stage: string | null }>`
          SELECT u.i::text AS i, ${sql.literal(twin.qualifiedName)}(u.x) AS stage
          FROM unnest(${xs}::text[]) WITH ORDINALITY AS u(x, i) ORDER BY u.i`
      )
    let checked = 0
    yield* Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(fc.array(input, { minLength: BATCH, maxLength: BATCH }), async (xs) => {
          const rows = await query(xs)
          assert.strictEqual(rows.length, xs.length)
          for (let k = 0; k < xs.length; k++) {
            const want = expected(xs[k]!)
            const got = rows[k]!.stage
            if (want !== got) {
              assert.fail(`TS ${JSON.stringify(want)} ≠ SQL ${JSON.stringify(got)} for ${JSON.stringify(xs[k])}`)
            }
          }
          checked += xs.length
        }),
        { numRuns: runs, endOnFailure: true }
      )
    )
    return checked
  })

const fixed = [
  "", " ", "seed", " Seed ", "ＳＥＥＤ", "𝐒𝐞𝐞𝐝", "sеed", "se\u200bed", "Series\u00a0A", "SERIES__C___PLUS", "series c+",
  "series-c+ round", "plus", "Pre Seed Round", "growth-stage", "late stage", "seriesc plus", "İ", "K", "ﬁ",
  "seed" + " ".repeat(60), "𝐒𝐞𝐞𝐝" + " ".repeat(57), "\tseries\u000bb\f", "series-a-round-round", "a&b", "\\1"
]

const fixedAgreement = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { twin } = yield* ensureSqlTwin()
  const rows = yield* sql<{ stage: string | null }>`
    SELECT ${sql.literal(twin.qualifiedName)}(u.x) AS stage FROM unnest(${fixed}::text[]) WITH ORDINALITY AS u(x, i) ORDER BY u.i`
  fixed.forEach((s, k) => assert.strictEqual(rows[k]!.stage, expected(s), JSON.stringify(s)))
})

describe("SQL twin ≡ normalizeStage", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)
  layer(layerScratchPostgres("twin"), { timeout: "60 seconds" })("real PostgreSQL", (it) => {
    it.effect("agrees on hand-picked edge cases", () => fixedAgreement)
    it.effect("agrees on ≥ 5,000 generated strings", () =>
      Effect.gen(function*() {
        const checked = yield* agreement(12)
        assert.isAtLeast(checked, 5_000)
      }), { timeout: 60_000 })
    it.effect("re-installing the same vocabulary is a no-op; another vocabulary version re-creates it", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* ensureSqlTwin()
        const again = yield* ensureSqlTwin()
        assert.strictEqual(again.action, "unchanged")
        const custom = Vocabulary.makeUnsafe({
          name: "stage",
          canonical: CANONICAL_STAGES,
          aliases: [...STAGE_ALIASES, { alias: "angel", stage: "pre-seed", since: "9.9.9" }]
        })
        assert.notStrictEqual(custom.version, again.twin.version)
        const replaced = yield* ensureSqlTwin(custom)
        assert.strictEqual(replaced.action, "replaced")
        assert.strictEqual(replaced.previousComment, again.twin.comment)
        const angel = yield* sql<{ s: string | null }>`SELECT stage_normalization.normalize_stage('Angel') AS s`
        assert.strictEqual(angel[0]!.s, "pre-seed")
        assert.strictEqual((yield* ensureSqlTwin()).action, "replaced")
        const back = yield* sql<{ s: string | null }>`SELECT stage_normalization.normalize_stage('Angel') AS s`
        assert.strictEqual(back[0]!.s, null)
      }))
  })

  layer(layerScratchEmbedded, { timeout: "120 seconds" })("embedded database", (it) => {
    it.effect("agrees on hand-picked edge cases", () => fixedAgreement)
    it.effect("agrees on 2,000 generated strings", () =>
      Effect.gen(function*() {
        const checked = yield* agreement(4)
        assert.isAtLeast(checked, 2_000)
      }), { timeout: 120_000 })
  })
})
