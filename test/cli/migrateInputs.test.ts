/**
 * The CLI's inputs refused clearly (issue 25, defect 9), in process where the code allows and as a
 * child process for the exit codes: `--max-backup-age -5h` (a dash value, once read as the short
 * flags -5 -h: help, exit 0), a `--map` file naming a key twice (JSON.parse kept the last), batch
 * sizes out of order, and `--force-unknown`'s edit-distance rule never forcing a value with
 * non-ASCII or invisible characters (a Cyrillic `е`, a zero-width space).
 */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { attachDashValues } from "../../src/cli/DashValues.ts"
import { lookAlikeSection, namedLookAlikes } from "../../src/cli/ForceUnknownConfirmation.ts"
import { forcedStage, uniqueStageAtEditDistance1 } from "../../src/migration/run/ForceUnknown.ts"
import { duplicateJsonKeys } from "../../src/migration/run/JsonDuplicateKeys.ts"
import { batchSizeProblem } from "../../src/migration/run/RunSettings.ts"
import { needsExplicitMapping, parseMapping, visibleValue } from "../../src/migration/index.ts"
import { runCliAsync } from "./run-cli.ts"

const CYRILLIC_SEED = "s\u0435ed"
const ZWSP_SERIES_A = "series\u200b-a"
/** Nothing listens here: a command that got as far as connecting would say so. */
const NO_DATABASE = "postgres://nobody@127.0.0.1:9/none"

describe("in process", () => {
  it("a value starting with -<digit> after a long flag is that flag's value", () => {
    assert.deepStrictEqual(attachDashValues(["migrate", "--max-backup-age", "-5h", "--apply"]), ["migrate", "--max-backup-age=-5h", "--apply"])
    assert.deepStrictEqual(attachDashValues(["--batch-size", "-1"]), ["--batch-size=-1"])
    assert.deepStrictEqual(attachDashValues(["--apply", "-h"]), ["--apply", "-h"])
    assert.deepStrictEqual(attachDashValues(["--x=1", "-5h"]), ["--x=1", "-5h"])
    assert.deepStrictEqual(attachDashValues(["--", "--a", "-5"]), ["--", "--a", "-5"])
  })

  it("a mapping file naming a key twice is refused, naming the key", () => {
    assert.deepStrictEqual(duplicateJsonKeys(`{"bridge":"seed","bridge":"series-a"}`), ["bridge"])
    assert.deepStrictEqual(duplicateJsonKeys(`{"a":{"x":1},"b":{"x":2},"c":["x","x"]}`), [])
    assert.deepStrictEqual(duplicateJsonKeys(`{"a\\"b":1, "a\\u0022b" : 2, "k": "\\\\", "k2": "}{,"}`), ["a\"b"])
    const result = parseMapping(`{"bridge": "seed", "bridge": "series-a"}`, "map.json")
    assert.isTrue(Result.isFailure(result))
    if (Result.isFailure(result)) assert.include(result.failure.message, `map.json: "bridge" named more than once`)
    assert.isTrue(Result.isSuccess(parseMapping(`{"bridge": "seed"}`)))
  })

  it("batch sizes must be in order: min ≤ batch size ≤ max", () => {
    assert.strictEqual(batchSizeProblem({ minBatchSize: 5000, maxBatchSize: 100 }), "--min-batch-size 5000 is larger than --max-batch-size 100")
    assert.include(batchSizeProblem({ batchSize: 50, minBatchSize: 100 }) ?? "", "min ≤ batch size ≤ max")
    assert.isUndefined(batchSizeProblem({}))
    assert.isUndefined(batchSizeProblem({ batchSize: 200, minBatchSize: 100, maxBatchSize: 300 }))
  })

  it("--force-unknown's edit-distance rule leaves look-alikes alone; the map can still name them", () => {
    // both are one edit from a stage: the rule alone would have forced them
    assert.strictEqual(uniqueStageAtEditDistance1(CYRILLIC_SEED), "seed")
    assert.strictEqual(uniqueStageAtEditDistance1(ZWSP_SERIES_A), "series-a")
    assert.isUndefined(forcedStage(CYRILLIC_SEED, { editDistance: true }))
    assert.isUndefined(forcedStage(ZWSP_SERIES_A, { editDistance: true }))
    assert.deepStrictEqual(forcedStage("serie a", { editDistance: true }), { stage: "series-a", reason: "forced:edit-distance-1" })
    assert.deepStrictEqual(forcedStage(CYRILLIC_SEED, { map: { [CYRILLIC_SEED]: "seed" } }), { stage: "seed", reason: "forced:map" })
    assert.isTrue(needsExplicitMapping("Série A"))
    assert.isFalse(needsExplicitMapping("serie a"))
    assert.strictEqual(visibleValue(ZWSP_SERIES_A), `"series\\u200b-a"`)
    assert.deepStrictEqual(namedLookAlikes({ [CYRILLIC_SEED]: "seed", early: "seed" }), [`"s\\u0435ed" → seed`])
    assert.deepStrictEqual(lookAlikeSection([
      { value: CYRILLIC_SEED, rows: 3, suggestions: ["seed"] },
      { value: "venture", rows: 1, suggestions: [] }
    ]), [
      "Not forced — non-ASCII or invisible characters (look-alikes?); name them in --map to force them:",
      `  "s\\u0435ed" (3 rows), looks like seed`,
      ""
    ])
  })
})

describe("as operators run it: exit 2 with one clear line, before any connection", () => {
  it("--max-backup-age -5h, a duplicate --map key, --min-batch-size above --max-batch-size", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-inputs-"))
    try {
      const map = join(dir, "dup.json")
      writeFileSync(map, `{"bridge":"seed","bridge":"series-a"}`)
      const base = ["migrate", "--database-url", NO_DATABASE, "--table", "t", "--column", "stage"]
      const [age, dup, sizes] = await Promise.all([
        runCliAsync([...base, "--max-backup-age", "-5h"]),
        runCliAsync([...base, "--force-unknown", "--map", map]),
        runCliAsync([...base, "--min-batch-size", "5000", "--max-batch-size", "100"])
      ])
      assert.strictEqual(age.status, 2, age.stdout + age.stderr)
      assert.strictEqual(age.stdout, "", "no help printed")
      assert.include(age.stderr, `--max-backup-age "-5h": expected a positive duration`)
      assert.strictEqual(dup.status, 2, dup.stderr)
      assert.include(dup.stderr, `"bridge" named more than once`)
      assert.strictEqual(sizes.status, 2, sizes.stderr)
      assert.include(sizes.stderr, "--min-batch-size 5000 is larger than --max-batch-size 100")
      for (const run of [age, dup, sizes]) assert.notInclude(run.stderr, "127.0.0.1:9", "refused before connecting")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
