/**
 * Writes docs/architecture.md, the module graph of src/ as the code has it, from one
 * dependency-cruiser run with the project's rules (scripts/depcruise.ts): a Mermaid graph of the
 * top-level folders with the number of imports between them, a graph of the sub-folders of each
 * folder that has some, the rules and their current violations, and per folder its modules with
 * their line counts and the first sentence of their header comment.
 *
 *   node scripts/architecture-graph.ts           # rewrite docs/architecture.md
 *   node scripts/architecture-graph.ts --check   # exit 1 when docs/architecture.md is stale (CI)
 *
 * The output depends only on the sources: everything is sorted, nothing dates it.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { ICruiseResult, IModule } from "dependency-cruiser"
import { cruiseSrc, formatViolation, root } from "./depcruise.ts"

const OUTPUT = "docs/architecture.md"
const MAX_LINES = 400
const check = process.argv.includes("--check")

/** Top-level folders in layer order, top (imports the most) to bottom (imported by all). */
const LAYER_ORDER = ["cli", "service", "http", "migration", "rollout", "observability", "normalizer", "shared"]
const ROOT_ENTRY = "index.ts"

// --- reading the sources -------------------------------------------------------------------------

/** `normalizer` for src/normalizer/Stages.ts, `index.ts` for src/index.ts. */
const folderOf = (source: string): string => source.split("/")[1]!

/** `src/migration/run` for src/migration/run/Runner.ts; the folder itself for its direct files. */
const subFolderOf = (source: string): string => {
  const parts = source.split("/")
  return parts.length > 3 ? parts.slice(0, 3).join("/") : parts.slice(0, 2).join("/")
}

const lineCount = (text: string): number => text.split("\n").length - (text.endsWith("\n") ? 1 : 0)

const ABBREVIATIONS = /(?:\be\.g|\bi\.e|\bcf|\bvs|\betc)$/i

/** The first sentence of the file's leading JSDoc block, or "" when it has none. */
const headerSentence = (text: string): string => {
  const block = /^(?:#![^\n]*\n)?\s*\/\*\*([\s\S]*?)\*\//.exec(text)
  if (block === null) return ""
  const lines = block[1]!.split("\n").map((line) => line.replace(/^\s*\*? ?/, "").trimEnd())
  const paragraph: Array<string> = []
  for (const line of lines) {
    if (line.trim() === "") {
      if (paragraph.length > 0) break
      continue
    }
    if (line.trimStart().startsWith("@")) break
    paragraph.push(line.trim())
  }
  const prose = paragraph
    .join(" ")
    .replace(/\{@link\s+([^}|\s]+)\s*(?:\|\s*([^}]+))?\}/g, (_, target: string, label?: string) => label?.trim() ?? target)
    .replace(/\s+/g, " ")
    .trim()
  // The first `.`, `!` or `?` followed by a space or the end, outside backticks, not after e.g.
  let inCode = false
  for (let i = 0; i < prose.length; i++) {
    const c = prose[i]!
    if (c === "`") inCode = !inCode
    if (inCode || !".!?".includes(c)) continue
    if (i + 1 < prose.length && prose[i + 1] !== " ") continue
    if (c === "." && ABBREVIATIONS.test(prose.slice(0, i))) continue
    return prose.slice(0, i + 1)
  }
  return prose
}

/** Escapes text for a Markdown table cell: pipes always, `<` and `>` outside code spans. */
const cell = (text: string): string =>
  text
    .split("`")
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, "&lt;").replace(/>/g, "&gt;")))
    .join("`")
    .replace(/\|/g, "\\|")

// --- the graph -----------------------------------------------------------------------------------

interface Edge {
  readonly from: string
  readonly to: string
  count: number
  typeOnly: number
}

interface Graph {
  readonly nodes: ReadonlyArray<string>
  readonly edges: ReadonlyArray<Edge>
}

const isTypeOnly = (types: ReadonlyArray<string>): boolean => types.includes("type-only")

/** Import counts between the groups `group` puts modules of src/ in (imports inside a group left out). */
const groupGraph = (modules: ReadonlyArray<IModule>, group: (source: string) => string | undefined): Map<string, Edge> => {
  const edges = new Map<string, Edge>()
  for (const module of modules) {
    const from = group(module.source)
    if (from === undefined) continue
    for (const dependency of module.dependencies) {
      if (!dependency.resolved.startsWith("src/")) continue
      const to = group(dependency.resolved)
      if (to === undefined || to === from) continue
      const key = `${from}\u0000${to}`
      const edge = edges.get(key) ?? { from, to, count: 0, typeOnly: 0 }
      edge.count++
      if (isTypeOnly(dependency.dependencyTypes)) edge.typeOnly++
      edges.set(key, edge)
    }
  }
  return edges
}

