/**
 * The API report: what each entry of the package exports, as API Extractor sees the built
 * declarations (`dist/**\/index.d.ts`), one `etc/<entry>.api.md` per entry. The reports are
 * committed; a change to the exported surface shows up as a diff in review.
 *
 *   node scripts/api-report.ts           # check: fails when a report differs from the build (CI)
 *   node scripts/api-report.ts --update  # rewrite the reports after an intended change
 *
 * Run `npm run build` first. Release tags and undocumented members are not reported (the JSDoc
 * convention here is Effect's `@since` / `@category`); a type a signature uses but the entry does
 * not export is kept in the report as an `ae-forgotten-export` note (without the location in
 * `dist/`, whose chunk names change with every build, and without the `X_base` classes TypeScript
 * declares for `class X extends Context.Service<…>()`).
 */
import { Extractor, ExtractorConfig, ExtractorLogLevel, type ExtractorMessage } from "@microsoft/api-extractor"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const root = join(import.meta.dirname, "..")
const update = process.argv.includes("--update")
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  readonly exports: Record<string, unknown>
}
const entries = Object.keys(pkg.exports)
  .filter((key) => key !== "./package.json")
  .map((key) => (key === "." ? { name: "index", dts: "dist/index.d.ts" } : { name: key.slice(2), dts: `dist/${key.slice(2)}/index.d.ts` }))

const temp = join(root, "node_modules/.cache/api-extractor")
const generated = join(temp, "reports")
mkdirSync(generated, { recursive: true })

/** Report text that depends only on the declared surface, not on chunk names or line numbers. */
const normalize = (report: string): string =>
  report
    .replace(/^(\s*)\/\/ dist\/\S+ - \(/gm, "$1// Warning: (")
    .split("\n")
    .filter((line) => !/\(ae-forgotten-export\) The symbol "\w+_base"/.test(line))
    .join("\n")
let changed = 0
for (const entry of entries) {
  if (!existsSync(join(root, entry.dts))) {
    console.error(`api-report: ${entry.dts} is missing; run npm run build first`)
    process.exit(1)
  }
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: `<projectFolder>/${entry.dts}`,
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            target: "ES2023",
            lib: ["ES2023", "DOM"],
            module: "NodeNext",
            moduleResolution: "NodeNext",
            strict: true,
            skipLibCheck: true,
            types: ["node"]
          },
          include: ["dist/**/*.d.ts"]
        }
      },
      apiReport: {
        enabled: true,
        reportFolder: generated,
        reportTempFolder: temp,
        reportFileName: entry.name
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.Warning, addToApiReportFile: true },
          "ae-missing-release-tag": { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          "ae-undocumented": { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          "ae-forgotten-export": { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
          "ae-unresolved-link": { logLevel: ExtractorLogLevel.None, addToApiReportFile: false }
        },
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } }
      }
    },
    configObjectFullPath: join(root, "api-extractor.json"),
    packageJsonFullPath: join(root, "package.json")
  })
  const result = Extractor.invoke(config, {
    localBuild: true,
    messageCallback: (message: ExtractorMessage) => {
      // API Extractor's own notes about its (temporary) report folder: the comparison is below.
      if (message.messageId.startsWith("console-api-report") || message.messageId === "console-compiler-version-notice") {
        message.handled = true
      }
    }
  })
  if (!result.succeeded) process.exitCode = 1
  const report = normalize(readFileSync(join(generated, `${entry.name}.api.md`), "utf8"))
  const committedPath = join(root, "etc", `${entry.name}.api.md`)
  const committed = existsSync(committedPath) ? readFileSync(committedPath, "utf8") : undefined
  const differs = committed !== report
  if (differs) changed++
  if (differs && update) {
    mkdirSync(join(root, "etc"), { recursive: true })
    writeFileSync(committedPath, report)
  }
  const state = differs ? (update ? "updated" : committed === undefined ? "MISSING" : "CHANGED") : "unchanged"
  console.log(`  ${`etc/${entry.name}.api.md`.padEnd(28)} ${state}`)
}
if (changed > 0 && !update) {
  console.error(
    `api-report: ${changed} entr${changed === 1 ? "y's" : "ies'"} exported surface differs from etc/*.api.md.\n` +
      "If the change is intended, run `npm run build && node scripts/api-report.ts --update`, commit the reports " +
      "and say in CHANGELOG.md what was added, removed or renamed."
  )
  process.exit(1)
}
