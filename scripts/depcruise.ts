/**
 * One dependency-cruiser run over src/ with the project's rules (.dependency-cruiser.cjs), as
 * `npm run lint:deps` runs it, returning the JSON result. Shared by scripts/architecture-graph.ts
 * (which draws docs/architecture.md from it) and test/architecture/layout.test.ts (which asserts
 * that it has no violation).
 *
 * It runs the depcruise binary rather than the `cruise()` API so the options, the tsconfig and the
 * resolution are exactly the command line's.
 */
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import type { ICruiseResult, IViolation } from "dependency-cruiser"

export const root = join(import.meta.dirname, "..")

/** The `depcruise` binary (the package's exports map hides its package.json, so not through require). */
const depcruiseBin = join(root, "node_modules/dependency-cruiser/bin/dependency-cruiser.mjs")

/** Cruises src/ and returns dependency-cruiser's JSON result (violations in `summary.violations`). */
export const cruiseSrc = (): ICruiseResult => {
  const run = spawnSync(
    process.execPath,
    [depcruiseBin, "src", "--config", ".dependency-cruiser.cjs", "--output-type", "json"],
    { cwd: root, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 }
  )
  // depcruise exits with the number of errors it found; the JSON is on stdout either way.
  try {
    return JSON.parse(run.stdout) as ICruiseResult
  } catch {
    throw new Error(`depcruise failed (exit ${run.status}): ${run.stderr || run.stdout.slice(0, 2000)}`)
  }
}

const arrow = (types: ReadonlyArray<string> | undefined): string => (types?.includes("type-only") ? " →(type) " : " → ")

/**
 * One line per violation: `rule: from → to`, or the whole cycle for a circular rule. An edge that
 * is a type-only import is drawn `→(type)`.
 */
export const formatViolation = (violation: IViolation): string => {
  const cycle = violation.cycle ?? []
  const path = cycle.length > 0
    ? violation.from + cycle.map((step) => arrow(step.dependencyTypes) + step.name).join("")
    : violation.from + arrow(violation.dependencyTypes) + violation.to
  return `${violation.rule.name}: ${path}`
}
