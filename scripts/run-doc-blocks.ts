/**
 * Runs the shell blocks of README.md and docs/*.md marked `<!-- runnable … -->` (scripts/doc-blocks.ts
 * says what a marker may ask for), as a reader would type them, and fails when one does not work:
 *
 * - `stage-normalization` on PATH is the CLI from this clone (`node src/cli/bin.ts`);
 * - `DATABASE_URL` is a scratch database (created on DOC_BLOCKS_PG_URL's server, default
 *   postgres://postgres@127.0.0.1:5432/postgres, dropped at the end) holding, afresh for each
 *   block, a seeded `portfolio_companies (id, fund_id, stage)` table of 500 rows, half of them
 *   non-canonical, and nothing else;
 * - a block marked `service` runs against the reference service, started by this script with
 *   `npm start` and the marker's environment on a second scratch database, the Redis on REDIS_URL (default
 *   redis://127.0.0.1:6379) under a fresh key prefix, and a free port (the block's
 *   `localhost:3333` is rewritten to it); the script waits for `/readyz` and stops it with SIGTERM
 *   to its process group;
 * - each block runs with `bash -e -o pipefail` in a scratch folder of its own and must exit 0 and print every
 *   `expect` text of its marker (case-insensitive).
 *
 *   node scripts/run-doc-blocks.ts [FILE:LINE…]   # all runnable blocks, or the ones named
 *
 * The last line is "doc blocks: N passed, N failed"; the exit code is 1 when anything failed.
 * Every Redis key under the script's prefixes is deleted at the end.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createClient } from "redis"
import { type DocBlock, isShell, readBlocks, repoRoot, runnableSpec, type RunnableSpec } from "./doc-blocks.ts"

const pgServer = process.env["DOC_BLOCKS_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"
const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"
const bin = join(repoRoot, "src/cli/bin.ts")
const runId = `${process.pid}_${Date.now().toString(36)}`
const prefixRoot = `stage-normalization-doc-blocks:${runId}`
const BLOCK_TIMEOUT_MS = 90_000

const databaseUrl = (name: string): string => {
  const url = new URL(pgServer)
  url.pathname = `/${name}`
  return url.href
}

const psql = (url: string, sql: string): void => {
  const r = spawnSync("psql", ["-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], { encoding: "utf8" })
  if (r.status !== 0) throw new Error(`psql: ${r.stderr || r.error?.message}`)
}

// Every block starts from the same database: the seeded table, no tracking tables, no SQL twin.
const SEED = `DROP SCHEMA IF EXISTS stage_normalization CASCADE; DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;
CREATE TABLE portfolio_companies (id bigserial PRIMARY KEY, fund_id int NOT NULL, stage text);
INSERT INTO portfolio_companies (fund_id, stage)
  SELECT i % 3, (ARRAY['Series A', 'seed', 'growth', 'pre_seed', 'series-b', 'series-a'])[1 + i % 6] FROM generate_series(1, 500) i`

interface Service {
  readonly child: ChildProcess
  readonly origin: string
  readonly output: () => string
}

const waitFor = async (what: string, timeoutMs: number, check: () => Promise<boolean> | boolean): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

const startService = async (spec: RunnableSpec, database: string, prefix: string): Promise<Service> => {
  // `npm start`, as the README says, in a process group of its own: the stop signal goes to the
  // group, so it reaches the service whatever npm does with signals
  const child = spawn("npm", ["start", "--silent", "--", "--port", "0", "--database-url", database], {
    cwd: repoRoot,
    detached: true,
    env: { ...process.env, NO_COLOR: "1", REDIS_URL: redisUrl, STAGE_VALIDATION_REDIS_PREFIX: prefix, ...spec.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (output += d))
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (output += d))
  let origin = ""
  await waitFor("the service's URL", 60_000, () => {
    if (child.exitCode !== null) throw new Error(`the service exited ${child.exitCode}:\n${output}`)
    origin = /http:\/\/127\.0\.0\.1:\d+/.exec(output)?.[0] ?? ""
    return origin !== ""
  })
  await waitFor("/readyz 200", 30_000, () => fetch(`${origin}/readyz`).then((r) => r.ok, () => false))
  return { child, origin, output: () => output }
}

const stopService = async (service: Service): Promise<void> => {
  if (service.child.exitCode !== null) return
  const group = -service.child.pid!
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(group, name)
    } catch {
      // the group is gone already
    }
  }
  const exited = new Promise((resolve) => service.child.once("exit", resolve))
  signal("SIGTERM")
  const timer = setTimeout(() => signal("SIGKILL"), 15_000)
  await exited
  clearTimeout(timer)
}

interface Context {
  readonly shims: string
  readonly work: string
  readonly cliDatabase: string
  readonly serviceDatabase: string
}

const runShell = (code: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn("bash", ["-e", "-o", "pipefail", "-c", code], { cwd, env, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), BLOCK_TIMEOUT_MS)
    child.on("close", (status) => {
      clearTimeout(timer)
      resolve({ status, output })
    })
  })

/** Runs one block; returns what went wrong, or undefined when it worked as written. */
const runBlock = async (block: DocBlock, spec: RunnableSpec, ctx: Context, index: number): Promise<string | undefined> => {
  const prefix = `${prefixRoot}:${index}`
  let service: Service | undefined
  let code = block.code
  try {
    if (spec.service) {
      // a fresh schema per service: the service owns its demo tables
      psql(ctx.serviceDatabase, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
      service = await startService(spec, ctx.serviceDatabase, prefix)
      code = code.replaceAll(/http:\/\/(?:localhost|127\.0\.0\.1):3333/g, service.origin)
    }
    const env = {
      ...process.env,
      NO_COLOR: "1",
      PATH: `${ctx.shims}:${process.env["PATH"] ?? ""}`,
      DATABASE_URL: ctx.cliDatabase,
      REDIS_URL: redisUrl,
      STAGE_VALIDATION_REDIS_PREFIX: prefix
    }
    psql(ctx.cliDatabase, SEED)
    const cwd = join(ctx.work, `block-${index}`)
    mkdirSync(cwd)
    const { status, output } = await runShell(code, cwd, env)
    const lower = output.toLowerCase()
    const missing = spec.expect.filter((text) => !lower.includes(text.toLowerCase()))
    if (status === 0 && missing.length === 0) return undefined
    const why = status !== 0 ? `exit ${status}` : `output lacks ${missing.map((t) => JSON.stringify(t)).join(", ")}`
    const tail = service === undefined ? "" : `\n--- service output (tail)\n${service.output().split("\n").slice(-20).join("\n")}`
    return `${why}\n--- block output (tail)\n${output.split("\n").slice(-40).join("\n")}${tail}`
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  } finally {
    if (service !== undefined) await stopService(service)
  }
}

const deleteRedisKeys = async (): Promise<number> => {
  const redis = await createClient({ url: redisUrl }).connect()
  let deleted = 0
  for await (const keys of redis.scanIterator({ MATCH: `${prefixRoot}:*`, COUNT: 500 })) {
    if (keys.length > 0) deleted += await redis.del(keys)
  }
  await redis.close()
  return deleted
}

const selected = (filters: ReadonlyArray<string>) =>
  readBlocks().flatMap((block) => {
    const spec = isShell(block) ? runnableSpec(block) : undefined
    if (spec === undefined) return []
    if (filters.length > 0 && !filters.includes(`${block.file}:${block.line}`)) return []
    return [{ block, spec }]
  })

const main = async (): Promise<number> => {
  const blocks = selected(process.argv.slice(2))
  const work = mkdtempSync(join(tmpdir(), "stage-normalization-doc-blocks-"))
  const shims = join(work, "bin")
  mkdirSync(shims)
  writeFileSync(join(shims, "stage-normalization"), `#!/usr/bin/env bash\nexec "${process.execPath}" "${bin}" "$@"\n`)
  chmodSync(join(shims, "stage-normalization"), 0o755)
  const names = [`sn_doc_blocks_${runId}`, `sn_doc_blocks_service_${runId}`]
  const ctx: Context = { shims, work, cliDatabase: databaseUrl(names[0]!), serviceDatabase: databaseUrl(names[1]!) }
  let passed = 0
  let failed = 0
  try {
    for (const name of names) psql(pgServer, `CREATE DATABASE ${name}`)
    for (const [index, { block, spec }] of blocks.entries()) {
      const started = Date.now()
      const problem = await runBlock(block, spec, ctx, index)
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      if (problem === undefined) passed++
      else failed++
      console.log(`${problem === undefined ? "  ok  " : "  FAIL"}  ${block.file}:${block.line} (${seconds} s)`)
      if (problem !== undefined) console.log(problem.replace(/^/gm, "        "))
    }
  } finally {
    for (const name of names) {
      try {
        psql(pgServer, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } catch (e) {
        console.error(`could not drop ${name}: ${String(e)}`)
      }
    }
    const deleted = await deleteRedisKeys().catch(() => 0)
    console.log(`cleaned up: scratch databases dropped, ${deleted} Redis keys under ${prefixRoot} deleted`)
    rmSync(work, { recursive: true, force: true })
  }
  console.log(`doc blocks: ${passed} passed, ${failed} failed`)
  return blocks.length === 0 || failed > 0 ? 1 : 0
}

process.exitCode = await main()
