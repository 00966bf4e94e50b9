/**
 * Starts the reference service (`node src/cli/bin.ts serve`) as a child process on 127.0.0.1 and
 * a port it picks itself (PORT=0), and waits until it listens. Used by the end-to-end alerting
 * run and by the metric-name test.
 */
import { fileURLToPath } from "node:url"
import { type Started, startProcess, waitFor } from "./processes.ts"

const root = fileURLToPath(new URL("../../", import.meta.url))
const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url))

export interface ReferenceService {
  readonly url: string
  readonly process: Started
}

export interface ServiceOptions {
  /** rollout and service environment: STAGE_VALIDATION_MODE, ENFORCEMENT_PERCENT, REDIS_URL, … */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly logFile?: string
  readonly timeoutMs?: number
}

/** Starts the service and resolves once its start-up banner shows the URL it listens on. */
export const startReferenceService = async (options: ServiceOptions): Promise<ReferenceService> => {
  const child = startProcess({
    name: "reference service",
    command: process.execPath,
    args: [bin, "serve"],
    cwd: root,
    env: { PORT: "0", HOST: "127.0.0.1", NO_COLOR: "1", ...options.env },
    ...(options.logFile !== undefined ? { logFile: options.logFile } : {})
  })
  try {
    const url = await waitFor(
      "the reference service to listen",
      () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(child.output())?.[1],
      { timeoutMs: options.timeoutMs ?? 60_000, process: child }
    )
    return { url, process: child }
  } catch (error) {
    await child.stop()
    throw error
  }
}
