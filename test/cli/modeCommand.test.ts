/**
 * `stage-normalization mode get | set | history` as operators run it (a child process): against
 * the real Redis on 127.0.0.1:6379 under a unique prefix, and through a running reference
 * service's mode API (`--url`, token file). A change lands in the shared document with a new
 * version and an audit entry; a lost compare-and-set race, a bad value, a missing actor or reason
 * exit 2 with a message; the finalisation guard exits 1 unless `--force` (audited as forced).
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createClient } from "redis"
import { DEFAULT_DOCUMENT, encodeRolloutDocument, type RolloutDocument } from "../../src/rollout/index.ts"
import { startService, OPS_TOKEN, type RunningService } from "../http/support/Service.ts"
import { assertRedisReachable, REDIS_URL, uniquePrefix } from "../rollout/redisHarness.ts"
import { runCliAsync } from "./run-cli.ts"

/** No inherited store, database or token: each test says what it uses. */
const cleanEnv = {
  REDIS_URL: undefined,
  DATABASE_URL: undefined,
  STAGE_VALIDATION_OPS_TOKEN: undefined,
  STAGE_VALIDATION_REDIS_PREFIX: undefined
}
const cli = (args: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>> = {}) =>
  runCliAsync(args, { ...cleanEnv, ...env })

const store = (prefix: string) => ["--redis-url", REDIS_URL, "--prefix", prefix]

