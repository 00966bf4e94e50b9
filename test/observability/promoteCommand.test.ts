/**
 * `stage-normalization promote` as operators run it: a child process reading a (fake) Prometheus
 * and changing the shared rollout document in the real Redis on 127.0.0.1:6379 — it advances
 * only on a pass, holds on a failing gate (exit 1) or an unreadable Prometheus (exit 3,
 * inconclusive), and refuses bad input (exit 2). `--prefix` names the store's keys as for `mode`
 * and `status`; the old `--redis-prefix` still works and says it is deprecated.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { createClient } from "redis"
import { BLOCKING_ALERTS, DEFAULT_DOCUMENT, encodeRolloutDocument, type RolloutDocument } from "../../src/rollout/index.ts"
import { assertRedisReachable, REDIS_URL, uniquePrefix } from "../rollout/redisHarness.ts"
import { type FakePrometheus, type RecordedQuery, type Reply, rules, startFakePrometheus, vector } from "./fakePrometheus.ts"

const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url))

interface Run {
  readonly code: number | null
  readonly output: string
}

/** Runs the CLI without blocking this process (the fake Prometheus answers from here). */
const cli = (args: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>> = {}): Promise<Run> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, NO_COLOR: "1", REDIS_URL: undefined, PROMETHEUS_URL: undefined, ...env } as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")))
    child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")))
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })

/** Prometheus answers: a healthy window, except what `override` changes. */
const prometheus = (values: Partial<Record<"requests" | "wouldReject" | "errors" | "unknown" | "p99", string>> = {}) =>
(q: RecordedQuery): Reply => {
  if (q.path === "/api/v1/rules") return rules(BLOCKING_ALERTS)
  const query = q.params["query"] ?? ""
  const v = { requests: "50000", wouldReject: "0", errors: "0", unknown: "10", p99: "0.0003", ...values }
  if (query.startsWith("histogram_quantile")) return vector([{ value: v.p99 }])
  if (query.startsWith("max_over_time(ALERTS")) return vector([])
  if (query.includes(`result="would_reject"`)) return vector([{ value: v.wouldReject }])
  if (query.includes("stage_validation_errors_total")) return vector([{ value: v.errors }])
  if (query.includes("stage_warn_unknown_total")) return vector([{ value: v.unknown }])
  return vector([{ value: v.requests }])
}

// Phase 3 of the seeds: writes enforced (write-only), the percentage stepping up
const phase3: RolloutDocument = { ...DEFAULT_DOCUMENT, defaultMode: "enforce", enforceWriteOnly: true, enforcementPercent: 10 }

const args = (url: string, prefix: string, ...more: ReadonlyArray<string>) => [
  "promote",
  "--prometheus-url",
  url,
  "--redis-url",
  REDIS_URL,
  "--prefix",
  prefix,
  "--windows",
  "2",
  ...more
]

