/**
 * Hostile-clients benchmark (issue 25): what four clients sending large near-miss distributions
 * do to another client's latency. The reference service runs as a child process (`serve`,
 * enforce, the embedded database unless `--database-url`); one victim client sends small valid
 * `POST /api/monte-carlo/simulate` requests, one at a time, and its latency is measured alone and
 * then while four hostile clients (in another process, so their own work does not delay the
 * victim's measurements) send, as fast as the service answers them:
 *
 * - `oversized`: the attack, ~7.6 MiB distributions of distinct near-miss stages
 *   (`"serjes-b"`, two edits from a stage), with a `Content-Length`;
 * - `oversized-chunked`: the same bodies without a `Content-Length` (chunked), so the service has
 *   to count bytes while reading;
 * - `largest-accepted`: the worst the limits let through: 64 entries (the boundary's bound) of
 *   distinct near-miss stages of up to 64 characters, each needing suggestions.
 *
 * It prints the victim's p50 / p99 / max per phase and writes `baselines/hostile-clients.json`
 * (unless `--no-write`). Not run in CI: the figures are the machine's.
 *
 *   npm run bench:hostile
 *   node bench/hostile-clients.ts [--seconds 10] [--victim-seconds 8] [--modes oversized,largest-accepted]
 *        [--database-url postgres://…] [--out baselines/hostile-clients.json] [--no-write]
 *
 * Child mode (internal): `node bench/hostile-clients.ts --hostile <mode> --url <url> --seconds N`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { dirname } from "node:path"

const BIN = new URL("../src/cli/bin.ts", import.meta.url).pathname
const SELF = new URL(import.meta.url).pathname
const MODES = ["oversized", "oversized-chunked", "largest-accepted"] as const
type Mode = (typeof MODES)[number]

const args = process.argv.slice(2)
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback
}

const STAGES = ["pre-seed", "seed", "series-a", "series-b", "series-c", "series-c+"]
const LETTERS = "abcdefghijklmnopqrstuvwxyz"

/** A distinct near-miss of a stage: two letters changed (so it needs the full suggestion scan), padded to `length`. */
const nearMiss = (i: number, length: number): string => {
  const base = STAGES[i % STAGES.length]!.split("")
  const p1 = (i >> 3) % base.length
  const p2 = (p1 + 1 + ((i >> 5) % (base.length - 1))) % base.length
  base[p1] = LETTERS[i % 26]!
  base[p2] = LETTERS[(i >> 2) % 26]!
  const s = base.join("")
  return length <= s.length ? s : `${s}-${i.toString(36)}`.padEnd(length, LETTERS[(i >> 4) % 26]!)
}

/** A simulate body whose distribution is `entries` distinct near-misses of `length` characters. */
const hostileBody = (seed: number, entries: number, length: number): Buffer => {
  const parts: Array<string> = []
  for (let i = 0; i < entries; i++) parts.push(`{"stage":${JSON.stringify(nearMiss(seed * 1_000_003 + i, length))},"weight":0.000001}`)
  return Buffer.from(`{"fundId":1,"runs":10,"stageDistribution":[${parts.join(",")}]}`)
}

/** Entries of an `oversized` body: ≈ 7.6 MiB of JSON, under the old 8 MiB limit as in the issue. */
const OVERSIZED_ENTRIES = 204_000

const VICTIM_BODY = JSON.stringify({
  fundId: 1,
  runs: 100,
  seed: 7,
  stageDistribution: [{ stage: "Series A", weight: 0.6 }, { stage: "seed", weight: 0.4 }]
})

// ---------------------------------------------------------------------------------------------
// hostile child: four closed loops against the service until the time is up

const runHostile = async (mode: Mode, url: string, seconds: number): Promise<void> => {
  const bodies = mode === "largest-accepted"
    ? Array.from({ length: 64 }, (_, k) => hostileBody(k, 64, 64))
    : Array.from({ length: 4 }, (_, k) => hostileBody(k, OVERSIZED_ENTRIES, 8))
  const until = performance.now() + seconds * 1000
  const counts: Record<string, number> = {}
  let sent = 0
  const loop = async (k: number) => {
    while (performance.now() < until) {
      const body = bodies[(sent++ + k) % bodies.length]!
      const init: RequestInit & { duplex?: "half" } = mode === "oversized-chunked"
        ? {
          method: "POST",
          headers: { "content-type": "application/json" },
          duplex: "half",
          body: new ReadableStream<Uint8Array>({
            start(controller) {
              for (let at = 0; at < body.length; at += 64 * 1024) controller.enqueue(body.subarray(at, at + 64 * 1024))
              controller.close()
            }
          })
        }
        : { method: "POST", headers: { "content-type": "application/json" }, body }
      try {
        const r = await fetch(`${url}/api/monte-carlo/simulate`, init)
        await r.arrayBuffer()
        counts[r.status] = (counts[r.status] ?? 0) + 1
      } catch {
        counts["error"] = (counts["error"] ?? 0) + 1
      }
    }
  }
  await Promise.all([0, 1, 2, 3].map(loop))
  process.stdout.write(JSON.stringify(counts))
}

