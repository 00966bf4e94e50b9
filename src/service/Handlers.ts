/**
 * The reference service's route handlers. Each runs behind the stage boundary and works with
 * {@link NormalizedStages} (canonical stages, the parsed body); its own validation covers the
 * other fields and answers `400 { error: "INVALID_REQUEST", message }`. Database failures answer
 * `503 { error: "DATABASE_UNAVAILABLE" }`. Handlers never fail: every outcome is a response.
 *
 * What reaches the database from a request the boundary let through with unknown stages (warn,
 * off, shadow) is stored as sent — that is what "warn" means, and what the migration later
 * cleans — after making it storable: NUL characters and lone surrogates (which PostgreSQL refuses)
 * become U+FFFD and each value is cut to 256 characters.
 *
 * @since 0.1.0
 */
import { Cause, Effect, Schema } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import type { SqlClient, SqlError } from "effect/sql"
import { normalizeStage } from "../normalizer/NormalizeStage.ts"
import type { CanonicalStage } from "../normalizer/Stages.ts"
import type { NormalizedStageData } from "../http/EvaluateStages.ts"
import { NormalizedStages } from "../http/NormalizedStages.ts"
import { MAX_RUNS, simulateFund } from "./MonteCarlo.ts"
import * as Repository from "./Repository.ts"

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
const LONE_SURROGATE_TEST = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const MAX_ID = 2_147_483_647

const hasControlCharacter = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return true
  }
  return false
}
const MAX_AMOUNT = 1e15
const MAX_STORED_TEXT = 256
const MAX_UNRECOGNIZED_STORED = 1000

const Id = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: MAX_ID })))

/**
 * The non-stage fields of `POST /api/monte-carlo/simulate`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SimulateRequest = Schema.Struct({
  fundId: Id,
  runs: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: MAX_RUNS }))),
  seed: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 4_294_967_295 })))),
  companies: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 200 }))))
})

const StrategyName = Schema.String.pipe(
  Schema.check(Schema.makeFilter((s: string) =>
    s.trim().length > 0 && s.length <= 200 && !hasControlCharacter(s) && !LONE_SURROGATE_TEST.test(s)
      ? undefined
      : "name must be 1–200 characters without control characters"
  ))
)

/**
 * The non-stage fields of the strategies routes.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StrategyRequest = Schema.Struct({ fundId: Id, name: StrategyName })

const Amount = Schema.Finite.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: MAX_AMOUNT })))

/**
 * The non-stage fields of `POST /api/allocations`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AllocationRequest = Schema.Struct({
  fundId: Id,
  companyId: Schema.optionalKey(Schema.NullOr(Id)),
  amount: Amount
})

/**
 * The non-stage fields of `PUT` / `PATCH /api/allocations` (`id` names the allocation).
 *
 * @since 0.1.0
 * @category schemas
 */
export const AllocationUpdateRequest = Schema.Struct({
  id: Id,
  fundId: Id,
  companyId: Schema.optionalKey(Schema.NullOr(Id)),
  amount: Schema.optionalKey(Amount)
})

type Response = HttpServerResponse.HttpServerResponse

const json = (status: number, body: unknown): Response => HttpServerResponse.jsonUnsafe(body, { status })

const invalid = (message: string): Response =>
  json(400, { error: "INVALID_REQUEST", message: message.length > 1000 ? message.slice(0, 1000) + "…" : message })

const notFound = (error: string, message: string): Response => json(404, { error, message })

const databaseDown = (error: SqlError.SqlError) =>
  Effect.as(
    Effect.logError("stage_validation.service_database_error").pipe(
      Effect.annotateLogs({ event: "stage_validation.service", cause: error.message })
    ),
    json(503, { error: "DATABASE_UNAVAILABLE", message: "the database did not answer" })
  )

const decodeFields = <A, I>(schema: Schema.Codec<A, I, never, never>) => {
  const decode = Schema.decodeUnknownExit(schema)
  return (body: unknown): { readonly ok: true; readonly value: A } | { readonly ok: false; readonly message: string } => {
    const exit = decode(body)
    if (exit._tag === "Success") return { ok: true, value: exit.value }
    const error = Cause.findErrorOption(exit.cause)
    return { ok: false, message: error._tag === "Some" ? error.value.message : "invalid request" }
  }
}

const decodeSimulate = decodeFields(SimulateRequest)
const decodeStrategy = decodeFields(StrategyRequest)
const decodeAllocation = decodeFields(AllocationRequest)
const decodeAllocationUpdate = decodeFields(AllocationUpdateRequest)


/**
 * Makes a raw string storable in PostgreSQL text / JSONB: NUL and lone surrogates become
 * U+FFFD, at most 256 characters.
 *
 * @example
 * ```ts
 * import { storableText } from "./Handlers.ts" // internal: not part of the package's API
 * storableText("a\u0000b") // => "a\uFFFDb"
 * ```
 * @since 0.1.0
 * @category sanitising
 */
