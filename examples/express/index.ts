/**
 * Stage validation in an Express host that writes no Effect code.
 *
 * `createModeStoreClient` opens the shared rollout document in Redis (background refresh, pub/sub
 * invalidation, compare-and-set, audit) behind plain functions and Promises; its `current` getter
 * is what the Node adapter reads on every request. `createStageValidationHandler` runs the same
 * boundary as the Effect middleware (decision, normalisation, headers, 400 body, metrics): it reads
 * `req.body` when `express.json()` already parsed it, rewrites it with canonical stages and
 * attaches `req.stageValidation`. Metrics go to effect's global registry, served on `/metrics`
 * with `PrometheusMetrics.format`.
 *
 * The program opens the store under a fresh prefix on `REDIS_URL` (default
 * redis://127.0.0.1:6379), listens on an ephemeral 127.0.0.1 port, sends itself a valid alias and
 * an invalid stage in warn, switches the shared document to enforce writes (phase 2.5, audited),
 * sends the invalid stage again (a 400), prints the responses, deletes its keys, closes everything
 * and exits 0. CI runs it against the built package (`npm run examples`), and from a consumer
 * folder outside the repo (`npm run test:consumer`). Needs the optional peers
 * `@effect/platform-node` and `redis`, and `express`. README.md's Express snippet is this
 * program's core; the percentage rollout buckets on the tenant an (illustrative) auth middleware
 * attaches as `req.user`, typed by `AuthenticatedRequest` — `bucketKey` receives node's
 * `IncomingMessage`, which knows nothing of `user`.
 *
 *   node examples/express/index.ts
 */
import type { IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"
import { PrometheusMetrics } from "effect/observability"
import express from "express"
import { createStageValidationHandler, StageLocation, type StageValidatedRequest } from "stage-normalization/http"
import { createModeStoreClient, DEFAULT_DOCUMENT } from "stage-normalization/rollout"
import { createClient } from "redis"

const ENDPOINT = "/api/allocations"
const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"
const prefix = `stage-validation-example:${process.pid}:${Date.now().toString(36)}`

// The shared rollout document; `store.current()` is synchronous and in-process.
const store = await createModeStoreClient({
  initial: { ...DEFAULT_DOCUMENT, defaultMode: "warn" },
  redis: { url: redisUrl },
  prefix
})

// What an auth middleware attaches to the request: the tenant the rollout buckets on.
type AuthenticatedRequest = IncomingMessage & { user?: { tenantId: string } }

const app = express()
app.use(express.json())
// A stand-in for real authentication: every request belongs to tenant fund-7.
app.use((req, _res, next) => {
  const authenticated: AuthenticatedRequest = req
  authenticated.user = { tenantId: "fund-7" }
  next()
})

app.post(
  ENDPOINT,
  createStageValidationHandler({
    endpoint: ENDPOINT,
    location: StageLocation.bodyStage("stage"),
    current: store.current,
    bucketKey: (req: AuthenticatedRequest) => req.user?.tenantId, // bucket by tenant (default: a server-generated key)
    offenderSamplePercent: 0
  }),
  (req, res) => {
    const { stageValidation, body } = req as StageValidatedRequest
    res.status(201).json({ mode: stageValidation?.decision.mode, allocation: body })
  }
)

app.get("/metrics", (_req, res, next) => {
  Effect.runPromise(PrometheusMetrics.format()).then(
    (text) => res.type("text/plain; version=0.0.4").send(text),
    next
  )
})

const server = app.listen(0, "127.0.0.1")
await new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
console.log(`express host on ${url}, rollout document in Redis under ${prefix}, mode ${store.current().defaultMode}`)

const post = async (label: string, stage: string) => {
  const response = await fetch(url + ENDPOINT, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ fundId: 7, amount: 250_000, stage })
  })
  const headers = [...response.headers].filter(([name]) => name.startsWith("x-stage") || name === "deprecation")
  const body: unknown = await response.json()
  console.log(`${label}\n  ${response.status} ${JSON.stringify(Object.fromEntries(headers))}\n  ${JSON.stringify(body)}`)
  return response.status
}

try {
  const alias = await post("warn, valid alias:", "Series B")
  const warned = await post("warn, invalid stage:", "series-q")

  // A live change through the shared store (compare-and-set, audited): every instance on this
  // prefix reads the new document on its next request, with no restart.
  const { document } = await store.modify({
    actor: "example@ops",
    reason: "phase 2.5: enforce writes",
    update: (doc) => ({ ...doc, defaultMode: "enforce", enforceWriteOnly: true })
  })
  console.log(`rollout document now v${document.version}: ${document.defaultMode}`)
  const [latest] = await store.history(1)
  console.log(`audit: ${latest?.actor} ${latest?.action} "${latest?.reason}"`)
  const rejected = await post("enforce, invalid stage:", "series-q")

  const metrics = await fetch(url + "/metrics").then((r) => r.text())
  const lines = metrics.split("\n").filter((l) => l.startsWith("stage_validation_validations_total{") && l.includes(ENDPOINT))
  console.log(`/metrics:\n  ${lines.join("\n  ")}`)

  if (alias !== 201 || warned !== 201 || rejected !== 400 || lines.length === 0) {
    console.error("unexpected responses")
    process.exitCode = 1
  } else {
    console.log("ok")
  }
} finally {
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await store.close()
  const redis = await createClient({ url: redisUrl }).connect()
  await redis.del([`${prefix}:document`, `${prefix}:history`])
  await redis.close()
}
