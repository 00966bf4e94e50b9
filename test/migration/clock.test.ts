/**
 * Time in the migration follows effect's `Clock`: a throttled run (a minute's sleep between
 * batches, back-off on a transient error) driven by `TestClock` completes without real waiting,
 * and its durations, rates and ETAs are in virtual time — for `migrate` and for `rollback`, which
 * share the batch driver.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import type { MigrationEvent } from "../../src/migration/MigrationEvent.ts"
import { rollback } from "../../src/migration/rollback/Rollback.ts"
import { migrate } from "../../src/migration/run/Runner.ts"
import { layerScratchPostgres, requirePostgres } from "./support/Databases.ts"
import { createScalarTable, scalarRows, snapshot } from "./support/Fixtures.ts"

const MINUTE = 60_000

/** Run `effect` under a TestClock, advancing it a minute at a time until the effect ends. */
const withVirtualTime = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    let adjustments = 0
    while (fiber.pollUnsafe() === undefined) {
      if (adjustments++ > 1_000) return yield* Effect.die(new Error("the run did not end within 1,000 virtual minutes"))
      // real time for the database to answer; the run's own sleeps wait for the TestClock
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 15)))
      yield* TestClock.adjust(MINUTE)
    }
    return yield* Fiber.join(fiber)
  }).pipe(Effect.provide(TestClock.layer()))

describe("time from Clock", () => {
  it.effect("the real PostgreSQL is reachable (required)", () => requirePostgres)
  layer(layerScratchPostgres("clock"), { timeout: "60 seconds", excludeTestServices: true })("real PostgreSQL", (it) => {
    it.effect("a run sleeping a minute between batches, and its rollback, finish under TestClock with no real sleeping", () =>
      Effect.gen(function*() {
        const table = yield* createScalarTable("clock", scalarRows(200))
        const before = yield* snapshot(table)
        const events: Array<MigrationEvent> = []
        const realStart = performance.now()
        const summary = yield* withVirtualTime(
          migrate({ table, batchSize: 50, adaptive: false, sleepMs: MINUTE, onEvent: (e) => Effect.sync(() => events.push(e)) })
        )
        const realMs = performance.now() - realStart
        assert.strictEqual(summary.status, "succeeded")
        assert.strictEqual(summary.batches, 4)
        // four one-minute sleeps in virtual time; a few seconds at most in real time
        assert.isAtLeast(summary.durationMs, 4 * MINUTE)
        assert.isBelow(realMs, 20_000)
        const completed = events.filter((e): e is Extract<MigrationEvent, { _tag: "BatchCompleted" }> => e._tag === "BatchCompleted")
        assert.strictEqual(completed.length, 4)
        // the rate is measured in virtual time: 150 rows over three virtual minutes, not per real second
        assert.isAtMost(completed[3]!.rowsPerSecond, 2)
        const finished = events.find((e) => e._tag === "RunFinished")
        assert.isAtLeast(finished?._tag === "RunFinished" ? finished.durationMs : 0, 4 * MINUTE)

        const undo = yield* withVirtualTime(rollback({ runId: summary.runId, apply: true, batchSize: 40, sleepMs: MINUTE }))
        assert.strictEqual(undo.status, "succeeded")
        assert.isAtLeast(undo.durationMs, (undo.batches - 1) * MINUTE)
        assert.deepStrictEqual(yield* snapshot(table), before)
      }))

    it.effect("a transient error's back-off waits on the Clock: retried after virtual time, the run succeeds", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const table = yield* createScalarTable("clockretry", scalarRows(60))
        // the first batch's update fails once with a serialization failure (retryable), then works
        // (a sequence: nextval survives the failed transaction's rollback)
        yield* sql.unsafe(`CREATE SEQUENCE ${table}_trips`).unprepared
        yield* sql.unsafe(`CREATE FUNCTION ${table}_trip() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF nextval('${table}_trips') = 1 THEN
              RAISE EXCEPTION 'injected' USING ERRCODE = '40001';
            END IF;
            RETURN NEW;
          END $$`).unprepared
        yield* sql.unsafe(`CREATE TRIGGER trip BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_trip()`).unprepared
        const events: Array<MigrationEvent> = []
        const realStart = performance.now()
        const summary = yield* withVirtualTime(
          migrate({ table, batchSize: 100, sleepMs: 0, retryDelayMs: 10 * MINUTE, onEvent: (e) => Effect.sync(() => events.push(e)) })
        )
        assert.strictEqual(summary.status, "succeeded")
        const retry = events.find((e) => e._tag === "BatchRetrying")
        assert.isDefined(retry)
        assert.isAtLeast(retry?._tag === "BatchRetrying" ? retry.delayMs : 0, 10 * MINUTE)
        assert.isAtLeast(summary.durationMs, 10 * MINUTE)
        assert.isBelow(performance.now() - realStart, 20_000)
      }))
  })
})
