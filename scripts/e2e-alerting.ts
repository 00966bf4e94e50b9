/**
 * End-to-end check of the auto-downgrade loop with the real programs (`npm run e2e:alerting`,
 * i.e. `node scripts/e2e-alerting.ts`), everything on 127.0.0.1 with free ports and a temp dir:
 *
 *   reference service (enforce at 100 %, rollout state in the local Redis under a fresh prefix)
 *     ← scraped every 1 s by a real Prometheus evaluating a variant of our rules GENERATED from
 *       observability/prometheus/stage-validation.rules.yml (for: ÷ 120, windows ÷ 30)
 *     → alerts to a real Alertmanager running a variant of observability/alertmanager/alertmanager.yml
 *       (1 s group wait, bearer token from a credentials_file)
 *     → POST /_ops/stage-validation/auto-downgrade on the service.
 *
 * Asserts, in order: invalid traffic crosses the 0.5 % reject ratio; the mode is warn within 30 s
 * of that (the measured time is printed); exactly one downgrade is applied although Alertmanager
 * repeats the notification; the alert resolves and nothing re-arms enforcement; `promote` against
 * the same Prometheus does not pass while the traffic is still bad. Every process it started is
 * stopped whatever happens (process groups, finally, signal handlers); the Redis keys it wrote are
 * deleted. Exit code 0 only when every assertion held. Needs prometheus + alertmanager (installed
 * by scripts/install-prometheus-tools.sh when missing) and Redis on 127.0.0.1:6379 (REDIS_URL).
 */
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createClient } from "redis"
import { runCli } from "./e2e/cli.ts"
import { startMonitoring } from "./e2e/monitoring.ts"
import { getMode, metricSum, promAlerts, promQuery, promRangeTimes } from "./e2e/observe.ts"
import { addCleanup, runCleanups, sleep, stopAll, waitFor } from "./e2e/processes.ts"
import { startReferenceService } from "./e2e/referenceService.ts"
import { describeLoad, firstCrossing, startTraffic, type Traffic } from "./e2e/traffic.ts"

const ALERT = "StageValidationBlastRadius"
const THRESHOLD = 0.005 // the rule's reject ratio threshold
const RTO_MS = 30_000
const JOB = "stage-normalization-e2e"
const started = Date.now()
const hardDeadline = started + 170_000 // under 3 minutes, whatever happens

