#!/usr/bin/env bash
# consumer-test.sh — the package as a user installs it, outside the repository.
#
#   bash scripts/consumer-test.sh [--node DIR]... [--update-baseline]
#
# 1. builds and packs the package (npm pack);
# 2. in a temporary folder outside the repository, installs only the tarball and effect (the one
#    required peer), and checks that no repository folder is on the resolution path and that no
#    optional peer came along;
# 3. per Node (each --node DIR holds a `node` binary; default: the `node` on PATH):
#    - imports every entry in ESM and CommonJS (root, /normalizer, /rollout, /http,
#      /observability, /migration);
#    - builds the Redis, PostgreSQL and embedded-database layers and expects the typed
#      MissingPeerDependencyError naming the package to install;
#    - runs the CLI through npx: --help, normalize "Series A", migrate --help, and a real
#      migrate --apply + verify against the PostgreSQL at CONSUMER_PG_URL
#      (default postgres://postgres@127.0.0.1:5432/postgres; a scratch database is created);
#      mode set + status --svg against the real Redis (REDIS_URL; a scratch key prefix);
# 4. type-checks a consumer file of the minimal entries under moduleResolution nodenext and
#    bundler with skipLibCheck false;
# 5. installs the optional peers (@effect/platform-node, @effect/sql-pg, redis) and express, then
#    per Node: the Redis store against the real Redis (REDIS_URL, default redis://127.0.0.1:6379)
#    and the PostgreSQL layer against the real server work, and the examples run from that folder;
#    a consumer file of every entry type-checks, and so does every ```ts block of README.md and
#    docs/*.md (scripts/doc-blocks.ts), each as its own module, skipLibCheck false;
# 6. prints the packed size and the install footprint of the minimal install and compares them
#    with baselines/package-size.json (fails above +10 %; --update-baseline rewrites it).
#
# Exit 0 when every check passed; the last line is "consumer test: N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD

nodes=()
update=0
while [ $# -gt 0 ]; do
  case "$1" in
    --node) nodes+=("$2"); shift 2 ;;
    --update-baseline) update=1; shift ;;
    *) echo "consumer-test: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#nodes[@]} -eq 0 ] && nodes=("$(dirname "$(command -v node)")")

pg_url=${CONSUMER_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379}
effect_version=$(node -p 'require("./node_modules/effect/package.json").version')
work=$(mktemp -d /tmp/stage-normalization-consumer.XXXXXX)
consumer=$work/consumer
mkdir -p "$consumer"
passed=0
failed=0
trap 'rm -rf "$work"' EXIT

check() {
  local name=$1
  shift
  local log="$work/check.log"
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    printf '  ok    %s\n' "$name"
  else
    failed=$((failed + 1))
    printf '  FAIL  %s\n' "$name"
    sed 's/^/        /' "$log" | tail -40
  fi
}

echo "=== build and pack"
npm run build --silent >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
npm pack --silent --json --pack-destination "$work" >"$work/pack.json" || exit 1
tarball=$work/$(node -p 'require(process.argv[1])[0].filename' "$work/pack.json")
packed=$(node -p 'require(process.argv[1])[0].size' "$work/pack.json")
unpacked=$(node -p 'require(process.argv[1])[0].unpackedSize' "$work/pack.json")
echo "  $(basename "$tarball"): $packed bytes packed, $unpacked bytes unpacked"

echo "=== minimal install: the tarball and effect@$effect_version, nothing else"
cat >"$consumer/package.json" <<'JSON'
{ "name": "stage-normalization-consumer", "version": "1.0.0", "private": true }
JSON
(cd "$consumer" && npm install --no-audit --no-fund --loglevel=error "$tarball" "effect@$effect_version") || exit 1
footprint=$(du -sb "$consumer/node_modules" | cut -f1)
packages=$(find "$consumer/node_modules" -name package.json -path '*/node_modules/*/package.json' -not -path '*/node_modules/*/node_modules/*/*' | wc -l)
echo "  install footprint: $footprint bytes in $packages packages"