export const storableText = (s: string): string => {
  const cut = s.length > MAX_STORED_TEXT ? s.slice(0, MAX_STORED_TEXT) : s
  return cut.replace(LONE_SURROGATE, "\ufffd").replaceAll("\u0000", "\ufffd")
}

const storableWeight = (w: unknown): unknown =>
  typeof w === "number" ? (Number.isFinite(w) ? w : null) : typeof w === "string" ? storableText(w) : null

/** The distribution to store: canonical entries, then the unrecognised ones as sent. */
const storedDistribution = (stages: Extract<NormalizedStageData, { _tag: "Distribution" }>) => [
  ...stages.entries,
  ...stages.unrecognized.map((u) => ({ stage: storableText(u.input), weight: storableWeight(u.weight) }))
]

const requireDistribution = (stages: NormalizedStageData) =>
  stages._tag === "Distribution" ? stages : undefined

/**
 * `POST /api/monte-carlo/simulate` (a read): a seeded Monte-Carlo of fund outcomes by stage.
 * Without `seed`, a random one is drawn and returned, so any answer can be reproduced.
 *
 * @since 0.1.0
 * @category handlers
 */
export const simulateHandler: Effect.Effect<Response, never, NormalizedStages> = Effect.gen(function*() {
  const { body, stages } = yield* NormalizedStages
  const fields = decodeSimulate(body)
  if (!fields.ok) return invalid(fields.message)
  const distribution = requireDistribution(stages)
  if (distribution === undefined) return invalid("stageDistribution is required")
  let unclassified = 0
  for (const u of distribution.unrecognized) {
    if (typeof u.weight === "number" && Number.isFinite(u.weight) && u.weight > 0) unclassified += u.weight
  }
  const seed = fields.value.seed ?? Math.floor(Math.random() * 4_294_967_296)
  const result = simulateFund({
    runs: fields.value.runs,
    seed,
    companies: fields.value.companies,
    distribution: distribution.entries,
    unclassifiedWeight: unclassified
  })
  if ("_tag" in result) return invalid(result.message)
  return json(200, { fundId: fields.value.fundId, ...result })
})

const parseFundFilter = (raw: string | ReadonlyArray<string> | undefined): number | undefined | "invalid" => {
  if (raw === undefined) return undefined
  if (typeof raw !== "string" || !/^[0-9]{1,10}$/.test(raw)) return "invalid"
  const n = Number(raw)
  return n >= 1 && n <= MAX_ID ? n : "invalid"
}

/**
 * `GET /api/portfolio/strategies[?fundId=N]`.
 *
 * @since 0.1.0
 * @category handlers
 */
export const listStrategiesHandler = Effect.gen(function*() {
  const params = yield* HttpServerRequest.ParsedSearchParams
  const fundId = parseFundFilter(params["fundId"])
  if (fundId === "invalid") return invalid("fundId must be a positive integer")
  const rows = yield* Repository.listStrategies(fundId)
  return json(200, { items: rows.map(Repository.strategyView) })
}).pipe(Effect.catchTag("SqlError", databaseDown))

/**
 * `POST` (create; 409 when the name exists), `PUT` (create or replace) and `PATCH` (replace an
 * existing one; 404 otherwise) `/api/portfolio/strategies` with `{ fundId, name, stageDistribution }`
 * (a write).
 *
 * @since 0.1.0
 * @category handlers
 */
export const writeStrategyHandler = (kind: "insert" | "upsert" | "update") =>
  Effect.gen(function*() {
    const { body, stages } = yield* NormalizedStages
    const fields = decodeStrategy(body)
    if (!fields.ok) return invalid(fields.message)
    const distribution = requireDistribution(stages)
    if (distribution === undefined) return invalid("stageDistribution is required")
    if (distribution.unrecognized.length > MAX_UNRECOGNIZED_STORED) {
      return invalid(`at most ${MAX_UNRECOGNIZED_STORED} unrecognised stage entries can be stored`)
    }
    const { fundId, name } = fields.value
    if (!(yield* Repository.fundExists(fundId))) return notFound("FUND_NOT_FOUND", `fund ${fundId} does not exist`)
    const row = yield* Repository.writeStrategy(kind, fundId, name, storedDistribution(distribution))
    if (row === undefined) {
      return kind === "insert"
        ? json(409, { error: "STRATEGY_EXISTS", message: `fund ${fundId} already has a strategy named ${JSON.stringify(name)}` })
        : notFound("STRATEGY_NOT_FOUND", `fund ${fundId} has no strategy named ${JSON.stringify(name)}`)
    }
    return json(kind === "update" ? 200 : kind === "insert" ? 201 : 200, Repository.strategyView(row))
  }).pipe(Effect.catchTag("SqlError", databaseDown))

const parseFundParam = (raw: string | undefined): number | undefined =>
  raw !== undefined && /^[0-9]{1,10}$/.test(raw) && Number(raw) >= 1 && Number(raw) <= MAX_ID ? Number(raw) : undefined

