// Build: ESM + CJS + .d.ts for the public entries (one per source folder with an index.ts: the
// package's subpath exports) and the CLI binary.
//
// The library entries keep `effect` and every optional peer external: hosts share one copy of
// each, and an entry loads with `effect` alone (drivers are imported by the layers that need them).
// The CLI is a program, not a library: its drivers (@effect/platform-node, @effect/sql-pg,
// node-redis) are bundled into dist/cli/bin.js, so `npm install -g stage-normalization` and
// `npx stage-normalization` work without the optional peers (docs/adr/ADR-005-dependencies.md).
// Only `effect` (a required peer, installed with the package) and PGlite (the embedded database,
// an optional peer: its WebAssembly build is 27 MB) stay outside it.
import { existsSync, readdirSync } from "node:fs"
import { defineConfig } from "tsup"

const folders = readdirSync("src", { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== "cli" && existsSync(`src/${d.name}/index.ts`))
  .map((d) => d.name)

const peers = ["effect", /^effect\//, /^@effect\//, "redis", /^@redis\//, /^@electric-sql\//]

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
    external: peers
  },
  {
    entry: { bin: "src/cli/bin.ts" },
    outDir: "dist/cli",
    format: ["esm"],
    minify: true,
    target: "node22",
    platform: "node",
    external: [
      "effect",
      /^effect\//,
      /^@electric-sql\//,
      // optional native speed-ups and tracing of the bundled drivers, loaded only when present
      "bufferutil",
      "utf-8-validate",
      "@opentelemetry/api",
      "@node-rs/xxhash"
    ],
    noExternal: [/^@effect\/platform-node/, /^@effect\/sql-pg/, "redis", /^@redis\//, "undici", "ws"],
    banner: {
      // the bundled node-redis and ws use require(): give the ES module bundle one
      js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from \"node:module\";\nconst require = __createRequire(import.meta.url);"
    }
  }
])