describe("stage-normalization mode, against the shared store (Redis)", () => {
  const redis = createClient({ url: REDIS_URL })
  const prefixes: Array<string> = []

  beforeAll(async () => {
    await assertRedisReachable()
    await redis.connect()
  })

  afterAll(async () => {
    for (const prefix of prefixes) await redis.del([`${prefix}:document`, `${prefix}:history`])
    await redis.quit()
  })

  const seed = async (doc: Partial<RolloutDocument> = {}, version = 3): Promise<string> => {
    const prefix = uniquePrefix("mode-cli")
    prefixes.push(prefix)
    await redis.set(`${prefix}:document`, JSON.stringify(encodeRolloutDocument({ ...DEFAULT_DOCUMENT, ...doc, version })))
    return prefix
  }
  const stored = async (prefix: string) =>
    JSON.parse((await redis.get(`${prefix}:document`)) ?? "null") as Record<string, unknown> & { version: number }

  it("set changes the given fields with a new version and an audit entry; get and history show it", async () => {
    const prefix = await seed({ defaultMode: "enforce", enforceWriteOnly: true, enforcementPercent: 10 })
    const set = await cli([
      "mode", "set", ...store(prefix), "--mode", "warn", "--percent", "25", "--endpoint", "/api/portfolio/strategies=enforce",
      "--actor", "ops@example.com", "--reason", "step back to warn"
    ])
    assert.strictEqual(set.status, 0, set.stderr)
    assert.include(set.stdout, "version 3 → 4")
    assert.include(set.stdout, "defaultMode: enforce → warn")
    assert.include(set.stdout, "enforcementPercent: 10 → 25")
    assert.include(set.stdout, "endpointMode./api/portfolio/strategies: (unset) → enforce")
    const doc = await stored(prefix)
    assert.deepInclude(doc, { version: 4, defaultMode: "warn", enforcementPercent: 25, enforceWriteOnly: true })
    assert.deepStrictEqual(doc["endpointMode"], { "/api/portfolio/strategies": "enforce" })

    const get = await cli(["mode", "get", ...store(prefix)])
    assert.strictEqual(get.status, 0, get.stderr)
    assert.match(get.stdout, /version\s+4\n/)
    assert.match(get.stdout, /defaultMode\s+warn\n/)
    assert.match(get.stdout, /endpointMode\s+\/api\/portfolio\/strategies: enforce\n/)
    const json = await cli(["mode", "get", ...store(prefix), "--json"])
    assert.strictEqual(json.status, 0, json.stderr)
    const parsed = JSON.parse(json.stdout) as { version: number; document: Record<string, unknown> }
    assert.strictEqual(parsed.version, 4)
    assert.strictEqual(parsed.document["enforcementPercent"], 25)

    const history = await cli(["mode", "history", ...store(prefix), "--limit", "20"])
    assert.strictEqual(history.status, 0, history.stderr)
    assert.match(history.stdout, /at\s+version\s+action\s+outcome\s+source\s+actor\s+changes\s+reason/)
    assert.match(history.stdout, /4\s+set\s+applied\s+cli\s+ops@example\.com\s+.*step back to warn/)
    const historyJson = await cli(["mode", "history", ...store(prefix), "--json"])
    const entries = JSON.parse(historyJson.stdout) as Array<{ action: string; outcome: string; actor: string; reason: string; source: string }>
    assert.deepInclude(entries[0], { action: "set", outcome: "applied", actor: "ops@example.com", reason: "step back to warn", source: "cli" })
  }, 60_000)

  it("the same content again changes nothing; --clear-endpoints and TEMPLATE=default remove overrides", async () => {
    const prefix = await seed({ endpointMode: { "/api/a": "enforce", "/api/b": "off" } })
    const same = await cli(["mode", "set", ...store(prefix), "--mode", "warn", "--actor", "a", "--reason", "r"])
    assert.strictEqual(same.status, 0, same.stderr)
    assert.include(same.stdout, "no change")
    assert.strictEqual((await stored(prefix)).version, 3)
    const one = await cli(["mode", "set", ...store(prefix), "--endpoint", "/api/a=default", "--actor", "a", "--reason", "r"])
    assert.strictEqual(one.status, 0, one.stderr)
    assert.deepStrictEqual((await stored(prefix))["endpointMode"], { "/api/b": "off" })
    const all = await cli(["mode", "set", ...store(prefix), "--clear-endpoints", "--dry-run", "on", "--actor", "a", "--reason", "r"])
    assert.strictEqual(all.status, 0, all.stderr)
    assert.deepInclude(await stored(prefix), { endpointMode: {}, dryRun: true, version: 5 })
  }, 60_000)

  it("a stale --expect-version exits 2 with the conflict, and changes nothing", async () => {
    const prefix = await seed()
    const run = await cli(["mode", "set", ...store(prefix), "--percent", "50", "--expect-version", "2", "--actor", "a", "--reason", "r"])
    assert.strictEqual(run.status, 2, run.stderr)
    assert.include(run.stderr, "rollout document version conflict: expected 2, found 3")
    assert.include(run.stderr, "--expect-version 3")
    assert.strictEqual((await stored(prefix)).enforcementPercent, 100)
    const ok = await cli(["mode", "set", ...store(prefix), "--percent", "50", "--expect-version", "3", "--actor", "a", "--reason", "r"])
    assert.strictEqual(ok.status, 0, ok.stderr)
    assert.strictEqual((await stored(prefix)).version, 4)
  }, 60_000)

  it("bad values, a missing actor or reason, nothing to change exit 2 with a message", async () => {
    const prefix = await seed()
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [["--percent", "150", "--actor", "a", "--reason", "r"], "enforcementPercent must be within 0..100"],
      [["--mode", "strict", "--actor", "a", "--reason", "r"], "--mode"],
      [["--dry-run", "maybe", "--actor", "a", "--reason", "r"], "--dry-run"],
      [["--endpoint", "/api/a", "--actor", "a", "--reason", "r"], "--endpoint expects TEMPLATE=MODE"],
      [["--endpoint", "api/a=enforce", "--actor", "a", "--reason", "r"], "invalid rollout document"],
      [["--percent", "25"], "needs --actor NAME and --reason TEXT"],
      [["--percent", "25", "--actor", "a"], "needs --actor NAME and --reason TEXT"],
      [["--percent", "25", "--actor", " ", "--reason", "r"], "--actor must be 1–500 characters"],
      [["--actor", "a", "--reason", "r"], "nothing to change"]
    ]
    for (const [args, message] of cases) {
      const run = await cli(["mode", "set", ...store(prefix), ...args])
      assert.strictEqual(run.status, 2, `${args.join(" ")}: ${run.stderr}`)
      assert.include(run.stderr, message, args.join(" "))
    }
    assert.strictEqual((await stored(prefix)).version, 3, "nothing was written")
    const limit = await cli(["mode", "history", ...store(prefix), "--limit", "0"])
    assert.strictEqual(limit.status, 2)
    assert.include(limit.stderr, "--limit must be within 1..1000")
  }, 120_000)

  it("no store, no document under the prefix, an unreachable Redis exit 2", async () => {
    const none = await cli(["mode", "get"])
    assert.strictEqual(none.status, 2)
    assert.include(none.stderr, "--redis-url (or REDIS_URL)")
    const empty = await cli(["mode", "get", "--redis-url", REDIS_URL, "--prefix", uniquePrefix("mode-cli-empty")])
    assert.strictEqual(empty.status, 2)
    assert.include(empty.stderr, "no rollout document at")
    const closed = await cli(["mode", "get", "--redis-url", "redis://127.0.0.1:1"])
    assert.strictEqual(closed.status, 2)
    assert.include(closed.stderr, "cannot use the shared rollout store at redis://127.0.0.1:1")
    const both = await cli(["mode", "get", "--redis-url", REDIS_URL, "--url", "http://127.0.0.1:1"])
    assert.strictEqual(both.status, 2)
    assert.include(both.stderr, "drop --redis-url")
  }, 60_000)

  it("raising read enforcement before the backfill is verified exits 1; --force goes through, audited as forced", async () => {
    const prefix = await seed({ defaultMode: "enforce", enforceWriteOnly: true, enforcementPercent: 10 })
    const refused = await cli(["mode", "set", ...store(prefix), "--enforce-write-only", "off", "--actor", "a", "--reason", "phase 3"])
    assert.strictEqual(refused.status, 1, refused.stderr)
    assert.include(refused.stderr, "refusing to enforce stage validation on reads")
    assert.include(refused.stderr, "--force")
    assert.strictEqual((await stored(prefix)).enforceWriteOnly, true)
    const forced = await cli(["mode", "set", ...store(prefix), "--enforce-write-only", "off", "--force", "--actor", "a", "--reason", "phase 3"])
    assert.strictEqual(forced.status, 0, forced.stderr)
    assert.include(forced.stdout, "forced")
    const history = JSON.parse((await cli(["mode", "history", ...store(prefix), "--json"])).stdout) as Array<{ outcome: string; forced: boolean }>
    assert.deepInclude(history[0], { outcome: "applied", forced: true })
    assert.deepInclude(history[1], { outcome: "refused", forced: false })
  }, 60_000)
})

