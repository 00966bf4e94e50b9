/**
 * The rollout reads the time only through effect's `Clock` or `src/shared/WallClock.ts`, so that
 * timestamps, deadlines and refresh loops follow `TestClock` in tests: no `Date.now()` and no
 * `new Date(` anywhere in `src/rollout`, JSDoc examples included.
 */
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const folder = new URL("../../src/rollout/", import.meta.url).pathname
const sources = (readdirSync(folder, { recursive: true }) as Array<string>).filter((f) => f.endsWith(".ts"))

describe("time in src/rollout", () => {
  it("comes from Clock or WallClock, never Date.now() or new Date(", () => {
    const found: Array<string> = []
    for (const file of sources) {
      readFileSync(join(folder, file), "utf8").split("\n").forEach((line, i) => {
        if (/\bDate\.now\s*\(|\bnew\s+Date\s*\(/.test(line)) found.push(`src/rollout/${file}:${i + 1}: ${line.trim()}`)
      })
    }
    assert.isAbove(sources.length, 15)
    assert.deepStrictEqual(found, [])
  })
})
