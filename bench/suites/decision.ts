/**
 * One per-request rollout decision at 10 % enforcement, in the same run as:
 *
 * - the floor: `buckets[i] < 1000` on buckets precomputed from the request ids — the comparison
 *   every percentage rollout ends in, with the hashing and route matching taken out. It is the
 *   minimal honest floor: nothing cheaper decides "is this request in the 10 %".
 * - the peer: Unleash's `isEnabled` with a `flexibleRollout` strategy at 10 % and `sessionId`
 *   stickiness (unleash-client, bootstrapped offline: `refreshInterval: 0`, `disableMetrics`, an
 *   in-memory backup store, no network), varying the session id per call like we vary the request id.
 *
 * Every task cycles through the same 1,024 precomputed UUIDs, 16 decisions per `fn` call; the
 * boundary-default task instead buckets each decision on a fresh server-generated key, as the
 * HTTP boundaries do when the host gives no key.
 * Goal (README): our mean ≤ 0.5 × Unleash's mean.
 */
import { once } from "node:events"
import { InMemStorageProvider, Unleash } from "unleash-client"
import {
  getValidationDecision,
  type StageValidationConfig,
  StageValidationConfig as ConfigSchema
} from "../../src/rollout/index.ts"
import { enforcementBucket } from "../../src/rollout/Bucketing.ts"
import { bucketKeyOf } from "../../src/http/BoundaryEngine.ts"
import { Schema } from "effect"
import type { BenchSuite } from "../suite.ts"

const BATCH = 16
const IDS = Array.from({ length: 1024 }, () => crypto.randomUUID())
const MASK = IDS.length - 1

// Phase 3 at 10 %: enforce everything, one enforced endpoint override, the seeds' operation table.
const CONFIG: StageValidationConfig = Schema.decodeUnknownSync(ConfigSchema)({
  defaultMode: "enforce",
  endpointMode: { "/api/portfolio/strategies": "enforce", "/api/monte-carlo/simulate": "warn" },
  enforcementPercent: 10
})
const BUCKETS = IDS.map((id) => enforcementBucket(CONFIG, id))

const FLAG = "stage-validation-enforce"
const unleash = new Unleash({
  appName: "stage-normalization-bench",
  url: "http://127.0.0.1:9/unleash/", // never contacted: polling is off (refreshInterval 0)
  refreshInterval: 0,
  disableMetrics: true,
  disableAutoStart: true,
  skipInstanceCountWarning: true,
  storageProvider: new InMemStorageProvider(),
  bootstrap: {
    data: [
      {
        name: FLAG,
        enabled: true,
        strategies: [
          { name: "flexibleRollout", parameters: { rollout: "10", stickiness: "sessionId", groupId: FLAG }, constraints: [] }
        ]
      }
    ]
  }
})
// `ready` is emitted on the tick after the bootstrap is applied; wait for it before measuring.
const ready = once(unleash, "ready")
await unleash.start()
await ready
process.once("beforeExit", () => unleash.destroy())

// Sanity: both sides really roll out about 10 % (fails loudly rather than benchmarking a no-op).
const share = (f: (id: string) => boolean) => IDS.filter(f).length / IDS.length
const ours = share((id) => getValidationDecision(CONFIG, { method: "POST", path: "/api/portfolio/strategies", requestId: id }).shouldEnforce)
const theirs = share((id) => unleash.isEnabled(FLAG, { sessionId: id }))
if (Math.abs(ours - 0.1) > 0.04 || Math.abs(theirs - 0.1) > 0.04) {
  throw new Error(`decision bench: expected ~10 % enforced, got ours ${ours}, unleash ${theirs}`)
}

const NO_HEADERS = { headers: {}, hostKey: undefined }

let i = 0
let sink: unknown

export const suite: BenchSuite = {
  name: "decision",
  description: "one per-request rollout decision at 10 % (16 per call, varying request / session ids)",
  tasks: [
    {
      name: "floor: precomputed bucket < 1000",
      floor: true,
      batch: BATCH,
      fn: () => {
        for (let k = 0; k < BATCH; k++) sink = BUCKETS[i++ & MASK]! < 1000
      }
    },
    {
      name: "getValidationDecision @ 10 % (template path)",
      batch: BATCH,
      fn: () => {
        for (let k = 0; k < BATCH; k++) {
          sink = getValidationDecision(CONFIG, { method: "POST", path: "/api/portfolio/strategies", requestId: IDS[i++ & MASK]! })
        }
      }
    },
    {
      name: "getValidationDecision @ 10 % (concrete path)",
      batch: BATCH,
      fn: () => {
        for (let k = 0; k < BATCH; k++) {
          sink = getValidationDecision(CONFIG, { method: "GET", path: "/api/funds/42/companies", requestId: IDS[i++ & MASK]! })
        }
      }
    },
    {
      // what the HTTP boundaries pay by default: a server-generated key, then the decision on it
      name: "boundary default key @ 10 % (server-generated key + decision)",
      batch: BATCH,
      fn: () => {
        for (let k = 0; k < BATCH; k++) {
          sink = getValidationDecision(CONFIG, {
            method: "POST",
            path: "/api/portfolio/strategies",
            requestId: IDS[i++ & MASK]!,
            stickinessKey: bucketKeyOf(CONFIG, NO_HEADERS)
          })
        }
      }
    },
    {
      name: "peer: unleash isEnabled (flexibleRollout 10 %, sessionId)",
      batch: BATCH,
      fn: () => {
        for (let k = 0; k < BATCH; k++) sink = unleash.isEnabled(FLAG, { sessionId: IDS[i++ & MASK]! })
      }
    }
  ],
  goals: [
    {
      description: "our decision's mean ≤ 0.5× Unleash's isEnabled mean",
      task: "getValidationDecision @ 10 % (template path)",
      against: "peer: unleash isEnabled (flexibleRollout 10 %, sessionId)",
      metric: "mean",
      maxRatio: 0.5
    },
    {
      description: "with a concrete path matched against templates, still ≤ 0.5× Unleash",
      task: "getValidationDecision @ 10 % (concrete path)",
      against: "peer: unleash isEnabled (flexibleRollout 10 %, sessionId)",
      metric: "mean",
      maxRatio: 0.5
    }
  ],
  // the seeds' validator budget (p99 < 1 ms); the decision is a small part of it
  budgetsMs: { "getValidationDecision @ 10 % (template path)": 1 }
}
export const keepAlive = () => sink