resolution_outside_repo() {
  local paths
  paths=$(cd "$consumer" && node -p "require.resolve.paths('x').join('\n')")
  echo "$paths"
  ! grep -q "^$repo" <<<"$paths"
}
no_optional_peers() {
  local found=0
  for p in @effect/platform-node @effect/sql-pg redis @electric-sql/pglite @electric-sql/pglite-socket; do
    if [ -e "$consumer/node_modules/$p" ]; then echo "installed without being asked: $p"; found=1; fi
  done
  [ $found -eq 0 ]
}
check "no optional peer was installed" no_optional_peers

entries=$(node -e '
for (const k of Object.keys(require("./package.json").exports))
  if (k !== "./package.json") console.log("stage-normalization" + k.slice(1))')

cat >"$consumer/entries.mjs" <<'JS'
const failures = []
for (const entry of process.argv.slice(2)) {
  try {
    const m = await import(entry)
    console.log(`${entry.padEnd(36)} ok (${Object.keys(m).length} exports)`)
  } catch (e) {
    failures.push(entry)
    console.log(`${entry.padEnd(36)} ${e.code ?? ""} ${e.message.split("\n")[0]}`)
  }
}
process.exit(failures.length === 0 ? 0 : 1)
JS
cat >"$consumer/entries.cjs" <<'JS'
let failed = 0
for (const entry of process.argv.slice(2)) {
  try {
    const m = require(entry)
    console.log(`${entry.padEnd(36)} ok (${Object.keys(m).length} exports)`)
  } catch (e) {
    failed++
    console.log(`${entry.padEnd(36)} ${e.code ?? ""} ${e.message.split("\n")[0]}`)
  }
}
process.exit(failed === 0 ? 0 : 1)
JS
cat >"$consumer/missing-peers.mjs" <<'JS'
// Every driver-backed layer, built without its optional peer: a typed error naming the package.
import { Effect, Layer } from "effect"
import { BACKFILL_PENDING, BackfillStatus, DEFAULT_DOCUMENT, ModeStore } from "stage-normalization/rollout"
import { EmbeddedPostgres, layerFromUrl } from "stage-normalization/migration"
const cases = [
  ["ModeStore.layerRedis", ModeStore.layerRedis({ initial: DEFAULT_DOCUMENT, redis: { url: process.env.REDIS_URL } })
    .pipe(Layer.provide(BackfillStatus.layerMemory(BACKFILL_PENDING))), "@effect/platform-node"],
  ["layerFromUrl", layerFromUrl(process.env.PG_URL), "@effect/sql-pg"],
  ["EmbeddedPostgres.layer", EmbeddedPostgres.layer(), "@electric-sql/pglite"]
]
let bad = 0
for (const [name, layer, expected] of cases) {
  const error = await Effect.runPromise(Effect.flip(Layer.build(layer).pipe(Effect.scoped)))
  const ok = error._tag === "MissingPeerDependencyError" && error.missing === expected && error.message.includes("npm install")
  if (!ok) bad++
  console.log(`${name}: ${ok ? "ok" : "UNEXPECTED"} ${error._tag}: ${error.message}`)
}
process.exit(bad)
JS
cat >"$consumer/standard-schema.mjs" <<'JS'
// The Standard Schema V1 exports validate without any Effect code on the host's side.
import { StageStandardSchema } from "stage-normalization"
import { StageDistributionStandardSchema } from "stage-normalization/normalizer"
const stage = StageStandardSchema["~standard"].validate("Series A")
const bad = StageDistributionStandardSchema["~standard"].validate({ "series-x": 0.5, seed: 0.5 })
console.log(JSON.stringify(stage), JSON.stringify(bad))
process.exit(stage.value === "series-a" && bad.issues?.length === 1 && bad.issues[0].path[0] === "series-x" ? 0 : 1)
JS
cat >"$consumer/with-peers.mjs" <<'JS'
// With the optional peers installed: the Redis store and the PostgreSQL layer work for real.
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { createModeStoreClient, DEFAULT_DOCUMENT } from "stage-normalization/rollout"
import { layerFromUrl } from "stage-normalization/migration"
const prefix = `stage-normalization-consumer:${process.pid}`
const store = await createModeStoreClient({ initial: DEFAULT_DOCUMENT, redis: { url: process.env.REDIS_URL }, prefix })
const { document } = await store.modify({ actor: "consumer-test", reason: "smoke", update: (d) => ({ ...d, enforcementPercent: 7 }) })
const history = await store.history(5)
await store.close()
const reopened = await createModeStoreClient({ initial: DEFAULT_DOCUMENT, redis: { url: process.env.REDIS_URL }, prefix })
const shared = reopened.current().enforcementPercent
await reopened.close()
const rows = await Effect.runPromise(
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql`SELECT 41 + 1 AS answer`
  }).pipe(Effect.provide(Layer.fresh(layerFromUrl(process.env.PG_URL, { maxConnections: 1 }))))
)
const { createClient } = await import("redis")
const redis = await createClient({ url: process.env.REDIS_URL }).connect()
await redis.del([`${prefix}:document`, `${prefix}:history`])
await redis.close()
console.log(`redis store: v${document.version}, ${history.length} audit entries, a second client reads ${shared} %`)
console.log(`postgres layer: answer ${rows[0].answer}`)
process.exit(document.enforcementPercent === 7 && shared === 7 && history.length > 0 && rows[0].answer === 42 ? 0 : 1)
JS
cat >"$consumer/minimal.ts" <<'TS'
// Every entry that loads with effect alone, as a host would use it.
import { Effect, Layer, Schema } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import {
  type CanonicalStage,
  createStageValidationHandler,
  normalizeStage,
  parseStageDistribution,
  StageStandardSchema
} from "stage-normalization"
import { NormalizedStages, StageBoundary, StageLocation, withStageValidation } from "stage-normalization/http"
import { Stage, StageDistributionStandardSchema, Vocabulary } from "stage-normalization/normalizer"
import { registerMetricCatalogue, validationsTotal } from "stage-normalization/observability"
import {
  BACKFILL_PENDING,
  BackfillStatus,
  createModeStoreClient,
  DEFAULT_DOCUMENT,
  getValidationDecision,
  MissingPeerDependencyError,
  ModeStore,
  ModeStoreError
} from "stage-normalization/rollout"