describe("stage-normalization promote", () => {
  const redis = createClient({ url: REDIS_URL })
  const prefixes: Array<string> = []
  let healthy: FakePrometheus
  let unknownHigh: FakePrometheus

  beforeAll(async () => {
    await assertRedisReachable()
    await redis.connect()
    healthy = await startFakePrometheus(prometheus())
    unknownHigh = await startFakePrometheus(prometheus({ unknown: "4000" })) // 8 %
  })

  afterAll(async () => {
    await healthy.close()
    await unknownHigh.close()
    for (const prefix of prefixes) {
      const keys: Array<string> = []
      for await (const batch of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 100 })) keys.push(...batch)
      if (keys.length > 0) await redis.del(keys)
    }
    await redis.quit()
  })

  /** A fresh prefix holding `doc` as the shared rollout document. */
  const seed = async (doc: RolloutDocument): Promise<string> => {
    const prefix = uniquePrefix("promote-cli")
    prefixes.push(prefix)
    await redis.set(`${prefix}:document`, JSON.stringify(encodeRolloutDocument({ ...doc, version: 3 })))
    return prefix
  }
  const stored = async (prefix: string) =>
    JSON.parse((await redis.get(`${prefix}:document`)) ?? "null") as { version: number; enforcementPercent: number }
  const history = async (prefix: string) =>
    (await redis.lRange(`${prefix}:history`, 0, -1)).map((l) => JSON.parse(l) as { action: string; outcome: string; forced: boolean })
  it("--redis-prefix, the deprecated name of --prefix, still works and prints a one-line note; the two disagreeing is bad input", async () => {
    const prefix = await seed(phase3)
    const old = ["promote", "--prometheus-url", healthy.url, "--redis-url", REDIS_URL, "--redis-prefix", prefix, "--windows", "2"]
    const run = await cli(old)
    assert.strictEqual(run.code, 0, run.output)
    assert.strictEqual(run.output.split("\n").filter((l) => l.includes("deprecated")).length, 1, run.output)
    assert.include(run.output, "--redis-prefix is deprecated and will be removed; use --prefix")
    assert.strictEqual((await stored(prefix)).enforcementPercent, 25)
    const current = await cli(args(healthy.url, prefix))
    assert.strictEqual(current.code, 0, current.output)
    assert.notInclude(current.output, "deprecated")
    assert.strictEqual((await stored(prefix)).enforcementPercent, 50)
    const both = await cli([...args(healthy.url, prefix), "--redis-prefix", "other"])
    assert.strictEqual(both.code, 2, both.output)
    assert.include(both.output, "disagree")
    assert.strictEqual((await stored(prefix)).enforcementPercent, 50)
  }, 60_000)

  it("advances one ramp step on a pass, printing the verdict table", async () => {
    const prefix = await seed(phase3)
    const run = await cli(args(healthy.url, prefix, "--actor", "ops@example.com"))
    assert.strictEqual(run.code, 0, run.output)
    assert.match(run.output, /criterion\s+threshold\s+measured\s+result/)
    assert.match(run.output, /unknownStageRatio\s+< 0\.5 %\s+0\.02 %\s+pass/)
    assert.match(run.output, /validatorP99Seconds\s+< 1 ms\s+0\.3 ms\s+pass/)
    assert.include(run.output, "promoted: enforcementPercent 10 → 25")
    const doc = await stored(prefix)
    assert.strictEqual(doc.enforcementPercent, 25)
    assert.strictEqual(doc.version, 4)
    const [latest] = await history(prefix)
    assert.deepInclude(latest, { action: "promote", outcome: "applied", forced: false })
  }, 60_000)

  it("--to N goes straight to N on a pass", async () => {
    const prefix = await seed(phase3)
    const run = await cli(args(healthy.url, prefix, "--to", "50"))
    assert.strictEqual(run.code, 0, run.output)
    assert.strictEqual((await stored(prefix)).enforcementPercent, 50)
  }, 60_000)

  it("holds on a failing gate: exit 1, nothing changes, the attempt is audited as refused", async () => {
    const prefix = await seed(phase3)
    const run = await cli(args(unknownHigh.url, prefix))
    assert.strictEqual(run.code, 1, run.output)
    assert.match(run.output, /unknownStageRatio\s+< 0\.5 %\s+8 %\s+fail/)
    assert.match(run.output, /verdict: fail/)
    assert.include(run.output, "held: enforcementPercent stays at 10 %")
    const doc = await stored(prefix)
    assert.strictEqual(doc.enforcementPercent, 10)
    assert.strictEqual(doc.version, 3)
    const [latest] = await history(prefix)
    assert.deepInclude(latest, { action: "promote", outcome: "refused" })
  }, 60_000)

  it("--force promotes past a failing gate, audited as forced", async () => {
    const prefix = await seed(phase3)
    const run = await cli(args(unknownHigh.url, prefix, "--force"))
    assert.strictEqual(run.code, 0, run.output)
    assert.include(run.output, "FORCED past the gate")
    assert.strictEqual((await stored(prefix)).enforcementPercent, 25)
    const [latest] = await history(prefix)
    assert.deepInclude(latest, { action: "promote", outcome: "applied", forced: true })
  }, 60_000)

  it("an unreachable Prometheus is inconclusive (exit 3), never a pass", async () => {
    const prefix = await seed(phase3)
    const run = await cli(args("http://127.0.0.1:1", prefix))
    assert.strictEqual(run.code, 3, run.output)
    assert.include(run.output, "Prometheus could not be read")
    assert.match(run.output, /verdict: inconclusive/)
    assert.strictEqual((await stored(prefix)).enforcementPercent, 10)
  }, 60_000)

  it("records every attempt's decision: values, thresholds, PromQL and verdict in the audit history", async () => {
    const prefix = await seed(phase3)
    const metricsFile = join(mkdtempSync(join(tmpdir(), "promote-metrics-")), "gate.prom")
    const run = await cli(args(unknownHigh.url, prefix, "--job", "api", "--metrics-file", metricsFile))
    assert.strictEqual(run.code, 1, run.output)
    const exposition = readFileSync(metricsFile, "utf8")
    assert.match(exposition, /^stage_validation_gate_evaluations_total\{verdict="fail"\} 1$/m)
    assert.match(exposition, /^stage_validation_gate_last_value\{criterion="unknownStageRatio"\} 0\.08$/m)
    assert.notInclude(exposition, "stage_validation_mode", "only the gate's metrics")
    const [entry] = (await redis.lRange(`${prefix}:history`, 0, 0)).map((l) => JSON.parse(l) as {
      outcome: string
      gate: {
        verdict: string
        decision: string
        queries: Record<string, string>
        windows: Array<{ rows: Array<{ criterion: string; threshold: unknown; measured: unknown; status: string }> }>
      }
    })
    assert.strictEqual(entry?.outcome, "refused")
    assert.deepInclude(entry?.gate, { verdict: "fail", decision: "hold" })
    assert.strictEqual(entry?.gate.windows.length, 2)
    assert.deepInclude(entry?.gate.windows[0]?.rows.find((r) => r.criterion === "unknownStageRatio"), {
      threshold: 0.005,
      measured: 0.08,
      status: "fail"
    })
    assert.strictEqual(entry?.gate.queries["unknown"], "sum(increase(stage_warn_unknown_total{job=\"api\"}[600s]))")
  }, 60_000)

  it("--on-inconclusive fail exits 1 on an inconclusive gate (hold, the default, exits 3); never promotes", async () => {
    const prefix = await seed(phase3)
    const run = await cli(args("http://127.0.0.1:1", prefix, "--on-inconclusive", "fail"))
    assert.strictEqual(run.code, 1, run.output)
    assert.include(run.output, "--on-inconclusive fail")
    assert.strictEqual((await stored(prefix)).enforcementPercent, 10)
    const [entry] = (await redis.lRange(`${prefix}:history`, 0, 0)).map((l) => JSON.parse(l) as { gate: Record<string, unknown> })
    assert.deepInclude(entry?.gate, { verdict: "inconclusive", decision: "hold", onInconclusive: "fail" })
    assert.isString(entry?.gate["metricsError"])
    const bad = await cli(args(healthy.url, prefix, "--on-inconclusive", "maybe"))
    assert.strictEqual(bad.code, 2, bad.output)
  }, 60_000)

  it("--dry-run prints the gate and touches nothing (no Redis needed)", async () => {
    const pass = await cli(["promote", "--prometheus-url", healthy.url, "--dry-run", "--windows", "1"])
    assert.strictEqual(pass.code, 0, pass.output)
    assert.match(pass.output, /verdict: pass/)
    const fail = await cli(["promote", "--prometheus-url", unknownHigh.url, "--dry-run"])
    assert.strictEqual(fail.code, 1, fail.output)
  }, 60_000)

  it("bad input exits 2: no shared store given, no document under the prefix, an invalid --to", async () => {
    const noStore = await cli(["promote", "--prometheus-url", healthy.url])
    assert.strictEqual(noStore.code, 2, noStore.output)
    assert.include(noStore.output, "--redis-url")
    const empty = await cli(args(healthy.url, uniquePrefix("promote-cli-empty")))
    assert.strictEqual(empty.code, 2, empty.output)
    assert.include(empty.output, "no rollout document")
    const badTo = await cli(args(healthy.url, "x", "--to", "150"))
    assert.strictEqual(badTo.code, 2, badTo.output)
  }, 60_000)
})

