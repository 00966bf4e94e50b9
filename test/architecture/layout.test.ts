/**
 * The layout of src/ holds: no file over 400 lines; the migration and the rollout read the time
 * only through the clock adapter (src/shared/WallClock.ts) or effect's `Clock`; and the dependency
 * rules of .dependency-cruiser.cjs — no import cycle between files or folders (type-only imports
 * count), the one-way direction between folders, internal/ privacy — have no violation. The rules
 * run as `npm run lint:deps` runs them; docs/architecture.md draws the same graph.
 */
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { cruiseSrc, formatViolation } from "../../scripts/depcruise.ts"

const root = new URL("../../", import.meta.url).pathname
const MAX_LINES = 400
const CLOCK_ADAPTER = "src/shared/WallClock.ts"

const sources = (readdirSync(join(root, "src"), { recursive: true }) as Array<string>)
  .filter((file) => file.endsWith(".ts"))
  .map((file) => `src/${file.split("\\").join("/")}`)
  .sort()

const read = (source: string): string => readFileSync(join(root, source), "utf8")
const lineCount = (text: string): number => text.split("\n").length - (text.endsWith("\n") ? 1 : 0)

/** A line of a JSDoc block or a line comment (`*`, `/*`, `//` after indentation). */
const isComment = (line: string): boolean => /^\s*(?:\*|\/\*|\/\/)/.test(line)

describe("src/ layout", () => {
  it(`has no file over ${MAX_LINES} lines`, () => {
    assert.isAbove(sources.length, 100)
    const long = sources
      .map((source) => ({ source, lines: lineCount(read(source)) }))
      .filter((file) => file.lines > MAX_LINES)
      .map((file) => `${file.source}: ${file.lines} lines`)
    assert.deepStrictEqual(long, [], `files over ${MAX_LINES} lines:\n${long.join("\n")}`)
  })

  it(`reads the time in src/migration and src/rollout only through ${CLOCK_ADAPTER}`, () => {
    const scoped = sources.filter(
      (source) => (source.startsWith("src/migration/") || source.startsWith("src/rollout/")) && source !== CLOCK_ADAPTER
    )
    assert.isAbove(scoped.length, 50)
    const found: Array<string> = []
    for (const source of scoped) {
      read(source).split("\n").forEach((line, i) => {
        if (!isComment(line) && /Date\.now\(\)|new Date\(/.test(line)) found.push(`${source}:${i + 1}: ${line.trim()}`)
      })
    }
    assert.deepStrictEqual(
      found,
      [],
      `Date.now() / new Date( outside ${CLOCK_ADAPTER} (use nowMillis, now, nowIso, elapsedSince or dateOf):\n${found.join("\n")}`
    )
  })

  it("breaks none of the dependency rules (.dependency-cruiser.cjs)", () => {
    const result = cruiseSrc()
    // the cruise saw the sources and counted type-only imports
    assert.isAbove(result.summary.totalCruised, sources.length)
    assert.isTrue(result.summary.optionsUsed.tsPreCompilationDeps === true)
    const names = (result.summary.ruleSetUsed?.forbidden ?? []).map((rule) => rule.name)
    for (const rule of ["no-circular", "no-circular-folders", "not-to-unresolvable", "internal-is-private"]) {
      assert.include(names, rule)
    }
    const violations = result.summary.violations.map(formatViolation).sort()
    assert.deepStrictEqual(violations, [], `dependency rule violations (→(type) is a type-only import):\n${violations.join("\n")}`)
  })
})