const result = normalizeStage("Series A")
export const stage: string = result._tag === "Canonical" ? result.stage : "unknown"
export const valid: boolean = parseStageDistribution({ seed: 0.5, "Series A": 0.5 }).isValid
export const decision = getValidationDecision(DEFAULT_DOCUMENT, { method: "POST", path: "/x", requestId: "r" })
export const vocabulary = Vocabulary.make({ canonical: ["a", "b"], aliases: [] })
export const decoded = Schema.decodeUnknownSync(Stage)("Series C Plus")
// Standard Schema V1's shape (a host's validator library declares the same), without depending on it
type Result<Out> = { readonly value: Out } | { readonly issues: ReadonlyArray<{ readonly message: string }> }
type StandardSchema<In, Out> = { readonly "~standard": { readonly version: 1; readonly vendor: string;
  readonly validate: (value: unknown) => Result<Out> | Promise<Result<Out>>;
  readonly types?: { readonly input: In; readonly output: Out } | undefined } }
export const standardStage: StandardSchema<string, CanonicalStage> = StageStandardSchema
export const standardDistribution: StandardSchema<unknown, ReadonlyArray<{ readonly stage: CanonicalStage; readonly weight: number }>> =
  StageDistributionStandardSchema
export const handler = createStageValidationHandler({ endpoint: "/x", location: StageLocation.bodyStage("stage"), current: () => DEFAULT_DOCUMENT })
const createForecast = Effect.gen(function*() {
  const { stages } = yield* NormalizedStages
  return HttpServerResponse.jsonUnsafe({ stages }, { status: 201 })
})
export const route = HttpRouter.add(
  "POST",
  "/x",
  createForecast.pipe(withStageValidation({ endpoint: "/x", location: StageLocation.bodyDistribution() }))
)
export const layer: Layer.Layer<ModeStore | StageBoundary, MissingPeerDependencyError | ModeStoreError> = StageBoundary.layerEffect(
  ModeStore.use((store) => Effect.succeed(store.current))
).pipe(
  Layer.provideMerge(ModeStore.layerRedis({ initial: DEFAULT_DOCUMENT }).pipe(Layer.provide(BackfillStatus.layerMemory(BACKFILL_PENDING))))
)
export const metrics = [registerMetricCatalogue, validationsTotal] as const
export const client = createModeStoreClient({ initial: DEFAULT_DOCUMENT })
TS
cat >"$consumer/full.ts" <<'TS'
// The migration entry too, with its optional peers installed.
import { Effect } from "effect"
import { layerFromUrl, migrate, verify, type VerifyReport } from "stage-normalization/migration"
export const program: Effect.Effect<VerifyReport, unknown> = Effect.gen(function*() {
  yield* migrate({ table: "portfolio_companies", column: "stage" })
  return yield* verify({ target: { table: "portfolio_companies", column: "stage" } })
}).pipe(Effect.provide(layerFromUrl("postgres://127.0.0.1/x")))
TS
# TypeScript and @types/node live in a tools folder of their own, so that later installs into the
# consumer (npm prunes what it did not save) cannot remove them. "DOM" in lib: effect's own
# declarations name the Web Crypto types (CryptoKey, JsonWebKey) that @types/node does not declare.
tools=$work/tools
tsconfig() { # $1 module, $2 moduleResolution, $3 file
  cat <<JSON
{ "compilerOptions": { "target": "ES2023", "lib": ["ES2023", "DOM"], "module": "$1", "moduleResolution": "$2",
  "strict": true, "exactOptionalPropertyTypes": true, "skipLibCheck": false, "noEmit": true,
  "types": ["node"], "typeRoots": ["$tools/node_modules/@types"] }, "files": ["$3"] }
JSON
}
tsconfig NodeNext NodeNext minimal.ts >"$consumer/tsconfig.minimal.nodenext.json"
tsconfig ESNext Bundler minimal.ts >"$consumer/tsconfig.minimal.bundler.json"
tsconfig NodeNext NodeNext full.ts >"$consumer/tsconfig.full.nodenext.json"
tsconfig ESNext Bundler full.ts >"$consumer/tsconfig.full.bundler.json"

