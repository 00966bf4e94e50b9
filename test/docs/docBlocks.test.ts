/**
 * The code blocks of README.md and docs/*.md work as written (issue 28): each carries the marker
 * that says what CI does with it (scripts/doc-blocks.ts); the TypeScript blocks type-check, here
 * against the sources (the consumer test checks them against the packed package, skipLibCheck
 * false); the README's migration example makes and restore-tests the backup `migrate --apply`
 * requires; the SQL twin is named as the database knows it. scripts/run-doc-blocks.ts runs the
 * runnable shell blocks (CI: .ci/run); its marker parsing is checked here.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import {
  blockFileName,
  isShell,
  isTypeScript,
  notRunnableReason,
  parseBlocks,
  readBlocks,
  repoRoot,
  runnableSpec,
  typecheckSkipReason
} from "../../scripts/doc-blocks.ts"

const blocks = readBlocks()
const where = (b: { file: string; line: number }) => `${b.file}:${b.line}`
/** An entry's source, relative to the scratch folder the blocks are written to. */
const src = (entry: string) => [`../../src/${entry}index.ts`]

describe("documentation blocks", () => {
  it("parses fences and the marker on the line before them", () => {
    const text = [
      "intro",
      "<!-- runnable service STAGE_VALIDATION_MODE=enforce expect=\"HTTP/1.1 400\" expect='{\"error\":\"X\"' -->",
      "```sh",
      "curl http://localhost:3333/x",
      "```",
      "",
      "```ts",
      "const a = 1",
      "```"
    ].join("\n")
    const [sh, ts] = parseBlocks("README.md", text)
    assert.deepStrictEqual(runnableSpec(sh!), {
      service: true,
      env: { STAGE_VALIDATION_MODE: "enforce" },
      expect: ["HTTP/1.1 400", "{\"error\":\"X\""]
    })
    assert.strictEqual(sh!.code, "curl http://localhost:3333/x\n")
    assert.strictEqual(ts!.marker, undefined)
    assert.strictEqual(ts!.line, 7)
    assert.strictEqual(blockFileName(ts!), "README-L7.ts")
    assert.throws(() => runnableSpec({ ...sh!, marker: "runnable servce" }), /unknown word/)
  })

  it("every README shell block is runnable or says why not; every marker parses", () => {
    const unmarked = blocks.filter((b) => b.file === "README.md" && isShell(b))
      .filter((b) => runnableSpec(b) === undefined && (notRunnableReason(b) ?? "").length < 10)
      .map(where)
    assert.deepStrictEqual(unmarked, [])
    const runnable = blocks.filter((b) => isShell(b) && runnableSpec(b) !== undefined)
    assert.isAtLeast(runnable.length, 3)
    assert.isTrue(runnable.some((b) => runnableSpec(b)!.service), "a curl block runs against the service")
  })

  it("TypeScript blocks are type-checked, skips are rare and give a reason", () => {
    const ts = blocks.filter(isTypeScript)
    assert.isAtLeast(ts.length, 10)
    const skipped = ts.filter((b) => typecheckSkipReason(b) !== undefined)
    assert.isAtMost(skipped.length, 2)
    for (const b of skipped) assert.isAtLeast(typecheckSkipReason(b)!.length, 10, `${where(b)}: a reason`)
  })

  it("the README's runnable migration example backs up and restore-tests before --apply (issue 28, item 1)", () => {
    const migration = blocks.filter((b) =>
      b.file === "README.md" && runnableSpec(b) !== undefined && /stage-normalization migrate .*--apply/.test(b.code)
    )
    assert.lengthOf(migration, 1)
    const code = migration[0]!.code
    const apply = code.search(/stage-normalization migrate .*--apply/)
    assert.isAtLeast(code.indexOf("stage-normalization backup create"), 0)
    assert.isBelow(code.indexOf("stage-normalization backup create"), apply)
    assert.isAtLeast(code.indexOf("stage-normalization backup restore-test"), 0)
    assert.isBelow(code.indexOf("stage-normalization backup restore-test"), apply)
  })

  it("names the SQL twin stage_normalization.normalize_stage (issue 28, item 8)", () => {
    const unqualified = ["README.md", "docs/migration.md", "docs/runbook.md"].flatMap((file) => {
      const text = readFileSync(join(repoRoot, file), "utf8")
      return [...text.matchAll(/(^|[^.\w])normalize_stage\(/g)].map((m) => `${file}: …${text.slice(m.index, m.index + 40)}`)
    })
    assert.deepStrictEqual(unqualified, [])
  })

  it("every TypeScript block type-checks against the sources, one module each (issue 28, item 2)", () => {
    const dir = join(repoRoot, ".scratch", `doc-blocks-${process.pid}`)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    try {
      for (const b of blocks.filter((b) => isTypeScript(b) && typecheckSkipReason(b) === undefined)) {
        writeFileSync(join(dir, blockFileName(b)), `// ${where(b)}\n${b.code}export {}\n`)
      }
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2023",
            lib: ["ES2023", "DOM"],
            module: "NodeNext",
            moduleResolution: "NodeNext",
            strict: true,
            exactOptionalPropertyTypes: true,
            skipLibCheck: true,
            noEmit: true,
            rewriteRelativeImportExtensions: true,
            types: ["node"],
            paths: Object.fromEntries([
              ["stage-normalization", src("")],
              ...["http", "migration", "normalizer", "observability", "rollout"].map((e) => [`stage-normalization/${e}`, src(`${e}/`)])
            ])
          },
          include: ["*.ts"]
        })
      )
      const tsc = spawnSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")], {
        encoding: "utf8"
      })
      assert.strictEqual(tsc.stdout + tsc.stderr, "")
      assert.strictEqual(tsc.status, 0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
