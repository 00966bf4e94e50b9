/**
 * `stage-normalization status` as the on-call engineer runs it (a child process) against the real
 * Redis (unique prefix), a scratch database on the real PostgreSQL with a migrated and verified
 * backfill, and a fake Prometheus: every section reads `ok` with the rollout document, the last
 * gate decision and its inputs, the webhook's downgrade, the backfill and the runbook's next step.
 * With Redis unreachable — a fault proxy that refuses connections or never answers, never the
 * machine's Redis stopped — it still prints the other sections, names what it could not read,
 * and exits 0. `--svg FILE` draws the same history as a picture (one marker per gate verdict, the
 * downgrade), with the fake Prometheus' range series or the reason they are missing.
 */
import { NodeRedis } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer, References } from "effect"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createClient } from "redis"
import {
  BACKFILL_PENDING,
  BackfillStatus,
  BLOCKING_ALERTS,
  DEFAULT_DOCUMENT,
  downgrade,
  encodeRolloutDocument,
  ModeStore
} from "../../src/rollout/index.ts"
import { parseTimeline } from "../../scripts/rehearsal/timelineCheck.ts"
import { type FakePrometheus, matrix, type RecordedQuery, type Reply, rules, startFakePrometheus, vector } from "../observability/fakePrometheus.ts"
import { assertRedisReachable, REDIS_URL, RedisProxy, uniquePrefix } from "../rollout/redisHarness.ts"
import { runCliAsync } from "./run-cli.ts"

const cleanEnv = { REDIS_URL: undefined, DATABASE_URL: undefined, PROMETHEUS_URL: undefined, STAGE_VALIDATION_OPS_TOKEN: undefined }
const cli = (args: ReadonlyArray<string>) => runCliAsync(args, cleanEnv)

/** A healthy Prometheus: plenty of traffic, nothing rejected, no alert firing. */
const healthy = (q: RecordedQuery): Reply => {
  if (q.path === "/api/v1/rules") return rules(BLOCKING_ALERTS)
  if (q.path === "/api/v1/query_range") return matrix(q, (t) => (q.params["query"]!.startsWith("histogram_quantile") ? "0.0003" : String((t % 60) / 10_000)))
  const query = q.params["query"] ?? ""
  if (query.startsWith("histogram_quantile")) return vector([{ value: "0.0003" }])
  if (query.startsWith("max_over_time(ALERTS")) return vector([])
  if (query.includes(`result="would_reject"`) || query.includes("stage_validation_errors_total")) return vector([{ value: "0" }])
  if (query.includes("stage_warn_unknown_total")) return vector([{ value: "10" }])
  return vector([{ value: "50000" }])
}