# a scratch database and table for the CLI's migrate + verify
scratch_db="sn_consumer_$$"
scratch_url=$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.href)' "$pg_url" "$scratch_db")
psql -q "$pg_url" -c "CREATE DATABASE $scratch_db" >/dev/null || exit 1
trap 'psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $scratch_db" >/dev/null 2>&1; rm -rf "$work"' EXIT
seed_table() {
  psql -q "$scratch_url" -c "DROP TABLE IF EXISTS portfolio_companies CASCADE; DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;
    CREATE TABLE portfolio_companies (id bigserial PRIMARY KEY, fund_id int NOT NULL, stage text);
    INSERT INTO portfolio_companies (fund_id, stage)
      SELECT i % 3, (ARRAY['Series A','seed','growth','pre_seed','series-b'])[1 + i % 5] FROM generate_series(1, 500) i" >/dev/null
}

cli_help() { (cd "$consumer" && npx --no-install stage-normalization --help | grep -q "migrate"); }
cli_normalize() { (cd "$consumer" && npx --no-install stage-normalization normalize "Series A" | tee /dev/stderr | grep -q "series-a"); }
cli_migrate_help() { (cd "$consumer" && npx --no-install stage-normalization migrate --help | grep -q -- "--apply"); }
cli_migrate_verify() {
  seed_table || return 1
  (cd "$consumer" &&
    npx --no-install stage-normalization migrate --apply --no-backup-check --database-url "$scratch_url" --json | tail -1 &&
    npx --no-install stage-normalization verify --database-url "$scratch_url")
}
cli_serve_without_pglite() { # the embedded database is an optional peer: a clear message, exit 2
  local code=0
  (cd "$consumer" && env -u DATABASE_URL npx --no-install stage-normalization serve --port 0 >"$work/serve.out" 2>&1) || code=$?
  cat "$work/serve.out"
  [ "$code" -eq 2 ] && grep -q "npm install @electric-sql/pglite@" "$work/serve.out"
}
cli_serve_postgres() { # with --database-url it needs nothing more: starts, answers, stops on SIGTERM
  local log=$work/serve-pg.out pid
  # the service owns its demo tables: a schema of its own, not the migrated table's
  psql -q "$scratch_url" -c "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public" >/dev/null 2>&1 || return 1
  # The installed bin itself (what npx runs), exec'd so that $! is the service: through npx the
  # SIGTERM reached npx only, and the service outlived the test (found running hours later).
  (cd "$consumer" && exec ./node_modules/.bin/stage-normalization serve --port 0 --database-url "$scratch_url") >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -q "http://127.0.0.1:" "$log" && break; sleep 0.1; done
  local url
  url=$(grep -o "http://127.0.0.1:[0-9]*" "$log" | head -1)
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")
  kill -TERM "$pid" 2>/dev/null
  local stopped=no
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || { stopped=yes; break; }; sleep 0.1; done
  [ "$stopped" = yes ] || kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  head -5 "$log"
  echo "GET $url/healthz → $status; stopped within 10 s of SIGTERM: $stopped"
  [ "$status" = "200" ] && [ "$stopped" = yes ]
}
cli_status_svg() { # the timeline's d3 modules are bundled into the CLI: status --svg from the tarball, real Redis
  local prefix=consumer-svg-$$-$RANDOM out=$work/rollout.svg
  redis-cli -u "$redis_url" SET "$prefix:document" '{"defaultMode":"warn","version":1}' >/dev/null || return 1
  (cd "$consumer" &&
    npx --no-install stage-normalization mode set --redis-url "$redis_url" --prefix "$prefix" --dry-run on \
      --actor consumer-test --reason "status --svg from the tarball" &&
    npx --no-install stage-normalization status --redis-url "$redis_url" --prefix "$prefix" --svg "$out")
  local code=$?
  redis-cli -u "$redis_url" DEL "$prefix:document" "$prefix:history" >/dev/null
  [ "$code" -eq 0 ] && head -c 300 "$out" && grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$out" &&
    grep -q 'class="mode-change"' "$out" && grep -q 'class="metrics-unavailable"' "$out"
}
typecheck() { (cd "$consumer" && "$tools/node_modules/.bin/tsc" -p "$1"); }

