/**
 * docs/openapi.yaml is faithful: it is OpenAPI 3.1, every $ref resolves, it documents exactly the
 * routes the service registers (SERVICE_ROUTE_TABLE), the stage headers on every validated
 * route, the contract's 400 body, and authentication on every ops route.
 *
 * YAML is read with `confbox` (a dev dependency of the toolchain, via tsup → mlly → pkg-types).
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { parseYAML } from "confbox"
import { SERVICE_LISTED_ROUTES, SERVICE_ROUTE_TABLE } from "../../src/service/ServiceRoutes.ts"

const spec = parseYAML(readFileSync(new URL("../../docs/openapi.yaml", import.meta.url), "utf8")) as any
const METHODS = ["get", "put", "post", "patch", "delete"] as const
const toOpenApiPath = (template: string) => template.replace(/:([A-Za-z]+)/g, "{$1}")

const resolve = (ref: string): unknown =>
  ref.slice(2).split("/").reduce<any>((node, key) => (node === undefined ? undefined : node[key.replaceAll("~1", "/").replaceAll("~0", "~")]), spec)

describe("docs/openapi.yaml", () => {
  it("is OpenAPI 3.1 and every $ref resolves", () => {
    assert.match(spec.openapi, /^3\.1\./)
    const refs: Array<string> = []
    const walk = (node: unknown) => {
      if (Array.isArray(node)) return node.forEach(walk)
      if (node !== null && typeof node === "object") {
        for (const [k, v] of Object.entries(node)) {
          if (k === "$ref" && typeof v === "string") refs.push(v)
          else walk(v)
        }
      }
    }
    walk(spec)
    assert.isAbove(refs.length, 50)
    for (const ref of refs) assert.isDefined(resolve(ref), ref)
  })

  it("documents exactly the service's routes", () => {
    const documented = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`)
    ).sort()
    const served = SERVICE_ROUTE_TABLE.map((r) => `${r.method} ${toOpenApiPath(r.path)}`).sort()
    assert.deepStrictEqual(documented, served)
  })

  it("documents the stage headers and the contract body on every validated route", () => {
    for (const route of SERVICE_LISTED_ROUTES) {
      const op = spec.paths[toOpenApiPath(route.endpoint)][route.method.toLowerCase()]
      const bad = op.responses["400"]
      const badResponse = bad.$ref ? resolve(bad.$ref) as any : bad
      assert.includeMembers(Object.keys(badResponse.headers), ["X-Stage-Recommendation", "X-Stage-Docs", "X-Request-Id"])
      const ok = Object.entries(op.responses).find(([status]) => status.startsWith("2"))![1] as any
      const okResponse = ok.$ref ? resolve(ok.$ref) as any : ok
      assert.includeMembers(Object.keys(okResponse.headers), [
        "X-Stage-Deprecated-Variants", "X-Stage-Would-Reject", "Deprecation", "Sunset", "Link", "X-Request-Id"
      ], `${route.method} ${route.endpoint}`)
    }
    const body = spec.components.schemas.InvalidStageBody
    assert.deepStrictEqual(body.properties.error.enum, ["INVALID_STAGE_DISTRIBUTION", "INVALID_STAGE"])
    assert.deepStrictEqual(body.properties.details.required, ["invalid", "suggestions", "validStages"])
  })

  it("every ops route is authenticated, every other one explicitly public", () => {
    for (const [path, item] of Object.entries(spec.paths as Record<string, Record<string, any>>)) {
      for (const m of METHODS) {
        const op = item[m]
        if (op === undefined) continue
        if (path.startsWith("/_ops/")) {
          assert.deepStrictEqual(op.security.map((s: object) => Object.keys(s).sort()), [
            ["opsBearer"],
            ["standardWebhooksId", "standardWebhooksSignature", "standardWebhooksTimestamp"]
          ], `${m} ${path}`)
          assert.isDefined(op.responses["401"], `${m} ${path}`)
        } else {
          assert.deepStrictEqual(op.security, [], `${m} ${path}`)
        }
      }
    }
  })
})
