/**
 * A throwaway PostgreSQL 15 primary with a real streaming replica, for the tests of the runner's
 * replication-lag back-off (`run/DatabaseHealth.ts` reads `pg_stat_replication` on the primary). The machine's
 * own cluster (5432, /etc/postgresql) has no replica and is never touched: this harness `initdb`s a
 * primary in a temp dir (its own pg_hba.conf: `trust` for local and 127.0.0.1, `replication`
 * included), starts it on a free 127.0.0.1 port, `pg_basebackup -R -X stream`s a replica into a
 * second dir, starts it on another free port and waits until the primary shows it streaming.
 *
 * Both servers are stopped (`pg_ctl stop -m immediate`) and the dirs deleted whatever happens:
 * each step registers its own release before it runs, so a half-built pair is torn down too, and a
 * process-exit hook covers a worker that dies before the layer's scope closes. Anything missing
 * (binaries, `runuser`, the `postgres` OS user) fails the suite, naming it — never a skip.
 *
 * The binaries run as the `postgres` OS user (`runuser -u postgres --`) when we are root, as
 * ourselves otherwise. `PG15_BIN` overrides where the binaries are.
 */
import { PgClient } from "@effect/sql-pg"
import { execFile, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Context, Effect, Layer, Redacted, Schedule } from "effect"
import { SqlClient } from "effect/sql"

/** Where the PostgreSQL 15 binaries are (Debian/Ubuntu layout). */
export const PG_BIN = process.env["PG15_BIN"] ?? "/usr/lib/postgresql/15/bin"

/** The replica's `cluster_name`, which its walreceiver reports as `application_name`. */
export const REPLICA_NAME = "stage_lag_replica"

/** The primary's view of the replica (`pg_stat_replication`), lags in milliseconds (null: none measured). */
export interface ReplicaStatus {
  readonly state: string
  readonly writeLagMs: number | null
  readonly flushLagMs: number | null
  readonly replayLagMs: number | null
  /** The primary's current WAL position and the replica's replayed one. */
  readonly currentLsn: string
  readonly replayLsn: string | null
  /** Bytes of WAL the replica has received but not replayed yet, as the primary sees it. */
  readonly replayBehindBytes: number
}

/** The running pair. `SqlClient`/`PgClient` of the layer talk to the primary; `onReplica` to the replica. */
export class ReplicatedCluster extends Context.Service<ReplicatedCluster, {
  readonly dir: string
  readonly primaryUrl: string
  readonly replicaUrl: string
  /** Run `effect` with a `SqlClient` connected to the replica (read-only, hot standby). */
  readonly onReplica: <A, E, R>(
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E, Exclude<R, SqlClient.SqlClient | PgClient.PgClient>>
  /** The replica as the primary sees it; fails when it is not in `pg_stat_replication`. */
  readonly replicaStatus: Effect.Effect<ReplicaStatus, Error>
  /** The last lines of both servers' logs, for failure messages. */
  readonly logs: () => string
}>()("test/migration/ReplicatedCluster") {}

interface Identity {
  readonly asRoot: boolean
  readonly uid: number
  readonly gid: number
}

const fail = (message: string) => new Error(`ReplicatedCluster: ${message}`)

/** Everything the harness needs, checked up front: all missing pieces named in one error. */
const requirements = Effect.try({
  try: (): Identity => {
    const missing: Array<string> = []
    for (const bin of ["initdb", "pg_ctl", "pg_basebackup", "postgres"]) {
      try {
        fs.accessSync(path.join(PG_BIN, bin), fs.constants.X_OK)
      } catch {
        missing.push(`the PostgreSQL 15 binary ${path.join(PG_BIN, bin)} (set PG15_BIN to elsewhere)`)
      }
    }
    const asRoot = process.getuid?.() === 0
    let uid = process.getuid?.() ?? -1
    let gid = process.getgid?.() ?? -1
    if (asRoot) {
      if (spawnSync("runuser", ["--help"], { stdio: "ignore" }).error !== undefined) {
        missing.push("the runuser command (util-linux), to run the PostgreSQL binaries as the postgres OS user")
      }
      const u = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" })
      const g = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" })
      if (u.status !== 0 || g.status !== 0) missing.push("the postgres OS user (initdb refuses to run as root)")
      else {
        uid = Number(u.stdout.trim())
        gid = Number(g.stdout.trim())
      }
    }
    if (missing.length > 0) throw fail(`required and missing: ${missing.join("; ")}`)
    return { asRoot, uid, gid }
  },
  catch: (e) => (e instanceof Error ? e : fail(String(e)))
})

/**
 * A test that fails, naming what is missing, when the pair cannot be built here: the suite fails
 * loudly instead of reporting its tests as skipped (the layer's own failure only fails its hook).
 */
export const requireReplicatedCluster: Effect.Effect<void, Error> = Effect.asVoid(requirements)

/** Two distinct free ports on 127.0.0.1 (held open together so they differ). */
const freePorts = Effect.callback<readonly [number, number], Error>((resume) => {
  const a = net.createServer()
  const b = net.createServer()
  const onError = (e: Error) => {
    a.close()
    b.close()
    resume(Effect.fail(fail(`could not find a free port on 127.0.0.1: ${e.message}`)))
  }
  a.once("error", onError)
  b.once("error", onError)
  a.listen(0, "127.0.0.1", () =>
    b.listen(0, "127.0.0.1", () => {
      const pa = (a.address() as net.AddressInfo).port
      const pb = (b.address() as net.AddressInfo).port
      a.close(() => b.close(() => resume(Effect.succeed([pa, pb] as const))))
    }))
})

const tail = (file: string, lines = 25): string => {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n")
  } catch {
    return "(no log)"
  }
}

