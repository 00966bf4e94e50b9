/**
 * `npm run rehearsal`: the whole rollout of docs/runbook.md, scripted, against the reference
 * service — phase 2.1 warn baseline → 2.4 indexes → 2.5 backup, migration, write enforcement,
 * verify → 2.7 shadow → 3 ramp 10 → 25 → 50 → 100 through the promotion gate → 4 full enforcement
 * → an invalid spike and the auto-downgrade through the real alert path (RTO measured) → a rollback
 * drill of the migration on a copy of the table.
 *
 * Runs on the real PostgreSQL (a scratch database) and Redis (a fresh key prefix) when they
 * answer, else on the embedded database and the in-memory store (`--database`, `--store` force
 * either); with a real Prometheus and Alertmanager on compressed timers (as `e2e:alerting`) and
 * bounded loopback traffic. Prints one table row per phase with what it measured and its gate;
 * exits 1 as soon as a gate fails (the rest is listed as not run), and in any case before 5
 * minutes. Last, the rollout is drawn as an SVG timeline from the audit history and Prometheus and
 * read back (one marker per gate verdict). `--write-runbook` pastes the table into docs/runbook.md
 * and the picture into docs/rollout-timeline.svg when every gate passed; `--svg FILE` writes the
 * picture there in any case.
 *
 *   npm run rehearsal
 *   npm run rehearsal -- --database embedded --store memory
 *   npm run rehearsal -- --write-runbook
 *   npm run rehearsal -- --svg /tmp/rollout.svg
 */
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { prometheusTools, startMonitoring } from "./e2e/monitoring.ts"
import { promQuery } from "./e2e/observe.ts"
import { addCleanup, runCleanups, stopAll, waitFor } from "./e2e/processes.ts"
import { startReferenceService } from "./e2e/referenceService.ts"
import { describeLoad, startTraffic, type Traffic } from "./e2e/traffic.ts"
import { type Database, type DatabaseChoice, openDatabase, openStore, type Store, type StoreChoice } from "./rehearsal/backends.ts"
import { seedHistoricalCompanies } from "./rehearsal/historicalData.ts"
import { timelinePicture } from "./rehearsal/timeline.ts"
import { type PhaseRow, pasteIntoRunbook, quoteRtoInRunbook, REHEARSAL_PHASES, renderPhaseTable, rtoLine } from "./rehearsal/phaseTable.ts"
import {
  fullEnforcement,
  GATE_WINDOW_SECONDS,
  indexes,
  migration,
  type MigrationOutcome,
  PhaseFailed,
  rampStep,
  type Rig,
  rollbackDrill,
  shadow,
  spikeAndAutoDowngrade,
  warnBaseline
} from "./rehearsal/phases.ts"

const ROOT = fileURLToPath(new URL("../", import.meta.url))
const RUNBOOK = join(ROOT, "docs/runbook.md")
const TIMELINE = join(ROOT, "docs/rollout-timeline.svg")
const JOB = "stage-normalization-rehearsal"
const HISTORICAL_ROWS = 30_000
const INVALID_SHARE = 0.002 // normal traffic: 0.2 % unknown stages
const WRITE_SHARE = 0.1
const LIMIT_MS = 270_000 // with the clean-up after it, under 5 minutes whatever happens

const { values: flags } = parseArgs({
  options: {
    database: { type: "string", default: "auto" },
    store: { type: "string", default: "auto" },
    "write-runbook": { type: "boolean", default: false },
    svg: { type: "string" },
    help: { type: "boolean", default: false }
  }
})
if (flags.help) {
  console.log("usage: npm run rehearsal -- [--database auto|postgres|embedded] [--store auto|redis|memory] [--write-runbook] [--svg FILE]")
  process.exit(0)
}
const oneOf = <A extends string>(name: string, value: string, allowed: ReadonlyArray<A>): A => {
  if ((allowed as ReadonlyArray<string>).includes(value)) return value as A
  console.error(`--${name} must be one of ${allowed.join(", ")}, got ${value}`)
  process.exit(2)
}
const databaseChoice = oneOf<DatabaseChoice>("database", flags.database, ["auto", "postgres", "embedded"])
const storeChoice = oneOf<StoreChoice>("store", flags.store, ["auto", "redis", "memory"])

