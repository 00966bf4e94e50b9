// Build: ESM + CJS + .d.ts for the public barrel, one entry per source folder (the package's
// subpath exports) and the CLI binary. Peers stay external so hosts share one copy of effect.
import { existsSync, readdirSync } from "node:fs"
import { defineConfig } from "tsup"

const folders = readdirSync("src", { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== "cli" && existsSync(`src/${d.name}/index.ts`))
  .map((d) => d.name)

const external = [
  "effect",
  /^effect\//,
  /^@effect\//,
  "redis",
  /^@electric-sql\//,
  "standardwebhooks"
]

export default defineConfig([
  {
    entry: {
      index: "src/index.ts",
      ...Object.fromEntries(folders.map((f) => [`${f}/index`, `src/${f}/index.ts`]))
    },
    format: ["esm", "cjs"],
    dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
    sourcemap: true,
    clean: true,
    splitting: true,
    treeshake: true,
    target: "node22",
    platform: "node",
    external
  },
  {
    entry: { "cli/bin": "src/cli/bin.ts" },
    format: ["esm"],
    sourcemap: true,
    target: "node22",
    platform: "node",
    external,
    banner: { js: "#!/usr/bin/env node" }
  }
])
