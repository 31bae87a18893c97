#!/usr/bin/env bash
# Times the whole `k8s-advisor generate` process on the contract's big model (5,000 services,
# 200 namespaces, 25,000 calls): wall time and peak memory, from /usr/bin/time -v.
# Three runs: into an empty folder (writes every file), again (nothing changes), and --check;
# then --check without the architecture overview, to show what the overview costs.
# Also runs the criterion benchmark of the render stage unless --no-criterion is given.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --locked --quiet
K8S_ADVISOR_BENCH_WORKSPACE="$work/k8s-advisor.toml" cargo bench --locked --quiet --bench generate

measure() {
  local label="$1"; shift
  local code=0
  /usr/bin/time -v "$@" >/dev/null 2>"$work/time.txt" || code=$?
  local wall rss
  wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt")"
  rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")"
  printf '%-28s wall %-8s max RSS %6d MB  exit %d\n' "$label" "$wall" "$((rss / 1024))" "$code"
}

bin=target/release/k8s-advisor
measure "generate (empty folder)" "$bin" -w "$work/k8s-advisor.toml" generate
measure "generate (nothing changed)" "$bin" -w "$work/k8s-advisor.toml" generate
measure "generate --check" "$bin" -w "$work/k8s-advisor.toml" generate --check
measure "generate --check --no-docs" "$bin" -w "$work/k8s-advisor.toml" generate --check --no-docs
echo "files: $(find "$work/k8s" -type f | wc -l)"

if [ "${1:-}" != "--no-criterion" ]; then
  cargo bench --locked --bench generate
fi
