/**
 * Read-only probes for the end-to-end run: Prometheus' query and alerts APIs, a Prometheus text
 * exposition (the service's and Alertmanager's /metrics), and the service's ops mode API with
 * its audit history.
 */
import { fetchWithTimeout } from "./processes.ts"

interface PromVector {
  readonly status: string
  readonly data?: { readonly result: ReadonlyArray<{ readonly metric: Record<string, string>; readonly value: [number, string] }> }
}
interface PromMatrix {
  readonly status: string
  readonly data?: {
    readonly result: ReadonlyArray<{ readonly metric: Record<string, string>; readonly values: ReadonlyArray<[number, string]> }>
  }
}

/** An instant query; the samples' values (empty when the result is empty). */
export const promQuery = async (base: string, query: string): Promise<ReadonlyArray<number>> => {
  const r = await fetchWithTimeout(`${base}/api/v1/query?query=${encodeURIComponent(query)}`)
  const body = (await r.json()) as PromVector
  if (body.status !== "success") throw new Error(`query failed: ${query}: ${JSON.stringify(body)}`)
  return (body.data?.result ?? []).map((s) => Number(s.value[1]))
}

/** A range query (default 1 s resolution); the timestamps (ms) with a sample, across all series. */
export const promRangeTimes = async (
  base: string,
  query: string,
  fromMs: number,
  toMs: number,
  stepSeconds = 1
): Promise<ReadonlyArray<number>> => {
  const url = `${base}/api/v1/query_range?query=${encodeURIComponent(query)}&start=${(fromMs / 1000).toFixed(3)}` +
    `&end=${(toMs / 1000).toFixed(3)}&step=${stepSeconds}`
  const r = await fetchWithTimeout(url)
  const body = (await r.json()) as PromMatrix
  if (body.status !== "success") throw new Error(`query_range failed: ${query}: ${JSON.stringify(body)}`)
  return (body.data?.result ?? []).flatMap((s) => s.values.map((v) => v[0] * 1000)).sort((a, b) => a - b)
}

export interface PromAlert {
  readonly name: string
  readonly state: string
}

/** Alerts Prometheus holds now (pending or firing). */
export const promAlerts = async (base: string): Promise<ReadonlyArray<PromAlert>> => {
  const r = await fetchWithTimeout(`${base}/api/v1/alerts`)
  const body = (await r.json()) as { data: { alerts: ReadonlyArray<{ labels: Record<string, string>; state: string }> } }
  return body.data.alerts.map((a) => ({ name: a.labels["alertname"] ?? "", state: a.state }))
}

/** Loaded alerting rules: name → `for:` seconds. */
export const promAlertRules = async (base: string): Promise<ReadonlyMap<string, number>> => {
  const r = await fetchWithTimeout(`${base}/api/v1/rules?type=alert`)
  const body = (await r.json()) as {
    data: { groups: ReadonlyArray<{ rules: ReadonlyArray<{ name: string; duration: number; annotations: Record<string, string> }> }> }
  }
  return new Map(body.data.groups.flatMap((g) => g.rules.map((rule) => [rule.name, rule.duration] as const)))
}

/** Sum of the samples of `name` in a text exposition whose labels include all of `labels`. */
export const metricSum = async (url: string, name: string, labels: Readonly<Record<string, string>> = {}): Promise<number> => {
  const text = await (await fetchWithTimeout(url)).text()
  let sum = 0
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (m === null || m[1] !== name) continue
    const set = m[2] ?? ""
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(m[3])
  }
  return sum
}

export interface AuditEntryView {
  readonly action: string
  readonly outcome: string
  readonly source: string
  readonly reason: string
  readonly at: string
  readonly version: number
}

export interface ModeView {
  readonly version: number
  readonly defaultMode: string
  readonly enforcementPercent: number
  /** whether the instance has read the shared document (before: it serves its boot document capped at warn) */
  readonly synced: boolean
  readonly history: ReadonlyArray<AuditEntryView>
}

/** `GET /_ops/stage-validation/mode?history=N` with the bearer token. */
export const getMode = async (serviceUrl: string, token: string, history = 200): Promise<ModeView> => {
  const r = await fetchWithTimeout(`${serviceUrl}/_ops/stage-validation/mode?history=${history}`, {
    headers: { authorization: `Bearer ${token}` }
  })
  if (r.status !== 200) throw new Error(`GET mode: HTTP ${r.status}: ${await r.text()}`)
  const body = (await r.json()) as {
    version: number
    document: { defaultMode: string; enforcementPercent: number }
    synced?: boolean
    history?: ReadonlyArray<AuditEntryView>
  }
  return {
    version: body.version,
    defaultMode: body.document.defaultMode,
    enforcementPercent: body.document.enforcementPercent,
    synced: body.synced !== false,
    history: body.history ?? []
  }
}