const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`
const step = (message: string): void => console.log(`[${elapsed()}] ${message}`)
const failures: Array<string> = []
const check = (ok: boolean, message: string): void => {
  console.log(`[${elapsed()}]   ${ok ? "ok  " : "FAIL"} ${message}`)
  if (!ok) failures.push(message)
}
const remaining = (capMs: number): number => Math.max(1_000, Math.min(capMs, hardDeadline - Date.now()))

const main = async (): Promise<void> => {
  const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"
  const prefix = `e2e-alerting-${process.pid}-${randomBytes(4).toString("hex")}`
  const dir = mkdtempSync(join(tmpdir(), "e2e-alerting-"))
  const token = randomBytes(24).toString("hex")
  const tokenFile = join(dir, "ops-token")
  writeFileSync(tokenFile, token, { mode: 0o600 })
  const redis = createClient({ url: redisUrl, socket: { connectTimeout: 3_000, reconnectStrategy: false } })
  let traffic: Traffic | undefined
  let ok = false
  step(`temp dir ${dir}; Redis ${redisUrl}, key prefix ${prefix}`)
  addCleanup(async () => {
    // the keys this run wrote: rollout document, history, webhook deduplication
    if (!redis.isOpen) return
    const keys: Array<string> = []
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 100 })) keys.push(...batch)
    if (keys.length > 0) await redis.del(keys)
    await redis.quit()
  })
  try {
    await redis.connect()
    await redis.ping()

    // --- the reference service: enforce at 100 %, rollout state shared through Redis ---
    const service = await startReferenceService({
      env: {
        STAGE_VALIDATION_MODE: "enforce",
        ENFORCEMENT_PERCENT: "100",
        STAGE_VALIDATION_DRY_RUN: "false",
        ENFORCE_WRITE_ONLY: "false",
        STAGE_VALIDATION_OPS_TOKEN: token,
        REDIS_URL: redisUrl,
        STAGE_VALIDATION_REDIS_PREFIX: prefix,
        STAGE_VALIDATION_OFFENDER_SAMPLE_PERCENT: "0",
        DATABASE_URL: undefined,
        NODE_ENV: undefined
      },
      logFile: join(dir, "service.log"),
      timeoutMs: remaining(60_000)
    })
    const serviceUrl = service.url
    const initial = await waitFor("the shared rollout document", async () => {
      const mode = await getMode(serviceUrl, token)
      return (await redis.exists(`${prefix}:document`)) === 1 && mode.synced ? mode : undefined
    }, { timeoutMs: remaining(20_000), process: service.process })
    step(`service ${serviceUrl} (pid ${service.process.pid}): mode ${initial.defaultMode} at ${initial.enforcementPercent} %`)
    check(initial.defaultMode === "enforce" && initial.enforcementPercent === 100, "the service starts enforcing at 100 %")

    // --- Prometheus (1 s scrape and evaluation, compressed rules) and Alertmanager aimed at the service ---
    const monitoring = await startMonitoring({
      dir,
      serviceUrl,
      tokenFile,
      job: JOB,
      repeatInterval: "2s",
      timeoutMs: remaining(20_000),
      log: step
    })
    const { promUrl, amUrl } = monitoring
    const loaded = monitoring.alertRules
    check(
      loaded.size === monitoring.shippedAlerts && loaded.get(ALERT) === 5,
      `Prometheus loaded the ${monitoring.shippedAlerts} alerts of the variant (${loaded.size} loaded; ${ALERT} for: ${loaded.get(ALERT)} s)`
    )

    // --- warm-up: valid traffic only, until Prometheus sees it ---
    traffic = startTraffic({
      baseUrl: serviceUrl,
      batch: 8,
      intervalMs: 100,
      invalidShare: 0,
      maxRequests: 15_000,
      deadline: hardDeadline - 5_000
    })
    await waitFor("Prometheus to see the traffic", async () => {
      const [rate] = await promQuery(promUrl, `job:stage_validation_validations:rate5m{job="${JOB}"}`)
      const [ratio] = await promQuery(promUrl, `job:stage_validation_reject_ratio:rate5m{job="${JOB}"}`)
      return rate !== undefined && rate > 10 && ratio === 0 ? rate : undefined
    }, { timeoutMs: remaining(30_000), process: service.process })
    check((await promAlerts(promUrl)).length === 0, "no alert while the traffic is clean")

    // --- the incident: 20 % of the requests carry an unknown stage ---
    const badFrom = Date.now()
    traffic.options.invalidShare = 0.2
    step("invalid traffic: 20 % of requests carry an unknown stage (rejected with 400 while enforcing)")
    const warnAt = await waitFor("the mode to become warn", async () => {
      const mode = await getMode(serviceUrl, token, 0)
      return mode.defaultMode === "warn" ? Date.now() : undefined
    }, { timeoutMs: remaining(45_000), intervalMs: 100, process: service.process })
    const crossedClient = firstCrossing(traffic.log, 10_000, THRESHOLD, { minSamples: 200 })
    const crossedProm = (await promRangeTimes(
      promUrl,
      `job:stage_validation_reject_ratio:rate5m{job="${JOB}"} > ${THRESHOLD}`,
      badFrom - 2_000,
      warnAt
    ))[0]
    const firedAt = (await promRangeTimes(promUrl, `ALERTS{alertname="${ALERT}",alertstate="firing"}`, badFrom - 2_000, warnAt))[0]
    if (crossedClient === undefined) {
      check(false, "the reject ratio crossed 0.5 % (as the clients saw it)")
    } else {
      const ms = warnAt - crossedClient
      step(`reject ratio crossed 0.5 % at +${((crossedClient - badFrom) / 1000).toFixed(1)} s (clients' view, 10 s window); ` +
        `Prometheus recorded it at ${crossedProm === undefined ? "?" : `+${((crossedProm - badFrom) / 1000).toFixed(1)} s`}`)
      console.log(`\n  TIME TO WARN: ${(ms / 1000).toFixed(1)} s from the reject ratio crossing 0.5 % to mode=warn` +
        (crossedProm === undefined ? "" : ` (${((warnAt - crossedProm) / 1000).toFixed(1)} s from Prometheus' first sample above it)`) +
        ` — budget ${RTO_MS / 1000} s` +
        (firedAt === undefined ? "" : `\n  of which: the rule's for: ${loaded.get(ALERT)} s (compressed from 10 m); ` +
          `~${((warnAt - firedAt) / 1000).toFixed(1)} s (±1 s, Prometheus samples at 1 s steps) from Prometheus firing the alert to mode=warn ` +
          `(Alertmanager group_wait 1 s, webhook, store)`) + "\n")
      check(ms <= RTO_MS, `mode is warn within ${RTO_MS / 1000} s of the condition becoming true (${(ms / 1000).toFixed(1)} s)`)
    }
    await sleep(1_500)
    const invalidAfter = traffic.log.filter((s) => s.kind === "invalid" && s.at > warnAt + 1_000)
    check(invalidAfter.length > 0 && invalidAfter.every((s) => s.status === 200), "after the downgrade, invalid stages are accepted with a warning (200)")

    // --- Alertmanager repeats while the alert fires: still exactly one downgrade ---
    const repeats = await waitFor("Alertmanager to repeat the notification", async () => {
      const duplicates = await metricSum(`${serviceUrl}/metrics`, "stage_validation_webhook_total", { outcome: "duplicate" })
      return duplicates >= 1 ? duplicates : undefined
    }, { timeoutMs: remaining(30_000), process: service.process })
    const sent = await metricSum(`${amUrl}/metrics`, "alertmanager_notifications_total", { integration: "webhook" })
    step(`Alertmanager sent ${sent} webhook notifications so far; the service answered ${repeats} of them as duplicates`)
    const afterRepeats = await getMode(serviceUrl, token)
    const downgrades = afterRepeats.history.filter((e) => e.action === "downgrade" && e.outcome === "applied")
    check(sent >= 2, "Alertmanager notified more than once")
    check(downgrades.length === 1, `exactly one downgrade applied in the audit history (found ${downgrades.length})`)
    check(downgrades[0]?.source === "webhook", "the downgrade came from the webhook")

    // --- the alert resolves; nothing re-arms ---
    await waitFor("the alert to resolve and the resolution to reach the service", async () => {
      const active = (await promAlerts(promUrl)).filter((a) => a.name === ALERT)
      const resolvedCalls = await metricSum(`${serviceUrl}/metrics`, "stage_validation_webhook_total", { outcome: "resolved" })
      return active.length === 0 && resolvedCalls >= 1 ? true : undefined
    }, { timeoutMs: remaining(45_000), process: service.process })
    step("the alert resolved; Alertmanager sent the resolved notification")
    await sleep(5_000) // invalid traffic keeps flowing, now accepted with a warning
    const settled = await getMode(serviceUrl, token)
    const applied = settled.history.filter((e) => e.outcome === "applied" && e.action !== "seed")
    check(settled.defaultMode === "warn", `mode stays warn after the resolution (${settled.defaultMode})`)
    check(applied.length === 1 && applied[0]?.action === "downgrade", `no change after the downgrade (${applied.map((e) => e.action).join(", ")})`)
    check(settled.history.some((e) => e.action === "resolved" && e.outcome === "ignored"), "the resolution is audited as ignored")
    check(!(await promAlerts(promUrl)).some((a) => a.name === ALERT), `${ALERT} did not re-arm`)

    // --- promote against the same Prometheus while the traffic is still bad ---
    const gate = ["promote", "--prometheus-url", promUrl, "--job", JOB, "--windows", "1", "--window-seconds", "20"]
    const promote = await runCli([...gate, "--dry-run"])
    console.log(promote.output.replace(/^/gm, "    | "))
    check(promote.code === 1 || promote.code === 3, `promote does not pass while the traffic is bad (exit ${promote.code})`)
    check(/verdict: (fail|inconclusive)/.test(promote.output), "the verdict is fail or inconclusive")
    check(/unknownStageRatio\s+< 0\.5 %\s+\S+ %\s+fail/.test(promote.output), "the unknown-stage ratio criterion fails")
    const real = await runCli([
      ...gate,
      "--redis-url",
      redisUrl,
      "--prefix",
      prefix,
      "--reason",
      "e2e: traffic is still bad"
    ])
    console.log(real.output.replace(/^/gm, "    | "))
    const afterPromote = await getMode(serviceUrl, token)
    check(real.code !== null, `promote on the shared store ran (exit ${real.code})`)
    check(afterPromote.defaultMode === "warn" && afterPromote.version === settled.version, "promote changed nothing: still warn, same version")

    ok = failures.length === 0
  } finally {
    await traffic?.stop()
    if (traffic !== undefined) step(`load: ${describeLoad(traffic.log)}`)
    await stopAll()
    await runCleanups()
    if (ok) rmSync(dir, { recursive: true, force: true })
    else console.log(`logs kept in ${dir}`)
  }
}

// Whatever hangs, the run ends (and stops its processes) before 3 minutes.
setTimeout(() => {
  console.error(`\ne2e:alerting FAILED: still running after ${elapsed().trim()}`)
  void stopAll().then(runCleanups).finally(() => {
    console.log("0 passed, 1 failed")
    process.exit(1)
  })
}, 175_000).unref()

main().then(
  () => {
    console.log(`\n${failures.length === 0 ? "e2e:alerting passed" : "e2e:alerting FAILED"} in ${elapsed().trim()}`)
    console.log(`${failures.length === 0 ? 1 : 0} passed, ${failures.length === 0 ? 0 : 1} failed`)
    process.exit(failures.length === 0 ? 0 : 1)
  },
  async (error: unknown) => {
    console.error(`\ne2e:alerting FAILED: ${error instanceof Error ? error.message : String(error)}`)
    for (const f of failures) console.error(`  - ${f}`)
    await stopAll()
    await runCleanups()
    console.log("0 passed, 1 failed")
    process.exit(1)
  }
)
