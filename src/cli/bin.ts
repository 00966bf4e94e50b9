/**
 * The `stage-normalization` executable: says at once what `serve` is starting (see
 * `StartLine.ts`), then loads the program (`Main.ts`) — loading it takes a second or more, and
 * the embedded database's first start up to 20 s more.
 *
 * @since 0.1.0
 */
import { announceStart } from "./StartLine.ts"

announceStart(process.argv.slice(2), process.env, process.stderr)
await import("./Main.ts")
