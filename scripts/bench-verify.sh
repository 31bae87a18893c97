#!/usr/bin/env bash
# Times `k8s-advisor verify` on the contract's big model (5,000 services, 200 namespaces,
# 25,000 calls): the layout `generate` writes, verified against its workspace (CPU time, wall
# time and peak memory from /usr/bin/time -v). Then the same connectivity question asked of
# our engine and of network-config-analyzer (nca) on 100 and 300 services, side by side.
# Runs the criterion benchmark of the stages too unless --no-criterion is given.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --profile profiling --locked --quiet
bin=target/profiling/k8s-advisor
nca=.tools/venv/bin/nca
kubectl="$(command -v kubectl || echo .tools/venv/bin/kubectl)"
[ -x "$nca" ] || scripts/install-tools.sh

. scripts/measure.sh

model() {
  local services="$1" dir="$work/$1"
  mkdir -p "$dir"
  K8S_ADVISOR_BENCH_SERVICES="$services" K8S_ADVISOR_BENCH_WORKSPACE="$dir/k8s-advisor.toml" \
    cargo bench --profile profiling --locked --quiet --bench verify
  "$bin" -q -w "$dir/k8s-advisor.toml" generate --no-record >/dev/null
}

model 5000
measure "verify, 5000 services (vs workspace)" "$bin" -w "$work/5000/k8s-advisor.toml" verify
measure "verify --connectivity, 5000 services" "$bin" verify --connectivity --format json "$work/5000/k8s"

for n in 100 300; do
  model "$n"
  "$kubectl" kustomize "$work/$n/k8s" >"$work/$n/built.yaml"
  measure "verify --connectivity, $n services" "$bin" verify --connectivity --format json "$work/$n/built.yaml"
  measure "nca --connectivity, $n services" "$nca" --connectivity -r "$work/$n/built.yaml" \
    -o txt_no_fw_rules -f "$work/$n/nca.txt"
done

if [ "${1:-}" != "--no-criterion" ]; then
  cargo bench --profile profiling --locked --bench verify
fi
