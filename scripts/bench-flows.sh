#!/usr/bin/env bash
# `verify --flows` on Hubble records over a 5,000-service model: writes the inputs with the
# benchmark's generator (100,000 and 1,000,000 records), times the release binary on each (wall
# time and peak memory, three runs: the peak must not grow with the records), then runs the
# criterion benchmark of the library on 1,000,000 records.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release --locked --bin k8s-advisor
for records in 100000 1000000; do
  K8S_ADVISOR_BENCH_FLOWS="$dir/$records" K8S_ADVISOR_BENCH_FLOWS_RECORDS=$records \
    cargo bench --locked --bench flows
  ls -l "$dir/$records/flows.json"
  for _ in 1 2 3; do
    /usr/bin/time -f "$records records: %e s wall, %U s user, %S s sys, %M KB max RSS" \
      target/release/k8s-advisor -w "$dir/$records/k8s-advisor.toml" verify \
      --flows "$dir/$records/flows.json" --format json > /dev/null 2> "$dir/time.txt" || true
    tail -n 1 "$dir/time.txt"
  done
  rm -rf "${dir:?}/$records"
done
cargo bench --locked --bench flows
