/**
 * Keeps package.json's `exports` and `typesVersions` in step with the source folders: one subpath
 * per `src/<folder>/index.ts` (except the CLI). Run after adding a folder; CI's publint and attw
 * checks catch a missed run.
 *
 *   node scripts/sync-exports.ts
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"

const root = new URL("../", import.meta.url)
const pkgUrl = new URL("package.json", root)
const pkg = JSON.parse(readFileSync(pkgUrl, "utf8")) as Record<string, unknown>
const folders = readdirSync(new URL("src/", root), { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== "cli" && existsSync(new URL(`src/${d.name}/index.ts`, root)))
  .map((d) => d.name)
  .sort()

const entry = (name: string) => ({
  import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
  require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` }
})
pkg["exports"] = {
  ".": entry("index"),
  ...Object.fromEntries(folders.map((f) => [`./${f}`, entry(`${f}/index`)])),
  "./package.json": "./package.json"
}
pkg["typesVersions"] = { "*": Object.fromEntries(folders.map((f) => [f, [`./dist/${f}/index.d.ts`]])) }
writeFileSync(pkgUrl, JSON.stringify(pkg, null, 2) + "\n")
console.log(`exports: . ${folders.map((f) => `./${f}`).join(" ")}`)