// ---------------------------------------------------------------------------------------------
// driver

const serve = (databaseUrl: string): Promise<{ readonly child: ChildProcess; readonly url: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0"], {
      env: {
        ...process.env,
        STAGE_VALIDATION_OPS_TOKEN: "",
        DATABASE_URL: databaseUrl,
        REDIS_URL: "",
        NODE_ENV: "development",
        STAGE_VALIDATION_MODE: "enforce"
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    const onData = (chunk: Buffer) => {
      out = (out + chunk.toString("utf8")).slice(-10_000)
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m !== null) resolve({ child, url: m[1]! })
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}:\n${out}`)))
  })

const quantile = (sorted: ReadonlyArray<number>, q: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

interface PhaseResult {
  readonly phase: string
  readonly requests: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly errors: number
  readonly hostileAnswers?: Record<string, number>
}

/** The victim's closed loop for `seconds`: latencies of its 200s, in ms. */
const victim = async (url: string, seconds: number): Promise<{ readonly latencies: Array<number>; readonly errors: number }> => {
  const latencies: Array<number> = []
  let errors = 0
  const until = performance.now() + seconds * 1000
  while (performance.now() < until) {
    const started = performance.now()
    try {
      const r = await fetch(`${url}/api/monte-carlo/simulate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: VICTIM_BODY,
        signal: AbortSignal.timeout(30_000)
      })
      await r.arrayBuffer()
      if (r.status === 200) latencies.push(performance.now() - started)
      else errors++
    } catch {
      errors++
    }
  }
  return { latencies, errors }
}

const r2 = (x: number) => Math.round(x * 100) / 100

const summarise = (phase: string, run: { readonly latencies: Array<number>; readonly errors: number }, hostileAnswers?: Record<string, number>): PhaseResult => {
  const sorted = [...run.latencies].sort((a, b) => a - b)
  return {
    phase,
    requests: sorted.length,
    p50Ms: r2(quantile(sorted, 0.5)),
    p99Ms: r2(quantile(sorted, 0.99)),
    maxMs: r2(sorted.at(-1) ?? Number.NaN),
    errors: run.errors,
    ...(hostileAnswers === undefined ? {} : { hostileAnswers })
  }
}

const withHostiles = async (mode: Mode, url: string, seconds: number): Promise<PhaseResult> => {
  const child = spawn(process.execPath, [SELF, "--hostile", mode, "--url", url, "--seconds", String(seconds)], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  let out = ""
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")))
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  // let the hostile clients get going before measuring
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  const run = await victim(url, seconds - 1.5)
  await exited
  return summarise(`with 4 hostile clients: ${mode}`, run, out === "" ? undefined : JSON.parse(out))
}

const main = async (): Promise<void> => {
  const seconds = Number(flag("seconds", "10"))
  const victimSeconds = Number(flag("victim-seconds", "8"))
  const modes = flag("modes", MODES.join(",")).split(",") as Array<Mode>
  const out = flag("out", "baselines/hostile-clients.json")
  const { child, url } = await serve(flag("database-url", ""))
  try {
    await victim(url, 1) // warm-up
    const results: Array<PhaseResult> = [summarise("victim alone", await victim(url, victimSeconds))]
    for (const mode of modes) {
      results.push(await withHostiles(mode, url, seconds))
      results.push(summarise("victim alone again", await victim(url, 2)))
    }
    console.log(`victim: POST /api/monte-carlo/simulate (runs 100), one request at a time; ${cpus().length} CPUs, Node ${process.version}`)
    console.log("| phase | victim requests | p50 ms | p99 ms | max ms | victim errors | hostile answers |")
    console.log("|---|---:|---:|---:|---:|---:|---|")
    for (const r of results) {
      console.log(`| ${r.phase} | ${r.requests} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.errors} | ${r.hostileAnswers === undefined ? "" : JSON.stringify(r.hostileAnswers)} |`)
    }
    if (!args.includes("--no-write")) {
      mkdirSync(dirname(out), { recursive: true })
      const report = {
        measured: new Date().toISOString().slice(0, 10),
        machine: `${cpus()[0]?.model ?? "unknown"} × ${cpus().length}`,
        node: process.version,
        seconds,
        results
      }
      writeFileSync(out, JSON.stringify(report, null, 2) + "\n")
      console.log(`written: ${out}`)
    }
  } finally {
    child.removeAllListeners("exit")
    child.kill("SIGTERM")
  }
}

if (args.includes("--hostile")) {
  await runHostile(flag("hostile", "oversized") as Mode, flag("url", ""), Number(flag("seconds", "10")))
} else {
  await main()
}