const psql = (database: string, command: string) => {
  const r = spawnSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qc", command], {
    encoding: "utf8"
  })
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`)
}

type Json = Record<string, any>

describe("stage-normalization status", () => {
  const redis = createClient({ url: REDIS_URL })
  const prefix = uniquePrefix("status-cli")
  const database = `status_cli_${process.pid}_${Date.now()}`
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${database}`
  const proxy = new RedisProxy()
  let prometheus: FakePrometheus

  beforeAll(async () => {
    await assertRedisReachable()
    await redis.connect()
    await proxy.start("forward")
    prometheus = await startFakePrometheus(healthy)
    psql("postgres", `CREATE DATABASE ${database}`)
    psql(database, "CREATE TABLE portfolio_companies (id serial PRIMARY KEY, fund_id int NOT NULL, stage text)")
    psql(database, "INSERT INTO portfolio_companies (fund_id, stage) SELECT g % 3, (ARRAY['Series A','seed','growth'])[1 + g % 3] FROM generate_series(1, 120) g")
    const migrated = await cli(["migrate", "--database-url", databaseUrl, "--apply", "--no-backup-check", "--sleep-ms", "0"])
    assert.strictEqual(migrated.status, 0, migrated.stdout + migrated.stderr)
    const verified = await cli(["verify", "--database-url", databaseUrl])
    assert.strictEqual(verified.status, 0, verified.stdout + verified.stderr)

    // phase 3 at 10 %, one promotion through the gate (10 → 25), then the webhook downgrades
    const phase3 = { ...DEFAULT_DOCUMENT, defaultMode: "enforce" as const, enforceWriteOnly: true, enforcementPercent: 10, version: 3 }
    await redis.set(`${prefix}:document`, JSON.stringify(encodeRolloutDocument(phase3)))
    const promoted = await cli([
      "promote", "--prometheus-url", prometheus.url, "--redis-url", REDIS_URL, "--prefix", prefix, "--windows", "2",
      "--actor", "ops@example.com", "--reason", "week 2"
    ])
    assert.strictEqual(promoted.status, 0, promoted.stdout + promoted.stderr)
    await Effect.runPromise(
      downgrade({ reason: "StageValidationBlastRadius firing", source: "webhook" }).pipe(
        Effect.provide(
          ModeStore.layerRedisFrom({ initial: DEFAULT_DOCUMENT, prefix, seedIfEmpty: false }).pipe(
            Layer.provide([NodeRedis.layer({ url: REDIS_URL }), BackfillStatus.layerMemory(BACKFILL_PENDING)])
          )
        ),
        Effect.scoped,
        Effect.provideService(References.MinimumLogLevel, "Error")
      )
    )
  }, 120_000)

  afterAll(async () => {
    await prometheus?.close()
    await proxy.stop()
    await redis.del([`${prefix}:document`, `${prefix}:history`])
    await redis.quit()
    psql("postgres", `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
  })

  const everything = (redisUrl: string) => [
    "status", "--redis-url", redisUrl, "--prefix", prefix, "--database-url", databaseUrl, "--prometheus-url", prometheus.url,
    "--timeout-seconds", "3"
  ]

  it("--json: every section ok — document, last gate decision with its inputs, webhook, backfill, next step", async () => {
    const run = await cli([...everything(REDIS_URL), "--json"])
    assert.strictEqual(run.status, 0, run.stderr)
    const report = JSON.parse(run.stdout) as Json
    assert.deepStrictEqual(report["unreadable"], [])

    const rollout = report["rollout"]
    assert.strictEqual(rollout.state, "ok")
    assert.strictEqual(rollout.version, 5)
    assert.deepInclude(rollout.document, { defaultMode: "warn", enforcementPercent: 25, enforceWriteOnly: false, dryRun: false })
    assert.deepInclude(rollout.lastChange, { actor: "webhook", source: "webhook", action: "downgrade", outcome: "applied" })

    const gate = report["gate"]
    assert.strictEqual(gate.state, "ok")
    assert.deepInclude(gate.last, { actor: "ops@example.com", decision: "promote", verdict: "pass", outcome: "applied" })
    assert.deepInclude(gate.last.record, { fromPercent: 10, toPercent: 25, requiredPasses: 2 })
    assert.deepInclude(gate.last.record.windows[0].rows.find((r: Json) => r.criterion === "requests"), { measured: 50000, threshold: 1000 })
    assert.include(gate.last.record.queries.requests, "stage_validation_validations_total")

    assert.deepInclude(report["gateNow"], { state: "ok", verdict: "pass", prometheus: prometheus.url })

    const webhook = report["webhook"]
    assert.deepInclude(webhook, { state: "ok", firedRecently: true, downgradedRecently: true })
    assert.include(webhook.lastDowngrade.reason, "StageValidationBlastRadius")

    const backfill = report["backfill"]
    assert.strictEqual(backfill.state, "ok", backfill.error)
    assert.strictEqual(backfill.target, "public.portfolio_companies.stage")
    assert.deepInclude(backfill.latestRun, { status: "succeeded", percentComplete: 100, rowsTotal: 120, batchesFailed: 0 })
    assert.deepInclude(backfill.verification, { ok: true })
    assert.deepInclude(backfill.guard, { migrated: true, verified: true, remainingNonCanonical: 0 })

    assert.deepInclude(report["next"], { state: "ok", phase: "downgraded", runbook: "docs/runbook.md#1-auto-downgrade-alertmanager" })
  }, 60_000)

  it("as text: one block per section and the runbook's next step", async () => {
    const run = await cli(everything(REDIS_URL))
    assert.strictEqual(run.status, 0, run.stderr)
    for (const heading of ["ROLLOUT", "GATE (last decision in the history)", "GATE NOW (Prometheus)", "DOWNGRADE WEBHOOK", "BACKFILL (PostgreSQL)", "NEXT STEP"]) {
      assert.include(run.stdout, `\n${heading}\n`)
    }
    assert.match(run.stdout, /version 5 · mode warn · 25 % enforced · dry-run off · enforce-write-only off/)
    assert.match(run.stdout, /last change: .* by webhook \(webhook downgrade\)/)
    assert.match(run.stdout, /by ops@example\.com: promote \(audit outcome applied\), verdict pass/)
    assert.match(run.stdout, /requests\s+≥ 1000\s+50000\s+pass/)
    assert.match(run.stdout, /DOWNGRADED since/)
    assert.match(run.stdout, /latest run \d+ \(normalize\): succeeded, 100 %/)
    assert.match(run.stdout, /last verify: passed/)
    assert.include(run.stdout, "phase auto-downgraded: find the callers")
    assert.include(run.stdout, "every section was read")
  }, 60_000)

  for (const mode of ["down", "blackhole"] as const) {
    it(`with Redis unreachable (proxy ${mode}) it prints the other sections, names what it could not read, exits 0`, async () => {
      proxy.setMode(mode)
      try {
        const run = await cli([...everything(proxy.url), "--json"])
        assert.strictEqual(run.status, 0, run.stderr)
        const report = JSON.parse(run.stdout) as Json
        for (const section of ["rollout", "gate", "webhook", "next"]) {
          assert.strictEqual(report[section].state, "error", section)
          assert.isString(report[section].error)
        }
        assert.include(report["rollout"].error, mode === "down" ? proxy.url : "did not answer")
        assert.strictEqual(report["backfill"].state, "ok")
        assert.strictEqual(report["gateNow"].state, "ok")
        assert.isTrue((report["unreadable"] as Array<string>).some((u) => u.startsWith("rollout: ")))
        const text = await cli(everything(proxy.url))
        assert.strictEqual(text.status, 0, text.stderr)
        assert.match(text.stdout, /ROLLOUT\n {2}could not read: /)
        assert.match(text.stdout, /could not read:\n {2}- rollout: /)
        assert.match(text.stdout, /latest run \d+ \(normalize\): succeeded/)
      } finally {
        proxy.setMode("forward")
      }
    }, 60_000)
  }

  describe("--svg FILE", () => {
    const dir = mkdtempSync(join(tmpdir(), "status-svg-"))
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    it("draws the audit history: one marker per gate verdict, the downgrade, the series from query_range", async () => {
      const file = join(dir, "rollout.svg")
      const before = prometheus.requests.length
      const run = await cli([...everything(REDIS_URL), "--svg", file])
      assert.strictEqual(run.status, 0, run.stdout + run.stderr)
      assert.include(run.stdout, "NEXT STEP")
      assert.match(run.stdout, new RegExp(`wrote the rollout timeline to ${file}: 2 audit entries, 1 gate verdict; metric series from Prometheus`))
      const marks = parseTimeline(readFileSync(file, "utf8"))
      assert.deepStrictEqual(marks.verdicts, ["pass"])
      assert.strictEqual(marks.downgrades, 1)
      assert.isFalse(marks.metricsUnavailable)
      const ranges = prometheus.requests.slice(before).filter((r) => r.path === "/api/v1/query_range").map((r) => r.params["query"] ?? "")
      assert.isTrue(ranges.some((q) => q.includes(`result="rejected"`)), ranges.join("\n"))
      assert.isTrue(ranges.some((q) => q.startsWith("histogram_quantile(0.99")), ranges.join("\n"))
    }, 60_000)

    it("without Prometheus it still draws mode and verdicts and says the series are unavailable; --json keeps stdout JSON", async () => {
      const file = join(dir, "no-metrics.svg")
      const run = await cli(["status", "--redis-url", REDIS_URL, "--prefix", prefix, "--json", "--svg", file])
      assert.strictEqual(run.status, 0, run.stderr)
      assert.strictEqual(JSON.parse(run.stdout)["rollout"].state, "ok")
      assert.include(run.stderr, "metric series unavailable: not configured")
      const marks = parseTimeline(readFileSync(file, "utf8"))
      assert.isTrue(marks.metricsUnavailable)
      assert.include(marks.texts, "metric series unavailable (reject ratio, p99): not configured")
      assert.deepStrictEqual(marks.verdicts, ["pass"])
    }, 60_000)

    it("a path that cannot be written exits 2 before anything is read; no history to draw exits 1", async () => {
      for (const [path, message] of [[join(dir, "missing", "x.svg"), "does not exist"], [dir, "is a folder"]] as const) {
        const bad = await cli(["status", "--redis-url", REDIS_URL, "--prefix", prefix, "--svg", path])
        assert.strictEqual(bad.status, 2, bad.stdout + bad.stderr)
        assert.include(bad.stderr, message)
        assert.notInclude(bad.stdout, "ROLLOUT")
      }
      proxy.setMode("down")
      try {
        const run = await cli(["status", "--redis-url", proxy.url, "--prefix", prefix, "--timeout-seconds", "3", "--svg", join(dir, "down.svg")])
        assert.strictEqual(run.status, 1, run.stdout + run.stderr)
        assert.include(run.stdout, "could not read")
        assert.include(run.stderr, "nothing drawn, the audit history could not be read")
      } finally {
        proxy.setMode("forward")
      }
    }, 60_000)
  })

  it("nothing configured still prints, every section saying why; bad flags exit 2", async () => {
    const run = await cli(["status", "--json"])
    assert.strictEqual(run.status, 0, run.stderr)
    const report = JSON.parse(run.stdout) as Json
    assert.include(report["rollout"].error, "not configured")
    assert.include(report["backfill"].error, "--database-url")
    assert.include(report["gateNow"].error, "--prometheus-url")
    assert.lengthOf(report["unreadable"], 6)
    for (const args of [["--since", "yesterday"], ["--url", "http://127.0.0.1:1"], ["--timeout-seconds", "0"], ["--prometheus-url", "ftp://x"]]) {
      const bad = await cli(["status", ...args])
      assert.strictEqual(bad.status, 2, `${args.join(" ")}: ${bad.stdout}${bad.stderr}`)
    }
  }, 60_000)
})