/** psql against the real PostgreSQL (the migration record the finalisation guard reads). */
const psql = (database: string, command: string) => {
  const r = spawnSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qc", command], {
    encoding: "utf8"
  })
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`)
}

describe("stage-normalization promote --database-url (the finalisation guard reads the migration record)", () => {
  const redis = createClient({ url: REDIS_URL })
  const database = `promote_guard_${process.pid}_${Date.now()}`
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${database}`
  const prefixes: Array<string> = []
  let healthy: FakePrometheus

  beforeAll(async () => {
    await assertRedisReachable()
    await redis.connect()
    healthy = await startFakePrometheus(prometheus())
    psql("postgres", `CREATE DATABASE ${database}`)
    psql(database, "CREATE TABLE portfolio_companies (id serial PRIMARY KEY, fund_id int NOT NULL, stage text)")
    psql(database, "INSERT INTO portfolio_companies (fund_id, stage) SELECT g % 3, (ARRAY['Series A','seed','growth','pre_seed'])[1 + g % 4] FROM generate_series(1, 200) g")
  }, 60_000)

  afterAll(async () => {
    await healthy.close()
    for (const prefix of prefixes) await redis.del([`${prefix}:document`, `${prefix}:history`])
    await redis.quit()
    psql("postgres", `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
  })

  // Reads enforced at 10 %: raising the percentage moves more reads into enforcement.
  const readsEnforced: RolloutDocument = { ...DEFAULT_DOCUMENT, defaultMode: "enforce", enforceWriteOnly: false, enforcementPercent: 10 }
  const seedDocument = async () => {
    const prefix = uniquePrefix("promote-guard")
    prefixes.push(prefix)
    await redis.set(`${prefix}:document`, JSON.stringify(encodeRolloutDocument({ ...readsEnforced, version: 3 })))
    return prefix
  }
  const percentOf = async (prefix: string) =>
    (JSON.parse((await redis.get(`${prefix}:document`)) ?? "null") as { enforcementPercent: number }).enforcementPercent

  it("refuses to enforce more reads before the backfill is verified, and promotes once it is", async () => {
    const before = await seedDocument()
    const refused = await cli([...args(healthy.url, before), "--database-url", databaseUrl])
    assert.strictEqual(refused.code, 1, refused.output)
    assert.match(refused.output, /not promoted/)
    assert.strictEqual(await percentOf(before), 10)

    const migrated = await cli(["migrate", "--database-url", databaseUrl, "--apply", "--no-backup-check", "--sleep-ms", "0"])
    assert.strictEqual(migrated.code, 0, migrated.output)
    const verified = await cli(["verify", "--database-url", databaseUrl])
    assert.strictEqual(verified.code, 0, verified.output)

    const after = await seedDocument()
    const promoted = await cli([...args(healthy.url, after), "--database-url", databaseUrl])
    assert.strictEqual(promoted.code, 0, promoted.output)
    assert.strictEqual(await percentOf(after), 25)
  }, 120_000)
})
