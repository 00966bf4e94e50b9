/**
 * The parallel backfill's scaling (issue 15), a section of `npm run bench:migration`: `migrate`
 * on the same table with 1, 2 and 4 workers at the default batch size (5,000 rows, fixed), once
 * with the default pause between a worker's batches (100 ms: a realistic throttled production
 * run) and once without any (where the database saturates). For each: wall time, rows/s, the
 * speed-up over one worker, and the CPU time PostgreSQL spent (the sum of every `postgres`
 * process's user + system time from `/proc`, before and after — the server runs on this
 * machine, loopback only).
 *
 * @since 0.3.0
 */
import { Effect } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { migrate } from "../src/migration/run/Runner.ts"

const CLOCK_TICKS_PER_SECOND = 100 // Linux USER_HZ

/** CPU ms of every process named `postgres` (0 when /proc cannot be read). */
export const postgresCpuMs = (): number => {
  let ticks = 0
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))
      if (comm !== "postgres") continue
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      ticks += Number(fields[11]) + Number(fields[12]) // utime, stime (fields 14 and 15 of stat)
    } catch {
      // the process ended meanwhile
    }
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND
}

/** One measured case. */
export interface WorkersCase {
  readonly workers: number
  readonly sleepMs: number
  readonly ms: number
  readonly rowsPerSecond: number
  readonly speedup: number
  readonly postgresCpuMs: number
  readonly postgresCpuMsPerMillionRows: number
}

/**
 * Run the scaling cases on fresh copies of a table (`prepare(name)` creates one).
 *
 * @since 0.3.0
 */
export const workersScaling = <E, R>(rows: number, batch: number, prepare: (name: string) => Effect.Effect<void, E, R>) =>
  Effect.gen(function*() {
    const cases: Array<WorkersCase> = []
    for (const sleepMs of [100, 0]) {
      let single = 0
      for (const workers of [1, 2, 4]) {
        const table = `bench_workers_${workers}_${sleepMs}`
        console.error(`workers: ${workers} worker(s), ${sleepMs} ms sleep …`)
        yield* prepare(table)
        const cpuBefore = postgresCpuMs()
        const started = performance.now()
        const run = yield* migrate({ table, batchSize: batch, adaptive: false, sleepMs, workers, fundColumn: null })
        const ms = performance.now() - started
        const cpu = postgresCpuMs() - cpuBefore
        if (run.status !== "succeeded") throw new Error(`workers bench run ${run.status}: ${run.error}`)
        const rate = (rows * 1000) / ms
        if (workers === 1) single = rate
        cases.push({
          workers,
          sleepMs,
          ms: Math.round(ms),
          rowsPerSecond: Math.round(rate),
          speedup: Number((rate / single).toFixed(2)),
          postgresCpuMs: Math.round(cpu),
          postgresCpuMsPerMillionRows: Math.round((cpu * 1_000_000) / rows)
        })
      }
    }
    const twoWithSleep = cases.find((c) => c.workers === 2 && c.sleepMs === 100)!.speedup
    return {
      rows,
      batchSize: batch,
      cases,
      goal: { description: "with the default 100 ms sleep, 2 workers ≥ 1.7× one worker", speedup: twoWithSleep, met: twoWithSleep >= 1.7 }
    }
  })