# Each Node runs from a copy outside the repository: a node binary inside it would put
# <repo>/.tools/…/lib/node on the module resolution path.
copies=()
for dir in "${nodes[@]}"; do
  copy=$work/node-$(("${#copies[@]}" + 1))/bin
  mkdir -p "$copy" && cp "$dir/node" "$copy/node" || exit 1
  copies+=("$copy")
done
nodes=("${copies[@]}")
export PATH="${nodes[0]}:$PATH"
check "resolution paths stay outside the repository" resolution_outside_repo

for dir in "${nodes[@]}"; do
  version=$("$dir/node" --version)
  echo "=== Node $version, minimal install"
  (
    export PATH="$dir:$PATH"
    cd "$consumer"
    check "ESM: import every entry" node entries.mjs $entries
    check "CommonJS: require every entry" node entries.cjs $entries
    check "Standard Schema V1 exports validate (root and /normalizer)" node standard-schema.mjs
    check "layers without their optional peers fail with MissingPeerDependencyError" \
      env REDIS_URL="$redis_url" PG_URL="$pg_url" node missing-peers.mjs
    check "npx stage-normalization --help" cli_help
    check "npx stage-normalization normalize \"Series A\"" cli_normalize
    check "npx stage-normalization migrate --help" cli_migrate_help
    check "npx stage-normalization migrate --apply + verify on the real PostgreSQL" cli_migrate_verify
    check "stage-normalization serve --database-url (no optional peer needed), stops on SIGTERM" cli_serve_postgres
    check "npx stage-normalization serve without PGlite: exit 2 naming the packages" cli_serve_without_pglite
    check "npx stage-normalization status --svg on the real Redis (the timeline's d3 modules are in the CLI)" cli_status_svg
    echo "$passed $failed" >"$work/counts"
  )
  read -r passed failed <"$work/counts"
done

echo "=== type-check the minimal consumer (skipLibCheck false)"
npm install --prefix "$tools" --no-audit --no-fund --loglevel=error --no-save typescript@6.0.3 @types/node@24 @types/express@5 >/dev/null || exit 1
check "minimal.ts, moduleResolution nodenext" typecheck tsconfig.minimal.nodenext.json
check "minimal.ts, moduleResolution bundler" typecheck tsconfig.minimal.bundler.json

