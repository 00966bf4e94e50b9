/**
 * `stage-normalization normalize <value…>` and `normalize --file distribution.json`: print how
 * values normalise (input → stage, deprecated, suggestions) as a table, or `--json`.
 *
 * Exit codes: 0 every value is known (or the distribution is valid), 1 some value is unknown
 * (or the distribution is invalid), 2 bad input (no values, unreadable file, invalid JSON).
 *
 * @since 0.1.0
 */
import { Console, Effect, FileSystem, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { normalizeStage } from "../../normalizer/NormalizeStage.ts"
import { parseStageDistribution } from "../../normalizer/StageDistribution.ts"
import { CliExitCode, CliInputError } from "../CliInputError.ts"
import { renderTable } from "../Table.ts"

const printable = (s: string): string => JSON.stringify(s)

const normalizeValues = Effect.fnUntraced(function*(values: ReadonlyArray<string>, json: boolean) {
  const results = values.map((value) => normalizeStage(value))
  if (json) {
    yield* Console.log(JSON.stringify(results, null, 2))
  } else {
    yield* Console.log(renderTable(
      ["input", "stage", "deprecated", "suggestions"],
      results.map((r) =>
        r._tag === "Canonical"
          ? [printable(r.input), r.stage, r.deprecated ? "yes" : "no", ""]
          : [printable(r.input), "(unknown)", "", r.suggestions.join(", ")]
      )
    ))
  }
  const unknown = results.filter((r) => r._tag === "Unknown").length
  if (unknown > 0) {
    return yield* new CliExitCode({ code: 1, reason: `${unknown} of ${results.length} values are unknown` })
  }
})

const normalizeFile = Effect.fnUntraced(function*(file: string, json: boolean) {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(file).pipe(
    Effect.mapError((e) => new CliInputError({ message: `cannot read ${file}: ${e.message}` }))
  )
  const parsed = yield* Effect.try({
    try: (): unknown => JSON.parse(text),
    catch: (e) => new CliInputError({ message: `${file} is not valid JSON: ${(e as Error).message}` })
  })
  const result = parseStageDistribution(parsed)
  const notADistribution = result.issues.find((i) => i._tag === "NotADistribution")
  if (notADistribution !== undefined) return yield* new CliInputError({ message: `${file}: ${notADistribution.message}` })
  if (json) {
    yield* Console.log(JSON.stringify(result, null, 2))
  } else {
    yield* Console.log(renderTable(["stage", "weight"], result.normalized.map((e) => [e.stage, String(e.weight)])))
    yield* Console.log(`\nsum ${result.sum}  ${result.isValid ? "valid" : "INVALID"}`)
    if (result.deprecatedInputs.length > 0) {
      yield* Console.log(`deprecated spellings: ${result.deprecatedInputs.map(printable).join(", ")}`)
    }
    for (const issue of result.issues) yield* Console.log(`- ${issue.message} (at ${JSON.stringify(issue.path)})`)
  }
  if (!result.isValid) return yield* new CliExitCode({ code: 1, reason: "the distribution is invalid" })
})

/**
 * @since 0.1.0
 * @category commands
 */
export const normalizeCommand = Command.make(
  "normalize",
  {
    values: Argument.String("value").pipe(
      Argument.withDescription("Stage values to normalise"),
      Argument.variadic()
    ),
    file: Flag.String("file").pipe(
      Flag.withDescription("A JSON distribution: [{ stage, weight }, …] or { stage: weight }"),
      Flag.optional
    ),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print JSON instead of a table"), Flag.withDefault(false))
  },
  Effect.fnUntraced(function*({ values, file, json }) {
    if (Option.isSome(file)) {
      if (values.length > 0) return yield* new CliInputError({ message: "give either values or --file, not both" })
      return yield* normalizeFile(file.value, json)
    }
    if (values.length === 0) {
      return yield* new CliInputError({ message: "nothing to normalise: give one or more values, or --file f.json" })
    }
    return yield* normalizeValues(values, json)
  })
).pipe(
  Command.withDescription("Normalise stage values (or a distribution file) and show how each was read"),
  Command.withExamples([
    { command: "stage-normalization normalize \"Series A\" growth series-x", description: "Three values" },
    { command: "stage-normalization normalize --file distribution.json --json", description: "A distribution" }
  ])
)
