#!/usr/bin/env bash
# Times `k8s-advisor import` on 10,000 and 100,000 services, from a Compose file and from
# manifests (CPU time, wall time and peak memory from /usr/bin/time -v). The goal: 100,000
# services in under 5 s and 1 GB. Runs the criterion benchmark too unless --no-criterion is given.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --profile profiling --locked --quiet
bin=target/profiling/k8s-advisor

measure() {
  local label="$1"; shift
  local code=0
  /usr/bin/time -v "$@" >/dev/null 2>"$work/time.txt" || code=$?
  local wall user sys rss
  wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt")"
  user="$(sed -n 's/.*User time (seconds): //p' "$work/time.txt")"
  sys="$(sed -n 's/.*System time (seconds): //p' "$work/time.txt")"
  rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")"
  printf '%-36s cpu %ss user + %ss sys  wall %-8s max RSS %6d MB  exit %d\n' \
    "$label" "$user" "$sys" "$wall" "$((rss / 1024))" "$code"
}

for services in 10000 100000; do
  dir="$work/$services"
  K8S_ADVISOR_BENCH_SERVICES="$services" K8S_ADVISOR_BENCH_IMPORT="$dir" \
    cargo bench --profile profiling --locked --quiet --bench import
  measure "import Compose, $services services" \
    "$bin" -q import "$dir/compose.yaml" -o "$dir/compose.toml"
  measure "import manifests, $services services" \
    "$bin" -q import "$dir/k8s" -o "$dir/k8s.toml"
done

if [ "${1:-}" != "--no-criterion" ]; then
  cargo bench --profile profiling --locked --quiet --bench import
fi
