#!/usr/bin/env bash
# `verify --flows` and `import --flows` on Hubble records over a 5,000-service model: writes the
# inputs with the benchmark's generator (100,000 and 1,000,000 records), times the release
# binary on each (user and system CPU, wall time and peak memory from /usr/bin/time -v, three
# runs of verify and one of import: the peak must not grow with the records), prints the load
# average beside each run (the machine is shared: user CPU is the figure that holds), then
# runs the criterion benchmark of the library on 1,000,000 records unless --no-criterion is
# given.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release --locked --bin k8s-advisor
bin=target/release/k8s-advisor

# Runs a command under /usr/bin/time -v and prints one line: label, figures, load average.
timed() {
  local label="$1"
  shift
  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -v "$@" > /dev/null 2> "$dir/time.txt" || true
  awk -v label="$label" -v load="$load" -F': ' '
    /User time/ { user = $2 } /System time/ { sys = $2 }
    /Elapsed/ { wall = $2 } /Maximum resident/ { rss = $2 }
    END { printf "%s: %s s user, %s s sys, %s wall, %d MB max RSS, load %s\n",
          label, user, sys, wall, rss / 1024, load }' "$dir/time.txt"
}

for records in 100000 1000000; do
  K8S_ADVISOR_BENCH_FLOWS="$dir/$records" K8S_ADVISOR_BENCH_FLOWS_RECORDS=$records \
    cargo bench --locked --bench flows
  ls -l "$dir/$records/flows.json"
  for _ in 1 2 3; do
    timed "verify --flows, $records records" "$bin" -w "$dir/$records/k8s-advisor.toml" \
      verify --flows "$dir/$records/flows.json" --format json
  done
  timed "import --flows, $records records" "$bin" import --flows "$dir/$records/flows.json" \
    -o "$dir/$records/imported.toml"
  rm -rf "${dir:?}/$records"
done
if [ "${1:-}" != "--no-criterion" ]; then
  cargo bench --locked --bench flows
fi