/** Code-unit order: the same on every machine, whatever its locale. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** The root entry first, then the folders top to bottom, unknown folders last. */
const layerRank = (name: string): number => {
  if (name === ROOT_ENTRY) return -1
  const i = LAYER_ORDER.indexOf(name)
  return i === -1 ? LAYER_ORDER.length : i
}

const byLayer = (a: string, b: string): number => layerRank(a) - layerRank(b) || compare(a, b)

const mermaidId = (name: string): string => `m_${name.replace(/[^A-Za-z0-9]/g, "_")}`

const edgeLabel = (edge: Edge): string => (edge.typeOnly > 0 ? `${edge.count} (${edge.typeOnly} type-only)` : `${edge.count}`)

/** A Mermaid flowchart, top to bottom; edges in `forbidden` are drawn red. */
const mermaid = (
  graph: Graph,
  label: (node: string) => string,
  forbidden: (edge: Edge) => boolean
): ReadonlyArray<string> => {
  const lines = ["```mermaid", "flowchart TD"]
  for (const node of graph.nodes) lines.push(`  ${mermaidId(node)}["${label(node)}"]`)
  const red: Array<number> = []
  graph.edges.forEach((edge, i) => {
    lines.push(`  ${mermaidId(edge.from)} -->|"${edgeLabel(edge)}"| ${mermaidId(edge.to)}`)
    if (forbidden(edge)) red.push(i)
  })
  if (red.length > 0) lines.push(`  linkStyle ${red.join(",")} stroke:#d00,stroke-width:2px,color:#d00`)
  lines.push("```")
  return lines
}

// --- the document --------------------------------------------------------------------------------

interface ModuleInfo {
  readonly source: string
  readonly lines: number
  readonly summary: string
}

