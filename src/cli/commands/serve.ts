/**
 * `stage-normalization serve` (what `npm start` runs): the reference service. Flags override the
 * environment (`PORT`, `HOST`, `DATABASE_URL`, `REDIS_URL`); the rollout state comes from the
 * rollout env loader (`STAGE_VALIDATION_MODE`, `STAGE_VALIDATION_DRY_RUN`, `ENFORCE_WRITE_ONLY`,
 * `ENFORCEMENT_PERCENT`, `STAGE_VALIDATION_PRESET`). Runs until SIGINT / SIGTERM; then prints one
 * line, stops accepting connections, lets in-flight requests finish (up to
 * {@link SHUTDOWN_GRACE_MS}), closes the database and Redis, and exits 0 (see `StopSignals.ts`).
 *
 * @since 0.1.0
 */
import { Effect, Fiber, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { runReferenceService, SHUTDOWN_GRACE_MS } from "../../service/ReferenceService.ts"
import { MissingPeerDependencyError } from "../../shared/PeerDependency.ts"
import { CliInputError } from "../CliInputError.ts"
import { databaseUrlFlag } from "../CommandDatabase.ts"
import { intFlag } from "../NumericFlags.ts"
import { awaitStopSignal } from "../StopSignals.ts"

/** From the signal on: the drain, then the database and Redis; past it the process exits 1. */
const STOP_DEADLINE_MS = SHUTDOWN_GRACE_MS + 5_000

// A driver error's own message is generic ("PgConnection: Query failed"); the server's reason
// ("column \"name\" of relation \"portfolio_companies\" does not exist") is in its cause.
const describeFailure = (error: unknown): string => {
  const messages: Array<string> = []
  for (let e: unknown = error; e !== undefined && e !== null && messages.length < 4; e = (e as { cause?: unknown }).cause) {
    const message = typeof e === "object" && "message" in e ? String((e as { message: unknown }).message) : String(e)
    if (message !== "" && !messages.includes(message)) messages.push(message)
    // its message is complete; its cause is the module loader's error (kept in the object)
    if (e instanceof MissingPeerDependencyError) break
  }
  return messages.join(": ")
}

/**
 * @since 0.1.0
 * @category commands
 */
export const serveCommand = Command.make(
  "serve",
  {
    port: intFlag("port", { min: 0, max: 65_535, description: "Port (default: PORT, else 3333)" }).pipe(Flag.optional),
    host: Flag.String("host").pipe(Flag.withDescription("Bind address (default: HOST, else 127.0.0.1)"), Flag.optional),
    databaseUrl: databaseUrlFlag(
      "PostgreSQL URL (default: DATABASE_URL, else an embedded PostgreSQL); the service creates its demo tables (funds, portfolio_companies, strategies, allocations) there, so give it a database of its own"
    ),
    redisUrl: Flag.String("redis-url").pipe(
      Flag.withDescription("Redis URL for the shared rollout state (default: REDIS_URL, else in memory)"),
      Flag.optional
    )
  },
  Effect.fnUntraced(function*({ databaseUrl, host, port, redisUrl }) {
    const stopRequested = yield* awaitStopSignal({ deadlineMs: STOP_DEADLINE_MS })
    const service = yield* Effect.forkChild(runReferenceService({
      port: Option.getOrUndefined(port),
      host: Option.getOrUndefined(host),
      databaseUrl: Option.getOrUndefined(databaseUrl),
      redisUrl: Option.getOrUndefined(redisUrl)
    }).pipe(
      Effect.catch((error) => Effect.fail(new CliInputError({ message: `the service could not start: ${describeFailure(error)}` })))
    ))
    const first = yield* Effect.raceFirst(
      Effect.map(Fiber.await(service), (exit) => ({ _tag: "Ended", exit }) as const),
      Effect.map(stopRequested, (request) => ({ _tag: "Stop", signal: request.signal }) as const)
    )
    if (first._tag === "Ended") return yield* first.exit
    yield* Effect.logInfo(
      `${first.signal}: stopping — no new connections, in-flight requests get up to ${SHUTDOWN_GRACE_MS / 1000} s, then the database and Redis close; exit 0`
    ).pipe(Effect.annotateLogs({ event: "stage_validation.service_stopping", signal: first.signal }))
    yield* Fiber.interrupt(service)
  }, Effect.scoped)
).pipe(
  Command.withDescription("Run the reference service: stage boundary, ops routes, Monte-Carlo and portfolio APIs"),
  Command.withExamples([
    { command: "stage-normalization serve", description: "Embedded PostgreSQL, in-memory rollout state, port 3333" },
    {
      command: "STAGE_VALIDATION_DRY_RUN=true stage-normalization serve --port 4000",
      description: "Shadow mode: nothing rejected, would-rejects flagged"
    }
  ])
)
