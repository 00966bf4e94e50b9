/**
 * The Promise facade for non-Effect hosts, against the real Redis: two clients on one prefix see
 * each other's writes, a stale compare-and-set rejects with the typed conflict, subscribers hear
 * newer documents, and close() releases everything. Also the in-process variant.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { vi } from "vitest"
import { createModeStoreClient, DEFAULT_DOCUMENT, type ModeStoreClient, type RolloutDocument } from "../../src/rollout/index.ts"
import { assertRedisReachable, rawCommand, REDIS_URL, uniquePrefix } from "./redisHarness.ts"

const meta = { actor: "ops@example.com", reason: "facade test" }
const opened: Array<ModeStoreClient> = []
const open = async (prefix: string) => {
  const client = await createModeStoreClient({
    initial: { ...DEFAULT_DOCUMENT, defaultMode: "warn" },
    redis: { url: REDIS_URL },
    prefix,
    refreshInterval: "200 millis",
    logLevel: "None"
  })
  opened.push(client)
  return client
}

const until = async (predicate: () => boolean, what: string) => {
  const deadline = Date.now() + 5_000
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()))
})

describe("createModeStoreClient (real Redis)", () => {
  it("shares one document between two clients, with compare-and-set and subscriptions", async () => {
    await assertRedisReachable()
    const prefix = uniquePrefix("facade")
    try {
      const a = await open(prefix)
      await until(() => a.current().version >= 1, "the seeded document")
      const b = await open(prefix)
      await until(() => b.current().version >= 1, "client b to read the shared document")

      const seen: Array<RolloutDocument> = []
      const stop = b.subscribe((doc) => seen.push(doc))
      const { document } = await a.set({
        ...meta,
        document: { ...a.current(), enforcementPercent: 25 },
        expectedVersion: a.current().version
      })
      assert.strictEqual(document.enforcementPercent, 25)
      await until(() => b.current().version === document.version, "client b to see the change")
      assert.strictEqual(b.current().enforcementPercent, 25)
      await until(() => seen.length > 0, "the subscriber")
      assert.strictEqual(seen.at(-1)?.version, document.version)
      stop()

      // a stale version is a typed refusal: an Error with the store's tag and reason
      const refused = await b.set({ ...meta, document: b.current(), expectedVersion: 1 }).then(
        () => undefined,
        (e: unknown) => e
      )
      assert.instanceOf(refused, Error)
      assert.strictEqual((refused as { _tag?: string })._tag, "ModeStoreError")
      assert.strictEqual((refused as { reason?: { _tag: string } }).reason?._tag, "VersionConflict")

      const modified = await b.modify({ ...meta, update: (doc) => ({ ...doc, dryRun: true }) })
      assert.isTrue(modified.document.dryRun)
      const history = await a.history(10)
      assert.deepStrictEqual(history.slice(0, 2).map((e) => e.source), ["api", "api"])
      assert.strictEqual(history[0]?.actor, meta.actor)
      assert.strictEqual((await a.refresh()).version, modified.document.version)
    } finally {
      await rawCommand("DEL", `${prefix}:document`, `${prefix}:history`)
    }
  })

  it("logLevel decides which of the client's own log lines are written (the default writes the audit line)", async () => {
    const written = vi.spyOn(console, "log").mockImplementation(() => undefined)
    try {
      for (const [logLevel, expectLines] of [["Warn", false], [undefined, true]] as const) {
        written.mockClear()
        const client = await createModeStoreClient({ initial: DEFAULT_DOCUMENT, logLevel })
        opened.push(client)
        await client.set({ ...meta, document: { ...DEFAULT_DOCUMENT, enforcementPercent: 10 }, expectedVersion: client.current().version })
        const lines = written.mock.calls.map((call) => JSON.stringify(call))
        assert.strictEqual(lines.some((line) => line.includes("facade test")), expectLines, `${logLevel}: ${lines.join("\n")}`)
      }
    } finally {
      written.mockRestore()
    }
  })

  it("works in process without Redis", async () => {
    const client = await createModeStoreClient({ initial: DEFAULT_DOCUMENT, logLevel: "None" })
    opened.push(client)
    const { document } = await client.set({
      ...meta,
      document: { ...DEFAULT_DOCUMENT, enforcementPercent: 10 },
      expectedVersion: client.current().version
    })
    assert.strictEqual(client.current().enforcementPercent, 10)
    assert.strictEqual(document.version, 1)
    const invalid = await client.set({ ...meta, document: { defaultMode: "loud" }, expectedVersion: 1 }).catch((e: unknown) => e)
    assert.strictEqual((invalid as { reason?: { _tag: string } }).reason?._tag, "InvalidDocument")
  })

  it("rejects an invalid boot document with the typed InvalidDocument", async () => {
    const refused = await createModeStoreClient({ initial: { ...DEFAULT_DOCUMENT, enforcementPercent: -1 } }).then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(refused, Error)
    assert.strictEqual((refused as { _tag?: string })._tag, "ModeStoreError")
    assert.strictEqual((refused as { reason?: { _tag: string } }).reason?._tag, "InvalidDocument")
  })
})
