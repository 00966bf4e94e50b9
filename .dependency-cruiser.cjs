// Dependency rules for src/ (dependency-cruiser). `npm run lint:deps` fails on any violation;
// test/architecture/layout.test.ts runs the same rules, and docs/architecture.md is generated from
// the same cruise (scripts/architecture-graph.ts).
//
// Data flows one way between the top-level folders of src/:
//
//   shared         ← everyone; imports no other folder
//   normalizer     → shared
//   observability  → normalizer, shared            (nothing above it)
//   rollout        → normalizer, observability, shared
//   http           → normalizer, rollout, observability, shared
//   migration      → normalizer, observability, shared   (not rollout, not http)
//   service        → anything but cli               (the reference service: the composition root)
//   cli            → anything; nothing imports cli
//   src/index.ts   → normalizer, rollout, http, observability, shared
//
// Type-only imports (`import type`, `export type … from`) count like any other import: the
// cruise runs with tsPreCompilationDeps, so a cycle or a wrong direction that only types close is
// still a violation.

/**
 * `to` for a direction rule: any module of src/ outside the folders listed (so a new top-level
 * folder, or src/index.ts, is forbidden until a rule allows it).
 */
const outside = (...allowed) => ({ path: "^src/", pathNot: `^src/(?:${allowed.join("|")})/` })

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // --- cycles --------------------------------------------------------------------------------
    {
      name: "no-circular",
      severity: "error",
      comment:
        "A module in src/ is part of an import cycle (type-only imports included). Break it: move the " +
        "shared piece into the module both sides need, or invert the dependency with a port.",
      from: { path: "^src/" },
      to: { circular: true }
    },
    {
      name: "no-circular-folders",
      severity: "error",
      comment:
        "Two folders of src/ import each other (directly or through others). Data flows one way " +
        "between folders; see the header of .dependency-cruiser.cjs.",
      scope: "folder",
      from: { path: "^src/" },
      to: { circular: true }
    },

    // --- folder direction ----------------------------------------------------------------------
    {
      name: "shared-imports-no-folder",
      severity: "error",
      comment: "src/shared is the bottom layer: every folder may use it, it imports no other folder of src/.",
      from: { path: "^src/shared/" },
      to: outside("shared")
    },
    {
      name: "normalizer-only-shared",
      severity: "error",
      comment: "src/normalizer is the pure core: it imports only src/shared.",
      from: { path: "^src/normalizer/" },
      to: outside("normalizer", "shared")
    },
    {
      name: "observability-not-above",
      severity: "error",
      comment:
        "src/observability (metric catalogue, offender logs) may use normalizer and shared only; " +
        "it never imports rollout, http, migration, service or cli (an adapter for a port of those " +
        "lives beside its port instead).",
      from: { path: "^src/observability/" },
      to: outside("observability", "normalizer", "shared")
    },
    {
      name: "rollout-not-above",
      severity: "error",
      comment: "src/rollout may use normalizer, observability and shared; never http, migration, service or cli.",
      from: { path: "^src/rollout/" },
      to: outside("rollout", "normalizer", "observability", "shared")
    },
    {
      name: "http-not-above",
      severity: "error",
      comment: "src/http may use normalizer, rollout, observability and shared; never migration, service or cli.",
      from: { path: "^src/http/" },
      to: outside("http", "normalizer", "rollout", "observability", "shared")
    },
    {
      name: "migration-not-rollout-or-http",
      severity: "error",
      comment:
        "src/migration may use normalizer, observability and shared; never rollout, http, service or " +
        "cli. The migration entry must not load the rollout or HTTP code (and their drivers).",
      from: { path: "^src/migration/" },
      to: outside("migration", "normalizer", "observability", "shared")
    },
    {
      name: "service-not-cli",
      severity: "error",
      comment: "src/service (the reference service, the composition root) may import every folder but cli " +
        "(and not the root barrel: it imports the modules it wires).",
      from: { path: "^src/service/" },
      to: { path: "^src/(?:cli/|index[.]ts$)" }
    },
    {
      name: "root-entry-library-only",
      severity: "error",
      comment:
        "src/index.ts, the package's root entry, re-exports the library: normalizer, rollout, http, " +
        "observability and shared. It never loads migration, service or cli.",
      from: { path: "^src/index[.]ts$" },
      to: outside("normalizer", "rollout", "http", "observability", "shared")
    },
    {
      name: "nothing-outside-src-from-src",
      severity: "error",
      comment: "Code in src/ ships in the package: it never imports test/, bench/, scripts/ or examples/.",
      from: { path: "^src/" },
      to: { path: "^(?:test|property-tests|bench|scripts|examples)/" }
    },

    // --- privacy -------------------------------------------------------------------------------
    // A module under <folder>/internal/ may be imported only from <folder>'s own tree. The
    // importer's path up to the same depth is captured and the internal folder must sit under it.
    // One rule per depth: src/<a>/internal/ and src/<a>/<b>/internal/.
    {
      name: "internal-is-private",
      severity: "error",
      comment:
        "src/<a>/internal/** is private to src/<a>/** (src/rollout/internal/redis.ts may be " +
        "imported from src/rollout/**, not from src/http or src/cli). Import the folder's public " +
        "module instead.",
      from: { path: "^(src/[^/]+)(?:/|$)" },
      to: { path: "^src/[^/]+/internal/", pathNot: "^$1/internal/" }
    },
    {
      name: "internal-is-private-nested",
      severity: "error",
      comment: "src/<a>/<b>/internal/** is private to src/<a>/<b>/** (as internal-is-private, one level down).",
      from: { path: "^(src/[^/]+/[^/]+)(?:/|$)" },
      to: { path: "^src/[^/]+/[^/]+/internal/", pathNot: "^$1/internal/" }
    },

    // --- resolution ----------------------------------------------------------------------------
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment:
        "An import in src/ does not resolve to a file or an installed package. A missing peer " +
        "dependency must be installed as a devDependency; a relative import must name an existing file.",
      from: { path: "^src/" },
      to: { couldNotResolve: true }
    },
    {
      name: "no-orphans",
      severity: "error",
      comment:
        "A module in src/ that nothing imports is dead code. Entry points (the barrels tsup builds, " +
        "the CLI binary) are exempt.",
      from: {
        orphan: true,
        path: "^src/",
        pathNot: ["^src/index[.]ts$", "^src/[^/]+/index[.]ts$", "^src/cli/bin[.]ts$"]
      },
      to: {}
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    moduleSystems: ["es6", "cjs"],
    // Count type-only imports: a cycle through `import type` is still a cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".d.ts"],
      mainFields: ["module", "main", "types", "typings"]
    },
    skipAnalysisNotInRules: false,
    reporterOptions: {
      text: { highlightFocused: true }
    }
  }
}