describe("stage-normalization mode --url, through a running service's mode API", () => {
  let service: RunningService
  const dir = mkdtempSync(join(tmpdir(), "mode-cli-"))
  const tokenFile = join(dir, "token")
  const wrongToken = join(dir, "wrong")

  beforeAll(async () => {
    writeFileSync(tokenFile, `${OPS_TOKEN}\n`)
    writeFileSync(wrongToken, "not-the-token-0123456789-abcdefghijkl")
    service = await startService({ prefix: "modecli", initial: { ...DEFAULT_DOCUMENT, defaultMode: "enforce", enforceWriteOnly: true } })
  }, 60_000)

  afterAll(async () => {
    await service?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const api = () => ["--url", service.url, "--token-file", tokenFile]

  it("get, set and history through the API; the change is audited with source api", async () => {
    const version = service.store.current().version
    const set = await cli(["mode", "set", ...api(), "--percent", "25", "--actor", "ops@example.com", "--reason", "ramp via api"])
    assert.strictEqual(set.status, 0, set.stderr)
    assert.include(set.stdout, `version ${version} → ${version + 1}`)
    assert.include(set.stdout, "enforcementPercent: 100 → 25")
    assert.strictEqual(service.store.current().enforcementPercent, 25)

    const get = await cli(["mode", "get", ...api(), "--json"])
    assert.strictEqual(get.status, 0, get.stderr)
    assert.deepInclude((JSON.parse(get.stdout) as { document: object }).document, { enforcementPercent: 25, defaultMode: "enforce" })
    const table = await cli(["mode", "get", ...api()])
    assert.match(table.stdout, /enforcementPercent\s+25\n/)

    const history = await cli(["mode", "history", ...api(), "--limit", "5"])
    assert.strictEqual(history.status, 0, history.stderr)
    assert.match(history.stdout, /set\s+applied\s+api\s+ops@example\.com\s+enforcementPercent 100 → 25\s+ramp via api/)
  }, 60_000)

  it("the token comes from STAGE_VALIDATION_OPS_TOKEN too; a wrong or missing one exits 2", async () => {
    const fromEnv = await cli(["mode", "get", "--url", service.url], { STAGE_VALIDATION_OPS_TOKEN: OPS_TOKEN })
    assert.strictEqual(fromEnv.status, 0, fromEnv.stderr)
    const wrong = await cli(["mode", "get", "--url", service.url, "--token-file", wrongToken])
    assert.strictEqual(wrong.status, 2)
    assert.include(wrong.stderr, "refused the ops token (401)")
    const missing = await cli(["mode", "get", "--url", service.url])
    assert.strictEqual(missing.status, 2)
    assert.include(missing.stderr, "--token-file PATH")
  }, 60_000)

  it("refuses what the mode API refuses, with the store's messages: a conflict and a bad value exit 2, the guard 1", async () => {
    const version = service.store.current().version
    const conflict = await cli(["mode", "set", ...api(), "--percent", "50", "--expect-version", String(version - 1), "--actor", "a", "--reason", "r"])
    assert.strictEqual(conflict.status, 2, conflict.stderr)
    assert.include(conflict.stderr, `rollout document version conflict: expected ${version - 1}, found ${version}`)
    const bad = await cli(["mode", "set", ...api(), "--percent", "150", "--actor", "a", "--reason", "r"])
    assert.strictEqual(bad.status, 2, bad.stderr)
    assert.include(bad.stderr, "invalid rollout document: enforcementPercent must be within 0..100")
    const guard = await cli(["mode", "set", ...api(), "--enforce-write-only", "off", "--actor", "a", "--reason", "r"])
    assert.strictEqual(guard.status, 1, guard.stderr)
    assert.include(guard.stderr, "refusing to enforce stage validation on reads")
    assert.strictEqual(service.store.current().version, version, "nothing changed")
    const forced = await cli(["mode", "set", ...api(), "--enforce-write-only", "off", "--force", "--actor", "a", "--reason", "r"])
    assert.strictEqual(forced.status, 0, forced.stderr)
    const [latest] = await service.run(service.store.history(1))
    assert.deepInclude(latest, { source: "api", forced: true, outcome: "applied" })
    const mixed = await cli(["mode", "set", ...api(), "--database-url", "postgres://x@127.0.0.1/x", "--percent", "1", "--actor", "a", "--reason", "r"])
    assert.strictEqual(mixed.status, 2)
    assert.include(mixed.stderr, "drop --database-url")
  }, 90_000)

  it("status --url reads the document and the history through the mode API", async () => {
    const run = await cli(["status", ...api(), "--json"])
    assert.strictEqual(run.status, 0, run.stderr)
    const report = JSON.parse(run.stdout) as Record<string, { state: string; source?: string; version?: number }>
    assert.strictEqual(report["rollout"]?.state, "ok")
    assert.strictEqual(report["rollout"]?.version, service.store.current().version)
    assert.include(report["rollout"]?.source, "(mode API)")
    assert.strictEqual(report["gate"]?.state, "ok")
    assert.strictEqual(report["webhook"]?.state, "ok")
    assert.strictEqual(report["backfill"]?.state, "error", "no --database-url: not read")
  }, 60_000)
})

/** psql against the real PostgreSQL (the migration record the finalisation guard reads). */
const psql = (database: string, command: string) => {
  const r = spawnSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qc", command], {
    encoding: "utf8"
  })
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`)
}

describe("stage-normalization mode set --database-url (the guard reads the migration record, as promote does)", () => {
  const redis = createClient({ url: REDIS_URL })
  const database = `mode_guard_${process.pid}_${Date.now()}`
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${database}`
  const prefix = uniquePrefix("mode-guard")

  beforeAll(async () => {
    await assertRedisReachable()
    await redis.connect()
    psql("postgres", `CREATE DATABASE ${database}`)
    psql(database, "CREATE TABLE portfolio_companies (id serial PRIMARY KEY, fund_id int NOT NULL, stage text)")
    psql(database, "INSERT INTO portfolio_companies (fund_id, stage) SELECT g % 3, (ARRAY['Series A','seed','growth'])[1 + g % 3] FROM generate_series(1, 90) g")
    const doc = { ...DEFAULT_DOCUMENT, defaultMode: "enforce" as const, enforceWriteOnly: true, enforcementPercent: 10, version: 3 }
    await redis.set(`${prefix}:document`, JSON.stringify(encodeRolloutDocument(doc)))
  }, 60_000)

  afterAll(async () => {
    await redis.del([`${prefix}:document`, `${prefix}:history`])
    await redis.quit()
    psql("postgres", `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
  })

  it("refuses before the backfill is migrated and verified, accepts once it is", async () => {
    const args = ["mode", "set", "--redis-url", REDIS_URL, "--prefix", prefix, "--enforce-write-only", "off", "--actor", "a", "--reason", "phase 3"]
    const refused = await cli([...args, "--database-url", databaseUrl])
    assert.strictEqual(refused.status, 1, refused.stderr)
    assert.include(refused.stderr, "no migration run of public.portfolio_companies.stage")
    const migrated = await cli(["migrate", "--database-url", databaseUrl, "--apply", "--no-backup-check", "--sleep-ms", "0"])
    assert.strictEqual(migrated.status, 0, migrated.stdout + migrated.stderr)
    const verified = await cli(["verify", "--database-url", databaseUrl])
    assert.strictEqual(verified.status, 0, verified.stdout + verified.stderr)
    const accepted = await cli(args, { DATABASE_URL: databaseUrl }) // DATABASE_URL is read like --database-url
    assert.strictEqual(accepted.status, 0, accepted.stderr)
    assert.include(accepted.stdout, "enforceWriteOnly: true → false")
  }, 120_000)
})
