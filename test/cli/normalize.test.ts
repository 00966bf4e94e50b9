import { assert, describe, it } from "@effect/vitest"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli } from "./run-cli.ts"

describe("stage-normalization normalize", () => {
  it("prints a table and exits 1 when a value is unknown", () => {
    const r = runCli(["normalize", "Series A", "growth", "series-x"])
    assert.strictEqual(r.status, 1, r.stderr)
    assert.match(r.stdout, /"Series A"\s+series-a\s+yes/)
    assert.match(r.stdout, /"growth"\s+series-c\+\s+yes/)
    assert.match(r.stdout, /"series-x"\s+\(unknown\)\s+series-a, series-b, series-c/)
    assert.match(r.stderr, /1 of 3 values are unknown/)
  })

  it("prints JSON and exits 0 when every value is known", () => {
    const r = runCli(["normalize", "--json", "seed", " series-a "])
    assert.strictEqual(r.status, 0, r.stderr)
    assert.deepStrictEqual(JSON.parse(r.stdout), [
      { _tag: "Canonical", input: "seed", stage: "seed", deprecated: false },
      { _tag: "Canonical", input: " series-a ", stage: "series-a", deprecated: false }
    ])
  })

  it("normalises a distribution file", () => {
    const dir = mkdtempSync(join(tmpdir(), "stage-cli-"))
    const file = join(dir, "d.json")
    writeFileSync(file, JSON.stringify([{ stage: "Series A", weight: 0.4 }, { stage: "series_a", weight: 0.1 }, { stage: "seed", weight: 0.5 }]))
    const r = runCli(["normalize", "--file", file, "--json"])
    assert.strictEqual(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.deepStrictEqual(out.normalized, [{ stage: "seed", weight: 0.5 }, { stage: "series-a", weight: 0.5 }])
    assert.deepStrictEqual(out.deprecatedInputs, ["Series A", "series_a"])
  })

  it("exits 2 with a clear message on bad input", () => {
    const dir = mkdtempSync(join(tmpdir(), "stage-cli-"))
    const broken = join(dir, "broken.json")
    writeFileSync(broken, "{ not json")
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, RegExp]> = [
      [["normalize"], /nothing to normalise/],
      [["normalize", "--file", join(dir, "missing.json")], /cannot read/],
      [["normalize", "--file", broken], /is not valid JSON/],
      [["normalize", "--no-such-flag"], /Unrecognized flag/]
    ]
    for (const [args, message] of cases) {
      const r = runCli(args)
      assert.strictEqual(r.status, 2, `${args.join(" ")}: ${r.stderr}`)
      assert.match(r.stderr + r.stdout, message)
    }
  })
})
