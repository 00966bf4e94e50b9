/**
 * The layout of src/ holds: no file over 400 lines; the migration and the rollout read the time
 * only through the clock adapter (src/shared/WallClock.ts) or effect's `Clock`; and the dependency
 * rules of .dependency-cruiser.cjs — no import cycle between files or folders (type-only imports
 * count), the one-way direction between folders, internal/ privacy — have no violation. The rules
 * run as `npm run lint:deps` runs them; docs/architecture.md draws the same graph. In the
 * migration (its run, rollback, verify and backup paths) no function body is over 80 lines.
 */
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import ts from "typescript"
import { cruiseSrc, formatViolation } from "../../scripts/depcruise.ts"

const root = new URL("../../", import.meta.url).pathname
const MAX_LINES = 400
const MAX_FUNCTION_LINES = 80
const FUNCTION_SCOPES = ["src/migration/"]
const CLOCK_ADAPTER = "src/shared/WallClock.ts"

const sources = (readdirSync(join(root, "src"), { recursive: true }) as Array<string>)
  .filter((file) => file.endsWith(".ts"))
  .map((file) => `src/${file.split("\\").join("/")}`)
  .sort()

const read = (source: string): string => readFileSync(join(root, source), "utf8")
const lineCount = (text: string): number => text.split("\n").length - (text.endsWith("\n") ? 1 : 0)

/** A line of a JSDoc block or a line comment (`*`, `/*`, `//` after indentation). */
const isComment = (line: string): boolean => /^\s*(?:\*|\/\*|\/\/)/.test(line)

/** Every function body of a source over `limit` lines, as `file:line: n lines`. */
const longFunctions = (source: string, limit: number): Array<string> => {
  const file = ts.createSourceFile(source, read(source), ts.ScriptTarget.Latest, true)
  const found: Array<string> = []
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body !== undefined) {
      const body = node.body as ts.Node
      const first = file.getLineAndCharacterOfPosition(body.getStart()).line
      const lines = file.getLineAndCharacterOfPosition(body.getEnd()).line - first + 1
      if (lines > limit) found.push(`${source}:${first + 1}: ${lines} lines`)
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return found
}

describe("src/ layout", () => {
  it(`has no file over ${MAX_LINES} lines`, () => {
    assert.isAbove(sources.length, 100)
    const long = sources
      .map((source) => ({ source, lines: lineCount(read(source)) }))
      .filter((file) => file.lines > MAX_LINES)
      .map((file) => `${file.source}: ${file.lines} lines`)
    assert.deepStrictEqual(long, [], `files over ${MAX_LINES} lines:\n${long.join("\n")}`)
  })

  it(`has no function over ${MAX_FUNCTION_LINES} lines in src/migration`, () => {
    const scoped = sources.filter((source) => FUNCTION_SCOPES.some((scope) => source.startsWith(scope)))
    assert.isAbove(scoped.length, 10)
    const long = scoped.flatMap((source) => longFunctions(source, MAX_FUNCTION_LINES))
    assert.deepStrictEqual(long, [], `functions over ${MAX_FUNCTION_LINES} lines:\n${long.join("\n")}`)
    // and the check itself works: with a limit of 10 lines it finds the driver's loop
    assert.isNotEmpty(longFunctions("src/migration/run/BatchDriver.ts", 10))
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
