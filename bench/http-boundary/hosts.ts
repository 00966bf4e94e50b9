/**
 * The servers the boundary benchmark measures, each in a child process that answers the parent
 * over the IPC channel (`process.send`): its own CPU time (`process.cpuUsage()`, microseconds),
 * a change of the rollout mode, and an optional CPU profile of a window (`node:inspector`).
 *
 * - `effect`: the reference service (its routes, services and embedded database; Node HTTP server)
 *   with two more routes: `POST /api/monte-carlo/simulate` runs the simulate handler behind the
 *   boundary (`withStageValidation`), `POST /bench/baseline/simulate` the same handler behind
 *   `withStageParsingOnly` (the same body read, JSON parse and stage normalisation; no decision,
 *   headers, metrics or request id), `POST /bench/baseline-headers/simulate` the latter sending
 *   the boundary's headers. One process, one router.
 * - `node`: one raw `node:http` server with three routes: `/boundary` runs the plain-Node adapter
 *   (`createStageValidationHandler`) then the handler; `/baseline` does the same read, parse,
 *   normalise and answer without it; `/baseline-headers` the latter sending the boundary's
 *   headers. All answer the same JSON body.
 *
 * The `headers` routes (`Route`) serve `--baseline-headers` and `--headers-only`: the headers the
 * boundary would send for the payload, without the boundary.
 *
 * Internal to the benchmark; started as `node bench/http-boundary.ts --serve effect|node`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { Session } from "node:inspector"
import type { AddressInfo } from "node:net"
import { PerformanceObserver } from "node:perf_hooks"
import { writeFileSync } from "node:fs"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Context, Effect, Layer } from "effect"
import { HttpRouter, HttpServer, HttpServerResponse } from "effect/http"
import { evaluateStages, extractFromBody } from "../../src/http/EvaluateStages.ts"
import { createStageValidationHandler, type StageValidatedRequest } from "../../src/http/NodeAdapter.ts"
import { NormalizedStages } from "../../src/http/NormalizedStages.ts"
import { prepareStageHeaders } from "../../src/http/StageHeaders.ts"
import { withHeaders } from "../../src/http/StageValidation.ts"
import * as StageLocation from "../../src/http/StageLocation.ts"
import { DEFAULT_DOCUMENT, type RolloutDocument } from "../../src/rollout/Config.ts"
import { getValidationDecision, type ValidationDecision } from "../../src/rollout/Decision.ts"
import { REQUEST_ID_HEADER } from "../../src/http/RequestId.ts"
import { ModeStore } from "../../src/rollout/ModeStore.ts"
import { simulateHandler } from "../../src/service/Handlers.ts"
import { serviceLayer } from "../../src/service/ReferenceService.ts"
import { SERVICE_STAGE_ROUTES, serviceRoutes } from "../../src/service/ServiceRoutes.ts"
import { withStageParsingOnly } from "../../src/service/StageParsingOnly.ts"

/** The rollout states the payloads are measured under. */
export type ModeName = "warn" | "shadow" | "enforce"

/** The document of a rollout state: warn; shadow (dry run: evaluated as enforcing, never a 400); enforce. */
export const documentFor = (mode: ModeName): Partial<RolloutDocument> => ({
  defaultMode: mode === "warn" ? "warn" : "enforce",
  dryRun: mode === "shadow"
})

/** Messages the parent sends a child. */
export type Command =
  | { readonly id: number; readonly cmd: "cpu" }
  | { readonly id: number; readonly cmd: "mode"; readonly mode: ModeName }
  | { readonly id: number; readonly cmd: "profile"; readonly action: "start" | "stop"; readonly file: string }

/** A host's routes: without the boundary, without it but with its headers, with it. */
export type Route = "baseline" | "headers" | "boundary"

/** The node host's route paths. */
export const NODE_PATHS: Readonly<Record<Route, `/${string}`>> = { baseline: "/baseline", headers: "/baseline-headers", boundary: "/boundary" }

/** The Effect host's route paths (one process, one router). */
export const EFFECT_PATHS: Readonly<Record<Route, `/${string}`>> = {
  baseline: "/bench/baseline/simulate",
  headers: "/bench/baseline-headers/simulate",
  boundary: "/api/monte-carlo/simulate"
}

const cpuMicros = (): number => {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

/** Garbage collections so far (count, total pause ms), from the `gc` performance entries. */
const gcTotals = { count: 0, ms: 0 }
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcTotals.count++
    gcTotals.ms += entry.duration
  }
}).observe({ entryTypes: ["gc"] })