// Installing promtool/prometheus/alertmanager (first run on a fresh machine) is not rehearsal time.
prometheusTools((message) => console.log(message))
const started = Date.now()
const deadline = started + LIMIT_MS
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`
const log = (message: string): void => console.log(`[${elapsed()}] ${message}`)
const remaining = (capMs: number): number => Math.max(1_000, Math.min(capMs, deadline - Date.now()))

const rows: Array<PhaseRow> = []
let failure: string | undefined
let backends = ""
let rto: { readonly compressed: number; readonly production: number } | undefined
let timelineSvg: string | undefined

/** Runs one phase and records its row, with the server errors (5xx) the clients saw meanwhile (any fails it). */
const runPhase = async <A>(rig: Rig, name: string, phase: () => Promise<A>, rowOf: (a: A) => PhaseRow): Promise<A | undefined> => {
  if (failure !== undefined) return undefined
  log(`— phase ${name}`)
  const from = Date.now()
  try {
    const result = await phase()
    // a 5xx, or no answer at all (timeout, refused connection: status 0)
    const serverErrors = rig.traffic.log.filter((s) => s.at >= from && (s.status === 0 || s.status >= 500)).length
    const measured = rowOf(result)
    const r: PhaseRow = {
      ...measured,
      measured: `${measured.measured}; ${serverErrors} × 5xx or no answer`,
      gate: `${measured.gate}; every request answered, no 5xx`,
      passed: measured.passed && serverErrors === 0
    }
    rows.push(r)
    log(`  ${r.passed ? "pass" : "FAIL"}: ${r.measured}`)
    if (!r.passed) failure = `${r.phase}: the gate (${r.gate}) did not hold`
    return result
  } catch (error) {
    const message = error instanceof PhaseFailed ? error.message : error instanceof Error ? error.stack ?? error.message : String(error)
    failure = `${name}: ${message}`
    log(`  FAIL: ${failure}`)
    const phase = REHEARSAL_PHASES[rows.length]
    if (phase !== undefined) {
      const firstLine = message.split("\n")[0]!.slice(0, 300)
      rows.push({ phase, done: "—", measured: firstLine, gate: "—", passed: false, seconds: (Date.now() - from) / 1000 })
    }
    return undefined
  }
}

const same = (r: PhaseRow): PhaseRow => r

const rehearse = async (rig: Rig): Promise<void> => {
  await runPhase(rig, "2.1", () => warnBaseline(rig), same)
  await runPhase(rig, "2.4", () => indexes(rig), same)
  const migrated = await runPhase<MigrationOutcome>(rig, "2.5", () => migration(rig), (m) => m.row)
  await runPhase(rig, "2.7", () => shadow(rig), same)
  await runPhase(rig, "3 (10 → 25)", () => rampStep(rig, 10, 25), same)
  await runPhase(rig, "3 (25 → 50)", () => rampStep(rig, 25, 50), same)
  await runPhase(rig, "3 (50 → 100)", () => rampStep(rig, 50, 100), same)
  await runPhase(rig, "4", () => fullEnforcement(rig), same)
  const spike = await runPhase(rig, "4 spike", () => spikeAndAutoDowngrade(rig), (s) => s.row)
  rto = spike?.rtoSeconds === undefined || spike.productionRtoSeconds === undefined
    ? undefined
    : { compressed: spike.rtoSeconds, production: spike.productionRtoSeconds }
  if (migrated !== undefined) await runPhase(rig, "rollback drill", () => rollbackDrill(rig, migrated.drillChecksum), same)
  const title = `Rollout rehearsal of ${new Date().toISOString().slice(0, 10)} — ${backends}`
  const picture = await runPhase(rig, "timeline picture", () => timelinePicture(rig, title), (p) => p.row)
  timelineSvg = picture?.svg
}

const main = async (): Promise<void> => {
  const workDir = mkdtempSync(join(tmpdir(), "stage-rehearsal-"))
  const token = randomBytes(24).toString("hex")
  const tokenFile = join(workDir, "ops-token")
  writeFileSync(tokenFile, token, { mode: 0o600 })
  let db: Database | undefined
  let store: Store | undefined
  let traffic: Traffic | undefined
  try {
    db = await openDatabase(databaseChoice, process.env["REHEARSAL_ADMIN_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres")
    addCleanup(db.close) // also on Ctrl-C and the watchdog: the scratch database is dropped
    store = await openStore(storeChoice, process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379")
    addCleanup(store.close)
    backends = `${db.kind === "postgres" ? "PostgreSQL (scratch database)" : "embedded PostgreSQL (PGlite)"}, ` +
      `${store.kind === "redis" ? "Redis (shared mode store)" : "in-memory mode store"}`
    log(`work dir ${workDir}; ${backends}`)

    const service = await startReferenceService({
      env: {
        STAGE_VALIDATION_MODE: "warn",
        ENFORCEMENT_PERCENT: "100",
        STAGE_VALIDATION_DRY_RUN: "false",
        ENFORCE_WRITE_ONLY: "false",
        STAGE_VALIDATION_OPS_TOKEN: token,
        DATABASE_URL: db.url,
        REDIS_URL: store.redisUrl,
        STAGE_VALIDATION_REDIS_PREFIX: store.prefix,
        STAGE_VALIDATION_OFFENDER_SAMPLE_PERCENT: "1",
        // nothing from the caller's shell: a preset (development is always dry-run), another
        // alert name or signing secrets would change what is rehearsed
        STAGE_VALIDATION_PRESET: undefined,
        STAGE_VALIDATION_ALERT_NAME: undefined,
        STAGE_VALIDATION_WEBHOOK_SECRETS: undefined,
        NODE_ENV: undefined
      },
      logFile: join(workDir, "service.log"),
      timeoutMs: remaining(60_000)
    })
    log(`service ${service.url} (pid ${service.process.pid})`)
    const seeded = await seedHistoricalCompanies(db, HISTORICAL_ROWS)
    log(`historical data: ${seeded.toLocaleString("en-US")} companies with mixed stage spellings`)

    const monitoring = await startMonitoring({
      dir: workDir,
      serviceUrl: service.url,
      tokenFile,
      job: JOB,
      repeatInterval: "1m",
      timeoutMs: remaining(20_000),
      log
    })
    traffic = startTraffic({
      baseUrl: service.url,
      batch: 10,
      intervalMs: 50,
      invalidShare: INVALID_SHARE,
      writeShare: WRITE_SHARE,
      maxRequests: 60_000,
      deadline: deadline - 5_000
    })
    await waitFor("Prometheus to see the traffic", async () => {
      const [rate] = await promQuery(monitoring.promUrl, `job:stage_validation_validations:rate5m{job="${JOB}"}`)
      return rate !== undefined && rate > 10 ? rate : undefined
    }, { timeoutMs: remaining(30_000), process: service.process })
    log("traffic flowing and scraped")

    await rehearse({
      serviceUrl: service.url,
      token,
      promUrl: monitoring.promUrl,
      job: JOB,
      db,
      store,
      traffic,
      workDir,
      baselineInvalidShare: INVALID_SHARE,
      compressedForSeconds: monitoring.alertRules.get("StageValidationBlastRadius") ?? 0,
      log,
      remaining,
      exclusive: db.kind === "postgres" ? (work) => work() : async (work) => {
        await traffic!.pause()
        try {
          return await work()
        } finally {
          traffic!.resume()
        }
      }
    })
  } catch (error) {
    failure ??= `set-up: ${error instanceof Error ? error.message : String(error)}`
    log(`FAIL: ${failure}`)
  } finally {
    await traffic?.stop()
    if (traffic !== undefined) log(`load: ${describeLoad(traffic.log)}`)
    await stopAll()
    await runCleanups() // CLI children, Redis keys, the scratch database
    if (failure === undefined) rmSync(workDir, { recursive: true, force: true })
    else console.log(`logs kept in ${workDir}`)
  }
}

const report = (): string => {
  const ran = new Set(rows.map((r) => r.phase))
  const notRun = REHEARSAL_PHASES.filter((p) => !ran.has(p))
  const seconds = (Date.now() - started) / 1000
  return [
    `Rehearsal of ${new Date().toISOString().slice(0, 10)} — ${backends}; Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? "CPU"}; ` +
    `${seconds.toFixed(0)} s in all. Compressed timers (rules' \`for:\` ÷ 120, windows ÷ 30, as \`e2e:alerting\`; ` +
    `promotion gate: one ${GATE_WINDOW_SECONDS} s window).`,
    "",
    renderPhaseTable(rows),
    ...(notRun.length > 0 ? ["", `Not run: ${notRun.join(", ")}.`] : []),
    ...(rto !== undefined ? ["", rtoLine(rto.compressed, rto.production)] : [])
  ].join("\n")
}

setTimeout(() => {
  console.error(`\nrehearsal FAILED: still running after ${elapsed().trim()}`)
  console.log(`\n${report()}\n`)
  void stopAll().then(runCleanups).finally(() => process.exit(1))
}, LIMIT_MS + 5_000).unref()

main().then(() => {
  const text = report()
  console.log(`\n${text}\n`)
  const passed = failure === undefined && rows.length === REHEARSAL_PHASES.length && rows.every((r) => r.passed)
  if (timelineSvg !== undefined && flags.svg !== undefined) {
    writeFileSync(flags.svg, timelineSvg)
    console.log(`timeline written to ${flags.svg}`)
  }
  if (passed && flags["write-runbook"]) {
    pasteIntoRunbook(RUNBOOK, text)
    if (rto !== undefined) quoteRtoInRunbook(RUNBOOK, rto.compressed, rto.production)
    writeFileSync(TIMELINE, timelineSvg!)
    console.log(`pasted into ${RUNBOOK}; timeline written to ${TIMELINE}`)
  }
  console.log(passed ? `rehearsal passed in ${elapsed().trim()}` : `rehearsal FAILED: ${failure ?? "a gate did not hold"}`)
  process.exit(passed ? 0 : 1)
})
