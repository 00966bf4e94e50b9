/**
 * A real Prometheus and Alertmanager on loopback for end-to-end runs, configured from variants
 * of the repository's own files (scripts/e2e/variants.ts): the rules with compressed time, the
 * Alertmanager example aimed at the service's auto-downgrade webhook with the run's token file.
 * Both configurations are checked by promtool / amtool before the programs start; missing
 * programs are installed by scripts/install-prometheus-tools.sh.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promAlertRules } from "./observe.ts"
import { fetchWithTimeout, freePort, startProcess, waitFor } from "./processes.ts"
import { alertmanagerVariant, compressRules, prometheusConfig, type RulesVariant } from "./variants.ts"

const ROOT = fileURLToPath(new URL("../../", import.meta.url))
const RULES = join(ROOT, "observability/prometheus/stage-validation.rules.yml")
const AM_EXAMPLE = join(ROOT, "observability/alertmanager/alertmanager.yml")

export interface PrometheusTools {
  readonly prometheus: string
  readonly alertmanager: string
  readonly promtool: string
  readonly amtool: string
}

const which = (...names: ReadonlyArray<string>): string | undefined => {
  for (const name of names) {
    const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" })
    if (r.status === 0 && r.stdout.trim() !== "") return r.stdout.trim()
  }
  return undefined
}

const findTools = () => ({
  prometheus: which("prometheus"),
  alertmanager: which("prometheus-alertmanager", "alertmanager"),
  promtool: which("promtool"),
  amtool: which("amtool")
})

/** The four programs, installed first when one is missing. */
export const prometheusTools = (log: (message: string) => void): PrometheusTools => {
  let found = findTools()
  if (Object.values(found).some((v) => v === undefined)) {
    log("installing prometheus tools (scripts/install-prometheus-tools.sh)")
    const r = spawnSync("bash", [join(ROOT, "scripts/install-prometheus-tools.sh")], { stdio: "inherit" })
    if (r.status !== 0) throw new Error("could not install prometheus / alertmanager")
    found = findTools()
  }
  const { prometheus, alertmanager, promtool, amtool } = found
  if (prometheus === undefined || alertmanager === undefined || promtool === undefined || amtool === undefined) {
    throw new Error("prometheus, alertmanager, promtool and amtool are needed")
  }
  return { prometheus, alertmanager, promtool, amtool }
}

/** Runs a checker (promtool, amtool); throws with its output when it fails. */
export const runChecked = (command: string, args: ReadonlyArray<string>): void => {
  const r = spawnSync(command, [...args], { encoding: "utf8" })
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${r.stdout}${r.stderr}`)
}

export interface MonitoringOptions {
  readonly dir: string
  /** the service Prometheus scrapes and Alertmanager calls back */
  readonly serviceUrl: string
  /** file holding the ops bearer token (Alertmanager's credentials_file) */
  readonly tokenFile: string
  /** Prometheus job label of the service */
  readonly job: string
  /** how often Alertmanager repeats a firing notification */
  readonly repeatInterval: string
  readonly timeoutMs: number
  readonly log: (message: string) => void
}

export interface Monitoring {
  readonly promUrl: string
  readonly amUrl: string
  readonly rules: RulesVariant
  /** loaded alerting rules: name → `for:` seconds */
  readonly alertRules: ReadonlyMap<string, number>
  /** How many alerts the shipped rules file defines (what Prometheus must have loaded). */
  readonly shippedAlerts: number
}

/** Starts Alertmanager and Prometheus (1 s scrape and evaluation) and waits until both are ready. */
export const startMonitoring = async (options: MonitoringOptions): Promise<Monitoring> => {
  const bin = prometheusTools(options.log)
  const rules = compressRules(readFileSync(RULES, "utf8"))
  const rulesFile = join(options.dir, "stage-validation.e2e.rules.yml")
  writeFileSync(rulesFile, rules.text)
  runChecked(bin.promtool, ["check", "rules", rulesFile])
  options.log(
    `rules variant: ${rules.forChanges} for:, ${rules.rangeChanges} ranges, ${rules.offsetChanges} offsets compressed; promtool check rules ok`
  )

  const amPort = await freePort()
  const amFile = join(options.dir, "alertmanager.yml")
  writeFileSync(amFile, alertmanagerVariant(readFileSync(AM_EXAMPLE, "utf8"), {
    webhookUrl: `${options.serviceUrl}/_ops/stage-validation/auto-downgrade`,
    credentialsFile: options.tokenFile,
    repeatInterval: options.repeatInterval
  }))
  runChecked(bin.amtool, ["check-config", amFile])
  mkdirSync(join(options.dir, "alertmanager-data"), { recursive: true })
  const am = startProcess({
    name: "alertmanager",
    command: bin.alertmanager,
    args: [
      `--config.file=${amFile}`,
      `--storage.path=${join(options.dir, "alertmanager-data")}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      "--cluster.listen-address=", // no gossip port
      "--log.level=warn"
    ],
    logFile: join(options.dir, "alertmanager.log")
  })
  const amUrl = `http://127.0.0.1:${amPort}`

  const promPort = await freePort()
  const promFile = join(options.dir, "prometheus.yml")
  writeFileSync(promFile, prometheusConfig({
    rulesFile,
    serviceTarget: options.serviceUrl.replace(/^http:\/\//, ""),
    alertmanagerTarget: `127.0.0.1:${amPort}`,
    job: options.job
  }))
  runChecked(bin.promtool, ["check", "config", promFile])
  const prometheus = startProcess({
    name: "prometheus",
    command: bin.prometheus,
    args: [
      `--config.file=${promFile}`,
      `--storage.tsdb.path=${join(options.dir, "prometheus-data")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      "--rules.alert.resend-delay=1s",
      "--log.level=warn"
    ],
    logFile: join(options.dir, "prometheus.log")
  })
  const promUrl = `http://127.0.0.1:${promPort}`
  await waitFor("alertmanager to be ready", async () => ((await fetchWithTimeout(`${amUrl}/-/ready`)).ok ? true : undefined), {
    timeoutMs: options.timeoutMs,
    process: am
  })
  await waitFor("prometheus to be ready", async () => ((await fetchWithTimeout(`${promUrl}/-/ready`)).ok ? true : undefined), {
    timeoutMs: options.timeoutMs,
    process: prometheus
  })
  options.log(`prometheus ${promUrl} (pid ${prometheus.pid}), alertmanager ${amUrl} (pid ${am.pid})`)
  const shippedAlerts = (readFileSync(RULES, "utf8").match(/^\s*- alert:/gm) ?? []).length
  return { promUrl, amUrl, rules, alertRules: await promAlertRules(promUrl), shippedAlerts }
}
