#!/usr/bin/env bash
# The whole test suite, as the README and CI run it: installs the pinned external oracles into
# .tools/ (idempotent), then runs every Rust test with the oracle tier on: the tests marked
# `#[ignore = "oracle tier: ..."]` feed generated output to those oracles. A plain
# `cargo test` needs none of the tools and reports those tests as ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
export INSTA_UPDATE=no
export K8S_ADVISOR_ORACLES=1
# On a fresh clone the oracles install (pip and npm: downloads and disk, about a minute) while
# cargo compiles the tests (both cores, several minutes); their messages follow the build's.
log="$(mktemp)"
scripts/install-tools.sh >"$log" 2>&1 &
installer=$!
trap 'wait "$installer" 2>/dev/null || true; rm -f "$log"' EXIT
# Library, binary and integration tests. The benchmarks are not run here: unoptimised, the
# 5,000-service models only cost time. CI compiles them with `cargo clippy --all-targets`, and
# scripts/bench-*.sh run them (see docs/performance.md). `mutants` builds in the deliberate
# engine bugs the differential test of `verify` must catch; build and run use the same features.
cargo test --locked --features mutants --lib --bins --tests --no-run
status=0
wait "$installer" || status=$?
cat "$log" >&2
if [ "$status" -ne 0 ]; then
  echo "scripts/install-tools.sh failed (exit $status): the oracles are not ready" >&2
  exit 1
fi
cargo test --locked --features mutants --lib --bins --tests -- --include-ignored
