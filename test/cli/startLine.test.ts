/**
 * The service's first line (src/cli/StartLine.ts), written before the program loads: only for a
 * plain valid `serve` invocation, naming what starts, in the log format of the output.
 */
import { assert, describe, it } from "@effect/vitest"
import { announceStart } from "../../src/cli/StartLine.ts"

const written = (argv: ReadonlyArray<string>, env: Record<string, string> = {}, isTTY = false): string => {
  let text = ""
  announceStart(argv, env, { isTTY, write: (s: string) => (text += s) })
  return text
}

describe("announceStart", () => {
  it("serve: one JSON line naming the database and the rollout store (flags before the environment)", () => {
    const line = JSON.parse(written(["serve", "--port", "0", "--redis-url=redis://r:6379"], { DATABASE_URL: "postgres://db/x" })) as {
      message: string
      level: string
      annotations: { event: string }
    }
    assert.strictEqual(line.message, "starting: connecting to PostgreSQL (DATABASE_URL), rollout state in Redis (REDIS_URL)…")
    assert.strictEqual(line.level, "INFO")
    assert.strictEqual(line.annotations.event, "stage_validation.service_starting")
    assert.match(written(["serve"], {}, true), /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(#0\): starting: the embedded PostgreSQL/)
  })

  it("nothing for other commands, help, unknown flags or a port out of range (the program reports those)", () => {
    for (const argv of [["normalize", "seed"], ["serve", "--help"], ["serve", "--bogus"], ["serve", "--port", "65536"], ["serve", "--port"]]) {
      assert.strictEqual(written(argv), "", argv.join(" "))
    }
  })
})
