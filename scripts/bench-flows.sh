#!/usr/bin/env bash
# `verify --flows` on 1,000,000 Hubble records over a 5,000-service model: writes the inputs
# with the benchmark's generator, then times the release binary (wall time and peak memory)
# three times, and runs the criterion benchmark of the library.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release --locked --bin k8s-advisor
K8S_ADVISOR_BENCH_FLOWS="$dir" cargo bench --locked --bench flows
ls -l "$dir/flows.json"
for _ in 1 2 3; do
  /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB max RSS" \
    target/release/k8s-advisor -w "$dir/k8s-advisor.toml" verify --flows "$dir/flows.json" \
    --format json > /dev/null 2> "$dir/time.txt" || true
  tail -n 1 "$dir/time.txt"
done
cargo bench --locked --bench flows
