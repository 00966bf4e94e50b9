/**
 * `migrate --help` says what `--table` and `--column` default to (issue 28, item 8): effect's CLI
 * help prints no defaults of its own, so the descriptions carry them.
 */
import { assert, describe, it } from "vitest"
import { runCli } from "./run-cli.ts"

describe("migrate --help", () => {
  it("names the target's defaults: public.portfolio_companies, column stage, id column id", () => {
    const help = runCli(["migrate", "--help"])
    assert.strictEqual(help.status, 0, help.stderr)
    const line = (flag: string) => help.stdout.split("\n").find((l) => l.trimStart().startsWith(`${flag} `)) ?? ""
    assert.include(line("--table"), "(default: portfolio_companies, i.e. public.portfolio_companies)")
    assert.include(line("--column"), "(default: stage)")
    assert.include(line("--id-column"), "(default: id)")
  }, 60_000)
})
