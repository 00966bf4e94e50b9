/**
 * `stage-normalization sql`: print the generated SQL twin of the normaliser
 * (`normalize_stage(text)`), ready for `psql -f` or a migration tool; `--tracking` prints the
 * migration's tracking schema instead. Pure output: no database is contacted.
 *
 * @since 0.1.0
 */
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { statements as trackingStatements } from "../../migration/schema/migrations/0001_tracking_tables.ts"
import { statements as viewStatements } from "../../migration/schema/migrations/0002_progress_views.ts"
import { statements as safetyStatements } from "../../migration/schema/migrations/0003_safety.ts"
import { makeSqlTwinResult } from "../../normalizer/SqlTwin.ts"
import { stageVocabulary } from "../../normalizer/StageVocabulary.ts"
import { CliInputError } from "../CliInputError.ts"


/**
 * @since 0.1.0
 * @category commands
 */
export const sqlCommand = Command.make(
  "sql",
  {
    schema: Flag.String("schema").pipe(
      Flag.withDescription("Schema of the function (default stage_normalization)"),
      Flag.optional
    ),
    functionName: Flag.String("function-name").pipe(
      Flag.withDescription("Function name (default normalize_stage)"),
      Flag.optional
    ),
    tracking: Flag.Boolean("tracking").pipe(
      Flag.withDescription("Print the migration's tracking tables and views instead"),
      Flag.withDefault(false)
    )
  },
  Effect.fnUntraced(function*({ schema, functionName, tracking }) {
    if (tracking) {
      yield* Console.log([...trackingStatements, ...viewStatements, ...safetyStatements].map((s) => s.trim() + ";").join("\n\n"))
      return
    }
    const twin = makeSqlTwinResult(stageVocabulary, {
      ...(Option.isSome(schema) ? { schema: schema.value } : {}),
      ...(Option.isSome(functionName) ? { functionName: functionName.value } : {})
    })
    if (twin._tag === "Failure") return yield* new CliInputError({ message: twin.failure.message })
    yield* Console.log(`-- stage-normalization SQL twin of normalizeStage, vocabulary "${stageVocabulary.name}" version ${stageVocabulary.version}`)
    yield* Console.log(twin.success.script)
  })
).pipe(
  Command.withDescription("Print the generated SQL twin of the normaliser (normalize_stage(text), NULL = unknown)"),
  Command.withExamples([
    { command: "stage-normalization sql > normalize_stage.sql", description: "Save the function" },
    { command: "stage-normalization sql --tracking", description: "The migration's tracking schema" }
  ])
)
