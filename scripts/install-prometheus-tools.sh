#!/usr/bin/env bash
# install-prometheus-tools.sh — make promtool, prometheus, amtool and alertmanager available.
#
# Installs Debian's `prometheus` (promtool, prometheus) and `prometheus-alertmanager` (amtool,
# prometheus-alertmanager) when a tool is missing. Idempotent: does nothing when all four are on
# PATH. Works as root on a fresh Debian machine (runs `apt-get update` once when needed), or
# through sudo. The packages' own services are NOT started (policy-rc.d refuses, and we never
# enable them): the tests start their own processes on 127.0.0.1.
#
# Prints the tool versions on stdout. Exit 1 when an install fails.
set -euo pipefail

tools=(promtool prometheus amtool)
missing_pkgs=()
command -v promtool >/dev/null && command -v prometheus >/dev/null || missing_pkgs+=(prometheus)
command -v amtool >/dev/null && { command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null; } ||
  missing_pkgs+=(prometheus-alertmanager)

if ((${#missing_pkgs[@]} > 0)); then
  if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null; then
    SUDO=(sudo -n)
  else
    echo "install-prometheus-tools: need root (or sudo) to apt-get install ${missing_pkgs[*]}" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null; then
    echo "install-prometheus-tools: apt-get not found; install ${missing_pkgs[*]} by hand" >&2
    exit 1
  fi
  echo "install-prometheus-tools: installing ${missing_pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Never start the packaged daemons: a policy-rc.d that refuses every start, for the install only.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    added_policy=1
  fi
  cleanup() { if ((added_policy)); then "${SUDO[@]}" rm -f "$policy"; fi; }
  trap cleanup EXIT
  if ! "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing_pkgs[@]}" >/tmp/install-prometheus-tools.log 2>&1; then
    "${SUDO[@]}" apt-get update >>/tmp/install-prometheus-tools.log 2>&1
    "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing_pkgs[@]}" >>/tmp/install-prometheus-tools.log 2>&1 || {
      tail -20 /tmp/install-prometheus-tools.log >&2
      echo "install-prometheus-tools: apt-get install ${missing_pkgs[*]} failed (log: /tmp/install-prometheus-tools.log)" >&2
      exit 1
    }
  fi
  # The packages enable their services for the next boot; this machine runs our own processes.
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl disable --now prometheus prometheus-node-exporter prometheus-alertmanager >/dev/null 2>&1 || true
  fi
fi

command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null ||
  { echo "install-prometheus-tools: alertmanager still missing" >&2; exit 1; }
for t in "${tools[@]}"; do
  command -v "$t" >/dev/null || { echo "install-prometheus-tools: $t still missing" >&2; exit 1; }
done
promtool --version 2>&1 | head -1
amtool --version 2>&1 | head -1
