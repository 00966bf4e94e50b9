/**
 * The reference service's finalisation guard reads the migration record of its own database:
 * enforcing reads is refused while `portfolio_companies.stage` is not migrated and verified, and
 * allowed without `force` once `migrate --apply` and `verify` have passed there.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { DEFAULT_DOCUMENT } from "../../src/rollout/index.ts"
import { createScratchDatabase, type RunningService, startService } from "./support/Service.ts"

const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url))

const cli = (args: ReadonlyArray<string>): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")))
    child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")))
    child.on("exit", (code) => resolve({ code, output }))
  })

describe("the service's finalisation guard reads its database's migration record", () => {
  let scratch: { url: string; drop: () => Promise<void> }
  let service: RunningService

  beforeAll(async () => {
    scratch = await createScratchDatabase("guard")
    // `database: "embedded"` only stops startService making its own scratch database: this one is
    // given explicitly so the CLI can migrate it too.
    service = await startService({ database: "embedded", databaseUrl: scratch.url, initial: { ...DEFAULT_DOCUMENT, defaultMode: "warn" } })
  }, 60_000)

  afterAll(async () => {
    await service?.close()
    await scratch?.drop()
  })

  const enforceReads = (force: boolean) =>
    service.run(Effect.gen(function*() {
      const current = service.store.current()
      const { version: _version, ...rest } = { ...current, defaultMode: "enforce" as const, enforceWriteOnly: false, enforcementPercent: 100 }
      return yield* Effect.result(service.store.set({
        document: rest,
        expectedVersion: current.version,
        actor: "test",
        reason: "enforce reads",
        source: "api",
        force
      }))
    }))

  it("refuses before the backfill, allows after migrate + verify", async () => {
    const before = await enforceReads(false)
    assert.strictEqual(before._tag, "Failure")
    if (before._tag === "Failure") assert.strictEqual(before.failure._tag, "BackfillNotVerifiedError")

    const migrated = await cli(["migrate", "--database-url", scratch.url, "--apply", "--no-backup-check", "--sleep-ms", "0"])
    assert.strictEqual(migrated.code, 0, migrated.output)
    // The demo data holds a few unknown spellings the migration leaves alone; an operator decides.
    const fix = spawnSync("psql", [scratch.url, "-v", "ON_ERROR_STOP=1", "-qc",
      "UPDATE portfolio_companies SET stage = 'seed' WHERE stage NOT IN ('pre-seed','seed','series-a','series-b','series-c','series-c+')"], { encoding: "utf8" })
    assert.strictEqual(fix.status, 0, fix.stderr)
    const verified = await cli(["verify", "--database-url", scratch.url])
    assert.strictEqual(verified.code, 0, verified.output)

    const after = await enforceReads(false)
    assert.strictEqual(after._tag, "Success", after._tag === "Failure" ? String(after.failure) : "")
    assert.strictEqual(service.store.current().defaultMode, "enforce")
  }, 120_000)
})
