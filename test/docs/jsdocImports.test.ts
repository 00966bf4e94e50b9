/**
 * JSDoc examples import what the package exports: every name an example imports from
 * `stage-normalization` or one of its subpaths is on that entry's API report (etc/*.api.md, which
 * CI keeps in step with the build). Examples of internal helpers import from their module and
 * say so.
 */
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const root = new URL("../../", import.meta.url).pathname

const exported = new Map(
  readdirSync(join(root, "etc")).filter((f) => f.endsWith(".api.md")).map((file) => {
    const entry = file === "index.api.md" ? "stage-normalization" : `stage-normalization/${file.replace(".api.md", "")}`
    const report = readFileSync(join(root, "etc", file), "utf8")
    const names = [...report.matchAll(/^export (?:declare )?(?:abstract )?(?:const|type|interface|class|namespace|function) (\w+)/gm)]
      .map((m) => m[1]!)
    return [entry, new Set(names)] as const
  })
)

const sources = (readdirSync(join(root, "src"), { recursive: true }) as Array<string>).filter((f) => f.endsWith(".ts"))

describe("JSDoc examples", () => {
  it("import only names their entry exports", () => {
    const wrong: Array<string> = []
    let checked = 0
    for (const file of sources) {
      const text = readFileSync(join(root, "src", file), "utf8")
      for (const m of text.matchAll(/^\s*\*\s*import (?:type )?\{([^}]*)\} from "(stage-normalization[^"]*)"/gm)) {
        const names = exported.get(m[2]!)
        for (const name of m[1]!.split(",").map((s) => s.trim().replace(/^type\s+/, "")).filter(Boolean)) {
          checked++
          if (names?.has(name) !== true) wrong.push(`src/${file}: ${name} is not exported by ${m[2]}`)
        }
      }
    }
    assert.isAbove(checked, 250)
    assert.deepStrictEqual(wrong, [])
  })
})
