/**
 * Test helpers for the rollout suites: a log collector (structured JSON lines, as a JSON logger
 * would print them) and small layer builders.
 */
import { Layer, Logger } from "effect"
import { BACKFILL_PENDING, type BackfillState, BackfillStatus, ModeStore, type StageValidationConfig } from "../../src/rollout/index.ts"

export interface LogLine {
  readonly level: string
  readonly message: unknown
  readonly annotations: Record<string, unknown>
  /** the line exactly as `Logger.formatJson` prints it */
  readonly json: string
}

/** Collects every log line, formatted by `Logger.formatJson`. */
export const makeLogCollector = () => {
  const lines: Array<LogLine> = []
  const logger = Logger.make((options) => {
    const json = Logger.formatJson.log(options)
    const parsed = JSON.parse(json) as { level: string; message: unknown; annotations: Record<string, unknown> }
    lines.push({ level: parsed.level, message: parsed.message, annotations: parsed.annotations, json })
  })
  return { lines, layer: Logger.layer([logger]) }
}

/** Messages of captured lines whose message object has `event === name`. */
export const eventsNamed = (lines: ReadonlyArray<LogLine>, name: string): ReadonlyArray<Record<string, unknown>> =>
  lines.flatMap((l) =>
    typeof l.message === "object" && l.message !== null && (l.message as Record<string, unknown>)["event"] === name
      ? [l.message as Record<string, unknown>]
      : []
  )

export const memoryStore = (initial: StageValidationConfig, backfill: BackfillState = BACKFILL_PENDING) =>
  ModeStore.layerMemory(initial).pipe(Layer.provide(BackfillStatus.layerMemory(backfill)))
