#!/usr/bin/env bash
# test-rules.sh — check the Prometheus rules and the Alertmanager example:
#   1. promtool check rules   observability/prometheus/stage-validation.rules.yml
#   2. promtool test rules    observability/prometheus/tests/*.test.yml
#   3. amtool check-config    observability/alertmanager/alertmanager.yml
#   4. every runbook_url anchor exists in docs/runbook.md, every alert has summary/description
#
# Installs promtool/amtool first when they are missing (scripts/install-prometheus-tools.sh).
# The last line is "N passed, N failed" (one per check).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-prometheus-tools.sh >/dev/null || exit 1

rules=observability/prometheus/stage-validation.rules.yml
am=observability/alertmanager/alertmanager.yml
passed=0
failed=0

check() {
  local name=$1
  shift
  printf '\n=== %s\n' "$name"
  if "$@"; then
    passed=$((passed + 1))
    echo "ok: $name"
  else
    failed=$((failed + 1))
    echo "FAILED: $name"
  fi
}

anchors() {
  local ok=0 url anchor slugs alerts urls summaries descriptions
  # GitHub-style heading anchors of docs/runbook.md: lower case, punctuation dropped, spaces → '-'
  slugs=$(grep -E '^#{1,6} ' docs/runbook.md | sed -E 's/^#+ +//' | tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9 _-]//g; s/ /-/g')
  alerts=$(grep -cE '^ *- alert: ' "$rules")
  urls=$(grep -cE '^ *runbook_url: ' "$rules")
  summaries=$(grep -cE '^ *summary: ' "$rules")
  descriptions=$(grep -cE '^ *description: ' "$rules")
  echo "$alerts alerts, $summaries summaries, $descriptions descriptions, $urls runbook_url annotations"
  if [[ $alerts -eq 0 || $urls -ne $alerts || $summaries -ne $alerts || $descriptions -ne $alerts ]]; then
    echo "every alert needs summary, description and runbook_url" >&2
    ok=1
  fi
  while read -r url; do
    [[ $url == docs/runbook.md#* ]] || { echo "runbook_url $url does not point into docs/runbook.md" >&2; ok=1; continue; }
    anchor=${url#docs/runbook.md#}
    if grep -qxF -- "$anchor" <<<"$slugs"; then echo "anchor #$anchor ok"; else echo "no heading for #$anchor in docs/runbook.md" >&2; ok=1; fi
  done < <(grep -E '^ *runbook_url: ' "$rules" | sed -E 's/^ *runbook_url: *"?([^"]*)"?.*/\1/')
  return $ok
}

check "promtool check rules" promtool check rules "$rules"
check "promtool test rules" promtool test rules observability/prometheus/tests/*.test.yml
check "amtool check-config" amtool check-config "$am"
check "runbook anchors and annotations" anchors

printf '\n%s passed, %s failed\n' "$passed" "$failed"
[[ $failed -eq 0 ]]
