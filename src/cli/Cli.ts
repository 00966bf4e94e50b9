/**
 * The `stage-normalization` command: one binary, one subcommand per operator task.
 *
 * @since 0.1.0
 */
import { Command } from "effect/cli"
import { backupCommand } from "./commands/backup.ts"
import { indexCommand } from "./commands/index-command.ts"
import { migrateCommand } from "./commands/migrate.ts"
import { modeCommand } from "./commands/mode.ts"
import { normalizeCommand } from "./commands/normalize.ts"
import { promoteCommand } from "./commands/promote.ts"
import { rollbackCommand } from "./commands/rollback.ts"
import { serveCommand } from "./commands/serve.ts"
import { sqlCommand } from "./commands/sql.ts"
import { statusCommand } from "./commands/status.ts"
import { verifyCommand } from "./commands/verify.ts"

/**
 * The root command with every subcommand.
 *
 * @since 0.1.0
 * @category commands
 */
export const cli = Command.make("stage-normalization").pipe(
  Command.withDescription(
    "Normalise investment-stage values, roll out their validation and migrate historical data"
  ),
  Command.withSubcommands([
    normalizeCommand,
    migrateCommand,
    verifyCommand,
    rollbackCommand,
    backupCommand,
    sqlCommand,
    indexCommand,
    serveCommand,
    promoteCommand,
    modeCommand,
    statusCommand
  ])
)