echo "=== with the optional peers installed"
peers=$(node -e 'const p = require("./package.json"); for (const n of ["@effect/platform-node", "@effect/sql-pg", "redis"]) console.log(`${n}@${p.peerDependencies[n]}`)')
# shellcheck disable=SC2086
(cd "$consumer" && npm install --no-audit --no-fund --loglevel=error --no-save $peers express@5 @types/express@5) >/dev/null || exit 1
cp examples/*.ts "$consumer/"
cp -r examples/express "$consumer/express"
check "full.ts (every entry), moduleResolution nodenext" typecheck tsconfig.full.nodenext.json
check "full.ts (every entry), moduleResolution bundler" typecheck tsconfig.full.bundler.json
# Every ```ts block of README.md and docs/*.md, one module each, as a reader would paste it
# (scripts/doc-blocks.ts; a block marked `<!-- typecheck: skip REASON -->` is left out).
# ESM, as in a host with "type": "module" (several blocks await at the top level).
node scripts/doc-blocks.ts extract-ts "$consumer/doc-blocks" || exit 1
echo '{ "type": "module" }' >"$consumer/doc-blocks/package.json"
for mode in "NodeNext NodeNext nodenext" "ESNext Bundler bundler"; do
  set -- $mode
  cat >"$consumer/tsconfig.doc-blocks.$3.json" <<JSON
{ "compilerOptions": { "target": "ES2023", "lib": ["ES2023", "DOM"], "module": "$1", "moduleResolution": "$2",
  "strict": true, "exactOptionalPropertyTypes": true, "skipLibCheck": false, "noEmit": true,
  "types": ["node"], "typeRoots": ["$tools/node_modules/@types"] }, "include": ["doc-blocks/*.ts"] }
JSON
  check "README.md and docs/*.md TypeScript blocks, moduleResolution $3" typecheck "tsconfig.doc-blocks.$3.json"
done
for dir in "${nodes[@]}"; do
  version=$("$dir/node" --version)
  echo "=== Node $version, with the optional peers"
  (
    export PATH="$dir:$PATH"
    cd "$consumer"
    check "the Redis store and the PostgreSQL layer against the real services" \
      env REDIS_URL="$redis_url" PG_URL="$pg_url" node with-peers.mjs
    for example in "$repo"/examples/*.ts "$repo"/examples/*/index.ts; do
      name=${example#"$repo"/examples/}
      check "example $name" env DATABASE_URL="$pg_url" REDIS_URL="$redis_url" timeout 120 node "$name"
    done
    echo "$passed $failed" >"$work/counts"
  )
  read -r passed failed <"$work/counts"
done

echo "=== size"
node - "$packed" "$unpacked" "$footprint" "$packages" "$update" <<'JS' || failed=$((failed + 1))
const fs = require("node:fs")
const [packed, unpacked, footprint, packages, update] = process.argv.slice(2).map(Number)
const path = "baselines/package-size.json"
const now = { packedBytes: packed, unpackedBytes: unpacked, minimalInstall: { bytes: footprint, packages } }
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`
console.log(`  packed ${kib(packed)}, unpacked ${kib(unpacked)}; minimal install (package + effect) ${kib(footprint)} in ${packages} packages`)
if (update === 1 || !fs.existsSync(path)) {
  fs.writeFileSync(path, JSON.stringify({ ...now, note: "bash scripts/consumer-test.sh --update-baseline rewrites this; CI fails above +10 %" }, null, 2) + "\n")
  console.log(`  wrote ${path}`)
  process.exit(0)
}
const base = JSON.parse(fs.readFileSync(path, "utf8"))
const rows = [["packed", packed, base.packedBytes], ["unpacked", unpacked, base.unpackedBytes], ["minimal install", footprint, base.minimalInstall.bytes]]
let over = 0
for (const [name, value, was] of rows) {
  const ratio = value / was
  console.log(`  ${name}: ${kib(value)} (baseline ${kib(was)}, ${ratio.toFixed(3)}×)`)
  if (ratio > 1.1) over++
}
if (base.minimalInstall.packages !== packages) console.log(`  minimal install packages: ${packages} (baseline ${base.minimalInstall.packages})`)
if (over > 0 || packages > base.minimalInstall.packages) {
  console.log("  FAIL: the package or its minimal install grew; if that is intended, rerun with --update-baseline")
  process.exit(1)
}
JS

printf '\nconsumer test: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
