/**
 * The fenced code blocks of README.md and docs/*.md, with the markers that say what CI does with
 * them — so that every command and code block in the documentation works as written:
 *
 * - a ```ts block is type-checked against the packed package (scripts/consumer-test.sh, with
 *   skipLibCheck false) unless the line before it is `<!-- typecheck: skip REASON -->`;
 * - a ```sh / ```bash block preceded by `<!-- runnable … -->` is run by scripts/run-doc-blocks.ts
 *   against a scratch database and Redis prefix. The marker's words:
 *   `service` (start the reference service first; `localhost:3333` in the block is its address),
 *   `NAME=value` (the service's environment), `expect="text"` or `expect='text'` (the output
 *   must contain it, case-insensitive; repeatable);
 * - a ```sh block in README.md that is not runnable says why: `<!-- not-runnable: REASON -->`.
 *
 *   node scripts/doc-blocks.ts extract-ts DIR   # writes DIR/<file>-L<line>.ts per checked block
 *   node scripts/doc-blocks.ts list             # every block with its marker
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** A fenced block: where it is, its language, its text and the marker on the line above it. */
export interface DocBlock {
  readonly file: string
  /** 1-based line of the opening fence. */
  readonly line: number
  readonly lang: string
  readonly code: string
  /** The HTML comment on the line before the fence, without `<!--` / `-->`, or undefined. */
  readonly marker: string | undefined
}

/** What a `<!-- runnable … -->` marker asks for. */
export interface RunnableSpec {
  readonly service: boolean
  readonly env: Readonly<Record<string, string>>
  readonly expect: ReadonlyArray<string>
}

export const repoRoot = new URL("../", import.meta.url).pathname

/** README.md and docs/*.md (docs/architecture.md is generated from the code and holds no code). */
export const documentationFiles = (root: string = repoRoot): Array<string> => [
  "README.md",
  ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md") && f !== "architecture.md").sort().map((f) => `docs/${f}`)
]

export const parseBlocks = (file: string, text: string): Array<DocBlock> => {
  const lines = text.split("\n")
  const blocks: Array<DocBlock> = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(\S*)\s*$/.exec(lines[i]!)
    if (open === null) continue
    const fence = open[1]!
    let end = i + 1
    while (end < lines.length && lines[end]!.trimEnd() !== fence) end++
    const previous = i > 0 ? /^<!--\s*(.*?)\s*-->\s*$/.exec(lines[i - 1]!) : null
    blocks.push({
      file,
      line: i + 1,
      lang: open[2]!.toLowerCase(),
      code: lines.slice(i + 1, end).join("\n") + "\n",
      marker: previous?.[1]
    })
    i = end
  }
  return blocks
}

export const readBlocks = (root: string = repoRoot): Array<DocBlock> =>
  documentationFiles(root).flatMap((file) => parseBlocks(file, readFileSync(join(root, file), "utf8")))

export const isTypeScript = (block: DocBlock): boolean => block.lang === "ts" || block.lang === "typescript"
export const isShell = (block: DocBlock): boolean => block.lang === "sh" || block.lang === "bash" || block.lang === "shell"

/** The reason of a `typecheck: skip REASON` marker, or undefined when the block is checked. */
export const typecheckSkipReason = (block: DocBlock): string | undefined => {
  const m = /^typecheck:\s*skip\b\s*(.*)$/.exec(block.marker ?? "")
  return m === null ? undefined : m[1]!
}

/** The reason of a `not-runnable: REASON` marker, or undefined. */
export const notRunnableReason = (block: DocBlock): string | undefined => {
  const m = /^not-runnable:\s*(.*)$/.exec(block.marker ?? "")
  return m === null ? undefined : m[1]!
}

/** The spec of a `runnable …` marker, or undefined when the block is not marked runnable. */
export const runnableSpec = (block: DocBlock): RunnableSpec | undefined => {
  const marker = block.marker ?? ""
  if (!/^runnable\b/.test(marker)) return undefined
  const env: Record<string, string> = {}
  const expect: Array<string> = []
  let service = false
  for (const m of marker.slice("runnable".length).matchAll(/expect="([^"]*)"|expect='([^']*)'|([A-Z_][A-Z0-9_]*)=(\S*)|(\S+)/g)) {
    if (m[1] !== undefined || m[2] !== undefined) expect.push((m[1] ?? m[2])!)
    else if (m[3] !== undefined) env[m[3]] = m[4]!
    else if (m[5] === "service") service = true
    else throw new Error(`${block.file}:${block.line - 1}: unknown word in the runnable marker: ${m[5]}`)
  }
  return { service, env, expect }
}

/** The file name a type-checked block is written to: README.md line 69 → README-L69.ts. */
export const blockFileName = (block: DocBlock): string =>
  `${block.file.replace(/^docs\//, "docs-").replace(/\.md$/, "")}-L${block.line}.ts`

const extractTs = (dir: string): void => {
  mkdirSync(dir, { recursive: true })
  let written = 0
  let skipped = 0
  for (const block of readBlocks().filter(isTypeScript)) {
    if (typecheckSkipReason(block) !== undefined) {
      skipped++
      continue
    }
    // `export {}` makes every block a module of its own (top-level await, no shared names)
    writeFileSync(join(dir, blockFileName(block)), `// ${block.file}:${block.line}\n${block.code}export {}\n`)
    written++
  }
  console.log(`${written} TypeScript blocks written to ${dir}, ${skipped} skipped (typecheck: skip)`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, dir] = process.argv.slice(2)
  if (command === "extract-ts" && dir !== undefined) extractTs(dir)
  else if (command === "list") {
    for (const b of readBlocks()) console.log(`${b.file}:${b.line}\t${b.lang || "(none)"}\t${b.marker ?? ""}`)
  } else {
    console.error("usage: node scripts/doc-blocks.ts extract-ts DIR | list")
    process.exit(2)
  }
}