/** CPU profiles on demand: sampling every 100 µs between `start` and `stop`. */
const profiler = (() => {
  let session: Session | undefined
  return {
    start: (done: () => void) => {
      session = new Session()
      session.connect()
      session.post("Profiler.enable", () =>
        session!.post("Profiler.setSamplingInterval", { interval: 100 }, () => session!.post("Profiler.start", () => done())))
    },
    stop: (file: string, done: () => void) => {
      if (session === undefined) return done()
      session.post("Profiler.stop", (error, result) => {
        if (error === null && result !== undefined) writeFileSync(file, JSON.stringify(result.profile))
        session!.disconnect()
        session = undefined
        done()
      })
    }
  }
})()

/** Answers the parent's commands; `setMode` applies a rollout state and calls back when it holds. */
const listen = (setMode: (mode: ModeName, done: (error?: string) => void) => void) => {
  process.on("message", (message: Command) => {
    const reply = (payload: object) => process.send!({ id: message.id, ...payload })
    switch (message.cmd) {
      case "cpu":
        return reply({ cpu: cpuMicros(), gcCount: gcTotals.count, gcMs: gcTotals.ms })
      case "mode":
        return setMode(message.mode, (error) => reply(error === undefined ? { ok: true } : { error }))
      case "profile":
        return message.action === "start"
          ? profiler.start(() => reply({ ok: true }))
          : profiler.stop(message.file, () => reply({ ok: true }))
    }
  })
  process.on("disconnect", () => process.exit(0))
}

// ---------------------------------------------------------------------------------------------
// effect host
// ---------------------------------------------------------------------------------------------

/** A request id of the length the boundary generates (a UUID), for the baseline's copy of its headers. */
const SAME_LENGTH_ID = "00000000-0000-8000-8000-000000000000"

/** The rollout document the Effect host's store holds (set once the store exists). */
let effectDocument: () => RolloutDocument = () => DEFAULT_DOCUMENT

/**
 * The Effect host's `headers` route: the baseline handler's response gets the headers the
 * boundary would add for its payload in a warn state, through the boundary's own `withHeaders`.
 */
