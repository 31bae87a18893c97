#!/usr/bin/env bash
# Times `k8s-advisor diff` on the contract's big model (5,000 services, 200 namespaces, 25,000
# calls) against a changed copy of it, connectivity included: CPU time, wall time and peak
# memory from /usr/bin/time -v, three runs each of JSON and Markdown output. The goal is under
# 2 s and under 400 MB. The workspace comes from the verify benchmark's generator.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --profile profiling --locked --quiet
bin=target/profiling/k8s-advisor

K8S_ADVISOR_BENCH_SERVICES=5000 K8S_ADVISOR_BENCH_WORKSPACE="$work/old.toml" \
  cargo bench --profile profiling --locked --quiet --bench verify
# The change a pull request might make: every 97th service becomes public and may reach
# 0.0.0.0/0 on 443, every 89th stops calling anyone.
awk 'BEGIN { n = 0 }
  /^\[\[services\]\]$/ { n++ }
  n % 97 == 1 && /^expose = / { print "expose = \"public\""; next }
  n % 89 == 2 && /^calls = / { print "calls = []"; next }
  n % 97 == 1 && /^egress = / { next }
  { print }
  n % 97 == 1 && /^calls = / { print "egress = [{ cidr = \"0.0.0.0/0\", ports = [443], reason = \"new API\" }]" }' \
  "$work/old.toml" > "$work/new.toml"

. scripts/measure.sh

"$bin" diff "$work/old.toml" "$work/new.toml" | head -n 3
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for format in json markdown; do
  for run in 1 2 3; do
    measure "diff --format $format ($run)" "$bin" diff --format "$format" "$work/old.toml" "$work/new.toml"
  done
done