const render = (result: ICruiseResult): string => {
  const modules = result.modules.filter((m) => m.source.startsWith("src/"))
  const sources = (readdirSync(join(root, "src"), { recursive: true }) as Array<string>)
    .filter((file) => file.endsWith(".ts"))
    .map((file) => `src/${file.split("\\").join("/")}`)
    .sort()
  const infos: ReadonlyArray<ModuleInfo> = sources.map((source) => {
    const text = readFileSync(join(root, source), "utf8")
    return { source, lines: lineCount(text), summary: headerSentence(text) }
  })
  const violations = result.summary.violations
  // module-level violations of a direction or privacy rule, per pair of folders / sub-folders
  const violating = (group: (source: string) => string) =>
    new Set(
      violations
        .filter((v) => v.type !== "cycle" && v.from.startsWith("src/") && v.to.startsWith("src/"))
        .map((v) => `${group(v.from)}\u0000${group(v.to)}`)
    )

  const folders = [...new Set(infos.map((info) => folderOf(info.source)))].sort(byLayer)
  const filesIn = (folder: string) => infos.filter((info) => folderOf(info.source) === folder)
  const folderEdges = [...groupGraph(modules, folderOf).values()].sort(
    (a, b) => byLayer(a.from, b.from) || byLayer(a.to, b.to)
  )
  const folderViolations = violating(folderOf)
  const folderLabel = (folder: string): string =>
    folder === ROOT_ENTRY ? "src/index.ts (root entry)" : `${folder}/ (${filesIn(folder).length} files)`

  const out: Array<string> = []
  out.push("# Module graph of src/")
  out.push("")
  out.push("<!-- Generated by scripts/architecture-graph.ts; do not edit by hand. -->")
  out.push("")
  out.push(
    "> **Generated from the code.** `npm run docs:architecture` rewrites this file from a",
    "> dependency-cruiser run over `src/` with the rules in `.dependency-cruiser.cjs`;",
    "> `npm run docs:architecture:check` (in CI) fails when it is stale. Any change to an import or to",
    "> a file's length or header comment in `src/` changes it: regenerate and commit it with the change.",
    "> `npm run lint:deps` checks the rules; the intended direction between folders is spelled out at",
    "> the top of `.dependency-cruiser.cjs`."
  )
  out.push("")
  out.push("## Folders")
  out.push("")
  out.push(
    "An arrow `A → B` means modules of `A` import modules of `B`; its label is the number of imports",
    "(type-only imports included, and counted separately). Data flows one way, downwards: a red arrow",
    "carries at least one import that breaks a direction or privacy rule (see [Rules](#rules))."
  )
  out.push("")
  out.push(...mermaid({ nodes: folders, edges: folderEdges }, folderLabel, (e) => folderViolations.has(`${e.from}\u0000${e.to}`)))
  out.push("")
  out.push("| From | To | Imports | Of which type-only |")
  out.push("| --- | --- | ---: | ---: |")
  for (const edge of folderEdges) {
    const name = (f: string) => (f === ROOT_ENTRY ? "`src/index.ts`" : `\`${f}/\``)
    out.push(`| ${name(edge.from)} | ${name(edge.to)} | ${edge.count} | ${edge.typeOnly} |`)
  }
  out.push("")

  // sub-folder graphs
  let subsIntro = false
  for (const folder of folders) {
    const subs = [...new Set(filesIn(folder).map((info) => subFolderOf(info.source)))].sort()
    if (subs.length < 2) continue
    const inFolder = (source: string) => (folderOf(source) === folder ? subFolderOf(source) : undefined)
    const edges = [...groupGraph(modules, inFolder).values()].sort(
      (a, b) => compare(a.from, b.from) || compare(a.to, b.to)
    )
    const label = (sub: string) => {
      const count = infos.filter((info) => subFolderOf(info.source) === sub && folderOf(info.source) === folder).length
      return sub === `src/${folder}` ? `${folder}/ (top level, ${count} files)` : `${sub.slice(4)}/ (${count} files)`
    }
    if (!subsIntro) {
      subsIntro = true
      out.push(
        "The graphs below show the sub-folders of a folder. A folder's top level and its sub-folders",
        "may import each other (a barrel and the modules it gathers); between sub-folders whose trees",
        "are disjoint, as between top-level folders, a cycle breaks **no-circular-folders**.",
        ""
      )
    }
    out.push(`### Inside ${folder}/`)
    out.push("")
    out.push(...mermaid({ nodes: subs, edges }, label, () => false))
    out.push("")
  }

  // rules and violations
  out.push("## Rules")
  out.push("")
  out.push("The `forbidden` rules of `.dependency-cruiser.cjs`, every one an error:")
  out.push("")
  for (const rule of result.summary.ruleSetUsed?.forbidden ?? []) {
    const scope = "scope" in rule && rule.scope === "folder" ? " (between folders)" : ""
    out.push(`- **${rule.name}**${scope}: ${rule.comment ?? ""}`)
  }
  out.push("")
  out.push(`### Current violations (${violations.length})`)
  out.push("")
  if (violations.length === 0) {
    out.push("None.")
  } else {
    out.push("`→(type)` is a type-only import.")
    out.push("")
    for (const line of violations.map(formatViolation).sort()) out.push(`- ${line.replace(/^([^:]+): (.*)$/, "**$1**: `$2`")}`)
  }
  out.push("")

  // modules
  out.push("## Modules")
  out.push("")
  out.push(`Line counts over ${MAX_LINES} (the limit test/architecture/layout.test.ts holds src/ to) are in bold.`)
  out.push("")
  for (const folder of folders) {
    const files = filesIn(folder)
    const total = files.reduce((sum, info) => sum + info.lines, 0)
    out.push(folder === ROOT_ENTRY ? "### src/index.ts (root entry)" : `### ${folder}/ (${files.length} files, ${total} lines)`)
    out.push("")
    out.push("| Module | Lines | What it is |")
    out.push("| --- | ---: | --- |")
    for (const info of files) {
      const lines = info.lines > MAX_LINES ? `**${info.lines}**` : `${info.lines}`
      out.push(`| \`${info.source.slice(4)}\` | ${lines} | ${cell(info.summary) || "—"} |`)
    }
    out.push("")
  }
  return out.join("\n")
}

const generated = render(cruiseSrc())
const path = join(root, OUTPUT)
if (check) {
  let current = ""
  try {
    current = readFileSync(path, "utf8")
  } catch {
    // missing counts as stale
  }
  if (current !== generated) {
    const a = current.split("\n")
    const b = generated.split("\n")
    let line = 0
    while (line < Math.max(a.length, b.length) && a[line] === b[line]) line++
    console.error(
      `${OUTPUT} is stale (first difference at line ${line + 1}):\n` +
        `  committed: ${a[line] ?? "(end of file)"}\n` +
        `  generated: ${b[line] ?? "(end of file)"}\n` +
        "Run `npm run docs:architecture` and commit the result."
    )
    process.exit(1)
  }
  console.log(`${OUTPUT} is up to date`)
} else {
  writeFileSync(path, generated)
  console.log(`wrote ${OUTPUT}`)
}