/**
 * `GET /api/funds/:fundId/companies[?stage=…]` (a read): the fund's companies, each with its
 * stored stage and its canonical stage; `stage` filters on the canonical stage (repeatable),
 * and an unrecognised value the boundary let through matches stored values exactly (the legacy
 * behaviour).
 *
 * @since 0.1.0
 * @category handlers
 */
export const companiesHandler = Effect.gen(function*() {
  const { stages } = yield* NormalizedStages
  const params = yield* HttpRouter.params
  const fundId = parseFundParam(params["fundId"])
  if (fundId === undefined) return invalid("fundId must be a positive integer")
  if (!(yield* Repository.fundExists(fundId))) return notFound("FUND_NOT_FOUND", `fund ${fundId} does not exist`)
  const rows = yield* Repository.listCompanies(fundId)
  const wanted = stages._tag === "Stages" ? new Set<string>(stages.stages) : undefined
  const raw = stages._tag === "Stages" ? new Set<string>(stages.unrecognized) : undefined
  const items = []
  for (const row of rows) {
    const r = row.stage === null ? undefined : normalizeStage(row.stage)
    const canonical: CanonicalStage | null = r !== undefined && r._tag === "Canonical" ? r.stage : null
    if (wanted !== undefined && raw !== undefined) {
      const hit = (canonical !== null && wanted.has(canonical)) || (row.stage !== null && raw.has(row.stage))
      if (!hit) continue
    }
    items.push({ id: row.id, fundId: row.fund_id, name: row.name, stage: row.stage, normalizedStage: canonical })
  }
  return json(200, { fundId, filter: wanted === undefined ? null : [...wanted], items })
}).pipe(Effect.catchTag("SqlError", databaseDown))

const storedStage = (stages: NormalizedStageData): string | undefined => {
  if (stages._tag !== "Stage") return undefined
  if (stages.stage !== undefined) return stages.stage
  return typeof stages.input === "string" ? storableText(stages.input) : undefined
}

/**
 * `POST /api/allocations` with `{ fundId, companyId?, stage, amount }` (a write): stores the
 * canonical stage (or, when the boundary let an unknown value through, the value as sent).
 *
 * @since 0.1.0
 * @category handlers
 */
export const createAllocationHandler = Effect.gen(function*() {
  const { body, stages } = yield* NormalizedStages
  const fields = decodeAllocation(body)
  if (!fields.ok) return invalid(fields.message)
  const stage = storedStage(stages)
  if (stage === undefined) return invalid("stage must be a string")
  const { fundId, amount } = fields.value
  const companyId = fields.value.companyId ?? null
  if (!(yield* Repository.fundExists(fundId))) return notFound("FUND_NOT_FOUND", `fund ${fundId} does not exist`)
  if (companyId !== null && !(yield* Repository.companyInFund(fundId, companyId))) {
    return notFound("COMPANY_NOT_FOUND", `company ${companyId} is not in fund ${fundId}`)
  }
  const row = yield* Repository.insertAllocation(fundId, companyId, stage, amount)
  return json(201, Repository.allocationView(row))
}).pipe(Effect.catchTag("SqlError", databaseDown))

/**
 * `PUT` / `PATCH /api/allocations` with `{ id, fundId, companyId?, stage?, amount? }`: changes
 * an existing allocation (`PUT` requires `stage` and `amount`); 404 when it does not exist.
 *
 * @since 0.1.0
 * @category handlers
 */
export const updateAllocationHandler = (kind: "put" | "patch") =>
  Effect.gen(function*() {
    const { body, stages } = yield* NormalizedStages
    const fields = decodeAllocationUpdate(body)
    if (!fields.ok) return invalid(fields.message)
    const stage = storedStage(stages)
    if (stages._tag !== "Absent" && stage === undefined) return invalid("stage must be a string")
    if (kind === "put" && (stage === undefined || fields.value.amount === undefined)) {
      return invalid("PUT needs stage and amount; use PATCH to change some fields")
    }
    const { id, fundId } = fields.value
    const companyId = fields.value.companyId
    if (companyId !== undefined && companyId !== null && !(yield* Repository.companyInFund(fundId, companyId))) {
      return notFound("COMPANY_NOT_FOUND", `company ${companyId} is not in fund ${fundId}`)
    }
    const row = yield* Repository.updateAllocation(id, fundId, {
      ...(companyId !== undefined ? { companyId } : {}),
      ...(stage !== undefined ? { stage } : {}),
      ...(fields.value.amount !== undefined ? { amount: fields.value.amount } : {})
    })
    if (row === undefined) return notFound("ALLOCATION_NOT_FOUND", `fund ${fundId} has no allocation ${id}`)
    return json(200, Repository.allocationView(row))
  }).pipe(Effect.catchTag("SqlError", databaseDown))

/**
 * The services the handlers need.
 *
 * @since 0.1.0
 * @category models
 */
export type HandlerServices = SqlClient.SqlClient | NormalizedStages
