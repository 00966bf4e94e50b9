/**
 * Stage validation in a plain Node host: the library's Node adapter as Express middleware.
 *
 * `createStageValidationHandler` runs the same boundary as the Effect middleware (decision,
 * normalisation, headers, 400 body, metrics). It reads `req.body` when `express.json()` already
 * parsed it, rewrites it with canonical stages and attaches `req.stageValidation`. The rollout
 * document comes from a plain getter; a host without Effect can keep it in a variable (as here) or
 * mirror the shared Redis document. Metrics go to effect's global registry, served on `/metrics`
 * with `PrometheusMetrics.format`.
 *
 * The program listens on an ephemeral 127.0.0.1 port, sends itself a valid alias and an invalid
 * stage in warn, switches to enforce, sends the invalid stage again (a 400), prints the
 * responses, closes the server and exits 0. CI runs it against the built package.
 *
 *   node examples/host-express-app.ts
 */
import type { AddressInfo } from "node:net"
import { Effect } from "effect"
import { PrometheusMetrics } from "effect/observability"
import express from "express"
import { createStageValidationHandler, StageLocation, type StageValidatedRequest } from "stage-normalization/http"
import { DEFAULT_DOCUMENT, type RolloutDocument } from "stage-normalization/rollout"

const ENDPOINT = "/api/allocations"

// The rollout document the middleware reads on every request (synchronous, in-process).
let rollout: RolloutDocument = { ...DEFAULT_DOCUMENT, defaultMode: "warn" }

const app = express()
app.use(express.json())

app.post(
  ENDPOINT,
  createStageValidationHandler({
    endpoint: ENDPOINT,
    location: StageLocation.bodyStage("stage"),
    current: () => rollout,
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
console.log(`express host on ${url}, mode ${rollout.defaultMode}`)

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

  // A live change: the next request reads the new document (no restart).
  rollout = { ...rollout, defaultMode: "enforce", version: rollout.version + 1 }
  console.log(`rollout document now v${rollout.version}: ${rollout.defaultMode}`)
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
}
