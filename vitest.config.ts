import { defineConfig } from "vitest/config"

// One config for every suite: unit and integration tests live in test/, fast-check suites in
// property-tests/. Integration suites talk to the real PostgreSQL and Redis on 127.0.0.1.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "property-tests/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"]
  }
})
