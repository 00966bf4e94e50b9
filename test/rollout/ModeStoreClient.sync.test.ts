/**
 * `createModeStoreClient` resolves synced or timed out, never in between: 50 clients started
 * against the real Redis (in pairs on fresh prefixes, so some find the store empty and race to
 * seed it, some find it seeded) are each synced the moment their Promise resolves; a client whose
 * Redis never answers resolves unsynced only once `syncTimeout` has passed.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { createModeStoreClient, DEFAULT_DOCUMENT, type ModeStoreClient, type ModeStoreSync } from "../../src/rollout/index.ts"
import { assertRedisReachable, rawCommand, REDIS_URL, RedisProxy, uniquePrefix } from "./redisHarness.ts"

const CLIENTS = 50
const CONCURRENCY = 10

const opened: Array<ModeStoreClient> = []
const proxies: Array<RedisProxy> = []

afterEach(async () => {
  // a proxy first: a connection that never answers would hold up close()
  await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()))
  await Promise.all(opened.splice(0).map((client) => client.close()))
})

/** Runs `task` over `0 … count - 1`, at most `limit` at a time. */
const boundedAll = async <A>(count: number, limit: number, task: (index: number) => Promise<A>): Promise<Array<A>> => {
  const results: Array<A> = new Array(count)
  let next = 0
  const worker = async () => {
    while (next < count) {
      const index = next++
      results[index] = await task(index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker))
  return results
}

describe("createModeStoreClient resolves synced or timed out", () => {
  it(`${CLIENTS} clients, started concurrently in pairs on fresh prefixes, are each synced on resolve`, async () => {
    await assertRedisReachable()
    const base = uniquePrefix("client-sync")
    const prefixOf = (index: number) => `${base}:${Math.floor(index / 2)}`
    try {
      const seen = await boundedAll(CLIENTS, CONCURRENCY, async (index) => {
        const started = Date.now()
        const client = await createModeStoreClient({
          initial: { ...DEFAULT_DOCUMENT, defaultMode: "warn" },
          redis: { url: REDIS_URL },
          prefix: prefixOf(index),
          // generous: on a loaded machine a healthy Redis still answers long before this, so a
          // client that resolves unsynced resolved early, not on the timeout
          syncTimeout: "20 seconds",
          logLevel: "None" // 50 clients' start-up lines are not this test's output
        })
        opened.push(client)
        const sync: ModeStoreSync = client.sync() // right after the await, as the host did
        return { index, sync, ms: Date.now() - started, version: client.current().version }
      })
      const unsynced = seen.filter((s) => !s.sync.synced)
      assert.deepStrictEqual(
        unsynced.map((s) => `client ${s.index}: ${s.sync.reason ?? "?"} after ${s.ms} ms`),
        [],
        `${unsynced.length} of ${CLIENTS} clients resolved unsynced`
      )
      // synced means the shared (seeded) document, never the boot document's version 0
      assert.deepStrictEqual(seen.filter((s) => s.version < 1).map((s) => s.index), [])
    } finally {
      // closed first: an open client would restore the documents this deletes
      await Promise.all(opened.splice(0).map((client) => client.close()))
      const keys = Array.from({ length: CLIENTS / 2 }, (_, i) => [`${base}:${i}:document`, `${base}:${i}:history`]).flat()
      await rawCommand("DEL", ...keys)
    }
  })

  it("resolves unsynced only after syncTimeout when Redis refuses every connection", async () => {
    const proxy = new RedisProxy()
    proxies.push(proxy)
    await proxy.start("down")
    const started = Date.now()
    const client = await createModeStoreClient({
      initial: DEFAULT_DOCUMENT,
      redis: { url: proxy.url },
      prefix: uniquePrefix("client-timeout"),
      syncTimeout: "300 millis",
      logLevel: "None" // the refused connections' warnings are expected here
    })
    opened.push(client)
    const elapsed = Date.now() - started
    assert.isFalse(client.sync().synced)
    assert.isAtLeast(elapsed, 290, `resolved after ${elapsed} ms, before the 300 ms syncTimeout`)
  })
})