const withBoundaryHeaders = <E, R>(
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | NormalizedStages> =>
  Effect.contextWith((context: Context.Context<NormalizedStages>) => {
    const { stages } = Context.get(context, NormalizedStages)
    return Effect.map(handler, (response) => {
      const distribution = stages._tag === "Distribution" ? stages : undefined
      const prepared = prepareStageHeaders({
        shouldEmitHeaders: true,
        wouldReject: false,
        rejected: false,
        invalid: distribution !== undefined && !distribution.isValid,
        deprecatedInputs: distribution?.deprecatedInputs ?? []
      }, effectDocument())
      return withHeaders(response, prepared, SAME_LENGTH_ID)
    })
  })

/** A route running `handler` behind `withStageParsingOnly`: the body work, no boundary. */
const withoutBoundary = (path: `/${string}`, handler: typeof simulateHandler) =>
  HttpRouter.add(
    "POST",
    path,
    Effect.catchDefect(
      handler.pipe(withStageParsingOnly(SERVICE_STAGE_ROUTES.simulate)),
      () => Effect.succeed(HttpServerResponse.empty({ status: 500 }))
    )
  )

const serveEffect = () => {
  const ready = Layer.effectDiscard(Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const store = yield* ModeStore
    effectDocument = () => store.current()
    listen((mode, done) => {
      const current = store.current()
      Effect.runFork(
        store.set({
          document: { ...current, ...documentFor(mode) },
          expectedVersion: current.version,
          actor: "bench@http-boundary",
          reason: "benchmark payload",
          source: "cli",
          force: true
        }).pipe(Effect.match({ onFailure: (e) => done(String(e)), onSuccess: () => done() }))
      )
    })
    process.stdout.write(`READY ${HttpServer.formatAddress(server.address)}\n`)
  }))
  // The reference service's routes (the simulate route behind `withStageValidation`) plus the
  // same handler without the boundary on two more paths (one also sending the boundary's
  // headers), in one process and one router.
  const baseline = Layer.mergeAll(
    withoutBoundary(EFFECT_PATHS.baseline, simulateHandler),
    withoutBoundary(EFFECT_PATHS.headers, withBoundaryHeaders(simulateHandler))
  )
  const options = {
    initial: { ...DEFAULT_DOCUMENT, defaultMode: "warn" as const },
    ops: {
      credentials: { bearerTokens: ["bench-ops-token-bench-ops-token-bench"], signingSecrets: [] },
      alertName: "StageValidationBlastRadius",
      deduplicationTtlSeconds: 600,
      toleranceSeconds: 300,
      production: false
    },
    offenderSamplePercent: 0
  }
  const service = HttpRouter.serve(Layer.mergeAll(serviceRoutes({ boundary: true }), baseline), {
    disableLogger: true,
    disableListenLog: true
  }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(() => {
      const server = createServer()
      server.keepAliveTimeout = 65_000
      return server
    }, { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(serviceLayer(options))
  )
  return Layer.launch(ready.pipe(Layer.provide(service)))
}

// ---------------------------------------------------------------------------------------------
// node host
// ---------------------------------------------------------------------------------------------

const LOCATION = StageLocation.bodyDistribution("stageDistribution")
const OFF = getValidationDecision({ ...DEFAULT_DOCUMENT, defaultMode: "off" }, { method: "GET", path: "/", requestId: "" })

const JSON_TYPE = ["content-type", "application/json", "content-length"]

/** The handler both node routes end in: the normalised distribution back as JSON, after `extra` headers. */
const answer = (res: ServerResponse, body: unknown, extra?: ReadonlyArray<string>): void => {
  const text = JSON.stringify({ ok: true, stageDistribution: (body as { stageDistribution?: unknown } | undefined)?.stageDistribution ?? null })
  if (extra === undefined) {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  } else {
    res.writeHead(200, [...extra, ...JSON_TYPE, String(Buffer.byteLength(text))])
  }
  res.end(text)
}

/**
 * What a host without the boundary does anyway: read the body, parse it, normalise the stages.
 * With `headerDecision` (the `headers` route: the rollout state's decision, found once per state,
 * not per request) it also sends the headers the boundary would.
 */
const baselineRoute = (
  req: IncomingMessage,
  res: ServerResponse,
  headerDecision: ValidationDecision | undefined,
  doc: RolloutDocument
): void => {
  const chunks: Array<Buffer> = []
  req.on("data", (chunk: Buffer) => chunks.push(chunk))
  req.on("end", () => {
    let body: unknown
    try {
      body = JSON.parse(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"))
    } catch {
      res.writeHead(400, { "content-type": "application/json" })
      return void res.end("{\"error\":\"INVALID_JSON\"}")
    }
    const extracted = extractFromBody(LOCATION, body)
    if (!extracted.present) return answer(res, body)
    if (headerDecision === undefined) return answer(res, evaluateStages(LOCATION, extracted.value, OFF, DEFAULT_DOCUMENT).rewrite(body))
    const evaluation = evaluateStages(LOCATION, extracted.value, headerDecision, doc)
    answer(res, evaluation.rewrite(body), [REQUEST_ID_HEADER, SAME_LENGTH_ID, ...evaluation.prepared.flat])
  })
}

const serveNode = () => {
  let doc: RolloutDocument = { ...DEFAULT_DOCUMENT, defaultMode: "warn" }
  const decisionOf = (d: RolloutDocument) => getValidationDecision(d, { method: "POST", path: EFFECT_PATHS.boundary, requestId: "" })
  let headerDecision = decisionOf(doc)
  const validate = createStageValidationHandler({
    endpoint: EFFECT_PATHS.boundary,
    location: LOCATION,
    current: () => doc,
    offenderSamplePercent: 0
  })
  const server = createServer((req, res) => {
    if (req.url === NODE_PATHS.baseline) return baselineRoute(req, res, undefined, doc)
    if (req.url === NODE_PATHS.headers) return baselineRoute(req, res, headerDecision, doc)
    if (req.url === NODE_PATHS.boundary) {
      return validate(req, res, (error) => {
        if (error !== undefined) {
          res.statusCode = 500
          return void res.end()
        }
        answer(res, (req as StageValidatedRequest).body)
      })
    }
    res.statusCode = 404
    res.end()
  })
  server.keepAliveTimeout = 65_000
  listen((mode, done) => {
    doc = { ...doc, ...documentFor(mode), version: doc.version + 1 }
    headerDecision = decisionOf(doc)
    done()
  })
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}\n`)
  })
}

/** Runs the child named by `--serve` (`effect` or `node`). */
export const serveChild = (name: string): void => {
  if (name === "node") return serveNode()
  serveEffect().pipe(NodeRuntime.runMain)
}
