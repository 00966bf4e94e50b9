/**
 * How the CLI reports a failure (src/cli/ErrorReport.ts): a typed error as its one-line message
 * (the missing-peer error included), its cause only under `--log-level debug`; a defect with its
 * stack; nothing for an interruption or an error effect/cli has already shown.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Console, Effect, Runtime } from "effect"
import { debugRequested, reportFailure } from "../../src/cli/ErrorReport.ts"
import { importPeers } from "../../src/shared/PeerDependency.ts"

/** Runs `effect` with a console that records what is printed, as text. */
const printed = (effect: Effect.Effect<void>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const record = (...args: ReadonlyArray<unknown>) => {
      lines.push(args.map(String).join(" "))
    }
    const console = { ...globalThis.console, error: record, log: record, info: record, warn: record, debug: record } as unknown as Console.Console
    yield* effect.pipe(Effect.provideService(Console.Console, console))
    return lines.join("\n")
  })

const missingPeer = importPeers("EmbeddedPostgres.layer", ["@electric-sql/pglite"], () =>
  Promise.reject(Object.assign(new Error("Cannot find package '@electric-sql/pglite' imported from /app/Drivers.js"), {
    code: "ERR_MODULE_NOT_FOUND"
  }))).pipe(Effect.flip)

describe("reportFailure", () => {
  it.effect("a typed error prints its message, one line under ERROR: no stack, no [cause]", () =>
    Effect.gen(function*() {
      const error = yield* missingPeer
      const text = yield* printed(reportFailure(Cause.fail(error), { debug: false }))
      assert.deepStrictEqual(text.split("\n").filter((l) => l.trim() !== ""), ["ERROR", `  ${error.message}`])
      assert.notInclude(text, "[cause]")
      assert.notMatch(text, /^\s+at /m)
    }))

  it.effect("--log-level debug also prints the whole cause", () =>
    Effect.gen(function*() {
      const error = yield* missingPeer
      const text = yield* printed(reportFailure(Cause.fail(error), { debug: true }))
      assert.include(text, error.message)
      assert.include(text, "[cause]: Error: Cannot find package '@electric-sql/pglite'")
    }))

  it.effect("an interruption prints nothing; an error effect/cli has shown is not shown again", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* printed(reportFailure(Cause.interrupt(), { debug: false })), "")
      const shown = Object.assign(new Error("already shown"), { [Runtime.errorReported]: false })
      assert.strictEqual(yield* printed(reportFailure(Cause.fail(shown), { debug: false })), "")
    }))
})

describe("debugRequested", () => {
  it("reads --log-level in both spellings", () => {
    assert.isTrue(debugRequested(["serve", "--log-level", "debug"]))
    assert.isTrue(debugRequested(["--log-level=Trace", "status"]))
    assert.isFalse(debugRequested(["serve", "--log-level", "info"]))
    assert.isFalse(debugRequested(["serve"]))
  })
})
