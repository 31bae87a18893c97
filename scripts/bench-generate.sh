#!/usr/bin/env bash
# Measures `k8s-advisor generate` on the contract's big model (5,000 services in 200 namespaces,
# 25,000 calls) and on the same model twice as large (10,000 services), with the profiling
# build (the release build plus line tables). Each command runs RUNS times (default 5) under
# /usr/bin/time; every line gives user and system CPU time, wall time and peak memory.
#
# The goals are user CPU time, not wall time: on a machine shared with other builds the wall
# time depends on their load, the CPU time of a single-threaded stage much less (the load
# average is printed with the figures). Goals: `generate` of 5,000 services under 0.4 s of user
# CPU and 150 MB; 10,000 services at most 2.2 times the CPU of 5,000; `verify` of the 5,000
# layout under 1 s of wall time (on an idle machine).
#
#   scripts/bench-generate.sh                 the whole-process figures, then criterion
#   scripts/bench-generate.sh --no-criterion  the whole-process figures only
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
runs="${RUNS:-5}"

cargo build --profile profiling --locked --quiet
bin=target/profiling/k8s-advisor
. scripts/measure.sh

model() {
  mkdir -p "$work/$1"
  K8S_ADVISOR_BENCH_SERVICES="$1" K8S_ADVISOR_BENCH_WORKSPACE="$work/$1/k8s-advisor.toml" \
    cargo bench --profile profiling --locked --quiet --bench generate
  git init -q "$work/$1"
}

sizes=(5000 10000)
for n in "${sizes[@]}"; do
  model "$n"
done

# Into an empty folder, the two sizes in turn, so that both meet the same load: the ratio of
# their CPU times is only fair when it is. total[N] sums the user CPU times of N's runs.
declare -A total
echo "== generate into an empty folder (load average $(cut -d' ' -f1-3 /proc/loadavg))"
for _ in $(seq "$runs"); do
  for n in "${sizes[@]}"; do
    rm -rf "$work/$n/k8s" "$work/$n/docs"
    measure "generate, $n, empty folder" "$bin" -q -w "$work/$n/k8s-advisor.toml" generate
    total[$n]="$(awk -v a="${total[$n]:-0}" \
      -v b="$(sed -n 's/.*User time (seconds): //p' "$work/time.txt")" 'BEGIN { print a + b }')"
  done
done

for n in "${sizes[@]}"; do
  ws="$work/$n/k8s-advisor.toml"
  echo "== $n services (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  for _ in $(seq "$runs"); do
    measure "generate, $n, nothing to change" "$bin" -q -w "$ws" generate
  done
  for _ in $(seq "$runs"); do
    measure "generate --check, $n" "$bin" -q -w "$ws" generate --check
  done
  # What the architecture overview costs.
  for _ in $(seq "$runs"); do
    measure "generate --check --no-docs, $n" "$bin" -q -w "$ws" generate --check --no-docs
  done
  for _ in $(seq "$runs"); do
    measure "verify of that layout, $n" "$bin" -q -w "$ws" verify
  done
  echo "files: $(find "$work/$n/k8s" -type f | wc -l), $(du -sh "$work/$n/k8s" | cut -f1)"
done
echo "user CPU of generate into an empty folder, $runs runs: 5000: ${total[5000]} s," \
  "10000: ${total[10000]} s, ratio $(awk -v a="${total[10000]}" -v b="${total[5000]}" 'BEGIN { printf "%.2f", a / b }')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${1:-}" != "--no-criterion" ]; then
  cargo bench --profile profiling --locked --bench generate
fi