/** Run a PostgreSQL binary (as the postgres OS user when root); fails with its output. */
const pgTool = (who: Identity, cwd: string, bin: string, args: ReadonlyArray<string>, timeoutMs: number) =>
  Effect.callback<string, Error>((resume) => {
    const full = path.join(PG_BIN, bin)
    const [command, argv] = who.asRoot ? ["runuser", ["-u", "postgres", "--", full, ...args]] : [full, [...args]]
    const child = execFile(command, argv, { cwd, timeout: timeoutMs, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error === null) resume(Effect.succeed(stdout))
      else {
        const why = error.killed ? `killed after ${timeoutMs} ms` : `exit ${String(error.code)}`
        resume(Effect.fail(fail(`${bin} ${args.join(" ")} failed (${why}):\n${stdout}${stderr}`)))
      }
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** Stop a server fast; never fails (a server that never started is fine). */
const stopServer = (who: Identity, cwd: string, dataDir: string) =>
  pgTool(who, cwd, "pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "-t", "20", "stop"], 30_000).pipe(
    Effect.catch(() =>
      Effect.sync(() => {
        // pg_ctl could not stop it (or it was not running): signal the postmaster if there is one
        try {
          const pid = Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0])
          if (Number.isInteger(pid) && pid > 0) process.kill(pid, "SIGQUIT")
        } catch {
          // not running
        }
      })
    )
  )

/** The same, synchronously: for the process-exit hook, where nothing asynchronous runs. */
const stopServerSync = (who: Identity, dataDir: string) => {
  if (!fs.existsSync(path.join(dataDir, "postmaster.pid"))) return
  const full = path.join(PG_BIN, "pg_ctl")
  const args = ["-D", dataDir, "-m", "immediate", "-w", "-t", "10", "stop"]
  if (who.asRoot) spawnSync("runuser", ["-u", "postgres", "--", full, ...args], { stdio: "ignore", timeout: 15_000 })
  else spawnSync(full, args, { stdio: "ignore", timeout: 15_000 })
}

const appendConf = (dataDir: string, lines: ReadonlyArray<string>) =>
  Effect.try({
    try: () => fs.appendFileSync(path.join(dataDir, "postgresql.conf"), `\n# ReplicatedCluster\n${lines.join("\n")}\n`),
    catch: (e) => fail(`could not write ${dataDir}/postgresql.conf: ${String(e)}`)
  })

const pgClientLayer = (url: string) =>
  PgClient.layer({ url: Redacted.make(url), maxConnections: 4, connectTimeout: 5_000, applicationName: "replicated-cluster-test" })

/**
 * The primary's `SqlClient`/`PgClient` plus {@link ReplicatedCluster}. Built once per suite;
 * everything is stopped and deleted when the layer's scope closes.
 */
export const layerReplicatedCluster: Layer.Layer<ReplicatedCluster | PgClient.PgClient | SqlClient.SqlClient, Error> = Layer.unwrap(
  Effect.gen(function*() {
    const who = yield* requirements

    // the temp dir, owned by postgres (initdb creates the data dirs inside it); deleted last
    const dir = yield* Effect.acquireRelease(
      Effect.try({
        try: () => {
          const d = fs.mkdtempSync(path.join(os.tmpdir(), "stage-repl-"))
          fs.chmodSync(d, 0o700)
          if (who.asRoot) fs.chownSync(d, who.uid, who.gid)
          return d
        },
        catch: (e) => fail(`could not create a temp dir: ${String(e)}`)
      }),
      (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
    )
    const primaryDir = path.join(dir, "primary")
    const replicaDir = path.join(dir, "replica")
    const primaryLog = path.join(dir, "primary.log")
    const replicaLog = path.join(dir, "replica.log")
    const logs = () => `--- primary log (${primaryLog}):\n${tail(primaryLog)}\n--- replica log (${replicaLog}):\n${tail(replicaLog)}`
    const withLogs = (e: Error) => new Error(`${e.message}\n${logs()}`)

    // a worker that exits before the scope closes must not leave servers or dirs behind
    const onExit = () => {
      stopServerSync(who, replicaDir)
      stopServerSync(who, primaryDir)
      fs.rmSync(dir, { recursive: true, force: true })
    }
    yield* Effect.acquireRelease(Effect.sync(() => process.once("exit", onExit)), () => Effect.sync(() => process.off("exit", onExit)))

    const [primaryPort, replicaPort] = yield* freePorts
    const settings = [
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      "wal_level = replica",
      "max_wal_senders = 5",
      "hot_standby = on",
      // the standby reports its write/flush/replay positions every second (default 10 s), so the
      // primary's pg_stat_replication lags are at most ~1 s stale
      "wal_receiver_status_interval = 1",
      // no autovacuum: the only reason for the runner to back off is the replica
      "autovacuum = off",
      "fsync = off",
      "synchronous_commit = on",
      "log_min_messages = warning"
    ]

    yield* pgTool(who, dir, "initdb", ["-D", primaryDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], 60_000)
    yield* appendConf(primaryDir, [...settings, `port = ${primaryPort}`])
    yield* Effect.try({
      try: () =>
        fs.writeFileSync(
          path.join(primaryDir, "pg_hba.conf"),
          [
            "# ReplicatedCluster: trust on the unix socket and 127.0.0.1, replication included",
            "local   all          all                 trust",
            "host    all          all   127.0.0.1/32  trust",
            "local   replication  all                 trust",
            "host    replication  all   127.0.0.1/32  trust",
            ""
          ].join("\n")
        ),
      catch: (e) => fail(`could not write pg_hba.conf: ${String(e)}`)
    })

    // register the stop before starting: a start that fails half-way is stopped too
    yield* Effect.acquireRelease(Effect.void, () => stopServer(who, dir, primaryDir))
    yield* pgTool(who, dir, "pg_ctl", ["-D", primaryDir, "-l", primaryLog, "-w", "-t", "30", "start"], 40_000).pipe(Effect.mapError(withLogs))

    yield* pgTool(
      who,
      dir,
      "pg_basebackup",
      ["-h", "127.0.0.1", "-p", String(primaryPort), "-U", "postgres", "-D", replicaDir, "-R", "-X", "stream", "-c", "fast", "--no-sync"],
      60_000
    ).pipe(Effect.mapError(withLogs))
    // the base backup copied the primary's postgresql.conf: later lines override its port
    yield* appendConf(replicaDir, [`port = ${replicaPort}`, `cluster_name = '${REPLICA_NAME}'`])
    yield* Effect.acquireRelease(Effect.void, () => stopServer(who, dir, replicaDir))
    yield* pgTool(who, dir, "pg_ctl", ["-D", replicaDir, "-l", replicaLog, "-w", "-t", "30", "start"], 40_000).pipe(Effect.mapError(withLogs))

    const primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`
    const replicaUrl = `postgres://postgres@127.0.0.1:${replicaPort}/postgres`
    const primary = yield* Layer.build(pgClientLayer(primaryUrl)).pipe(Effect.mapError((e) => withLogs(fail(`primary: ${e.message}`))))
    const replica = yield* Layer.build(pgClientLayer(replicaUrl)).pipe(Effect.mapError((e) => withLogs(fail(`replica: ${e.message}`))))

    const replicaStatus = Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{
        state: string
        write_lag_ms: number | null
        flush_lag_ms: number | null
        replay_lag_ms: number | null
        current_lsn: string
        replay_lsn: string | null
        replay_behind_bytes: number
      }>`
        SELECT state,
               (extract(epoch FROM write_lag) * 1000)::float8 AS write_lag_ms,
               (extract(epoch FROM flush_lag) * 1000)::float8 AS flush_lag_ms,
               (extract(epoch FROM replay_lag) * 1000)::float8 AS replay_lag_ms,
               pg_current_wal_lsn()::text AS current_lsn,
               replay_lsn::text AS replay_lsn,
               coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::float8 AS replay_behind_bytes
        FROM pg_stat_replication WHERE application_name = ${REPLICA_NAME}`.pipe(
        Effect.mapError((e) => fail(`reading pg_stat_replication on the primary: ${e.message}`))
      )
      const row = rows[0]
      if (row === undefined) return yield* Effect.fail(fail(`the replica ${REPLICA_NAME} is not in the primary's pg_stat_replication`))
      return {
        state: row.state,
        writeLagMs: row.write_lag_ms,
        flushLagMs: row.flush_lag_ms,
        replayLagMs: row.replay_lag_ms,
        currentLsn: row.current_lsn,
        replayLsn: row.replay_lsn,
        replayBehindBytes: row.replay_behind_bytes
      } satisfies ReplicaStatus
    }).pipe(Effect.provide(primary))

    // streaming, as the primary sees it (the replica needs a moment to connect its walreceiver)
    yield* replicaStatus.pipe(
      Effect.filterOrFail((s) => s.state === "streaming", (s) => fail(`the replica is ${s.state}, not streaming`)),
      Effect.retry(Schedule.spaced("100 millis")),
      Effect.timeoutOrElse({
        duration: "20 seconds",
        orElse: () => Effect.fail(withLogs(fail("the replica was not streaming within 20 s")))
      })
    )

    const cluster = ReplicatedCluster.of({
      dir,
      primaryUrl,
      replicaUrl,
      onReplica: (effect) => Effect.provide(effect, replica),
      replicaStatus,
      logs
    })
    return Layer.succeedContext(primary).pipe(Layer.merge(Layer.succeed(ReplicatedCluster, cluster)))
  })
)
