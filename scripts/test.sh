#!/usr/bin/env bash
# The whole test suite, as the README and CI run it: installs the pinned external oracles into
# .tools/ (idempotent), then runs every Rust test with the oracle tier on: the tests marked
# `#[ignore = "oracle tier: ..."]` feed generated output to those oracles. A plain
# `cargo test` needs none of the tools and reports those tests as ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh
export INSTA_UPDATE=no
export K8S_ADVISOR_ORACLES=1
# Library, binary and integration tests. The benchmarks are not run here: unoptimised, the
# 5,000-service models only cost time. CI compiles them with `cargo clippy --all-targets`, and
# scripts/bench-*.sh run them (see docs/performance.md).
cargo test --locked --features mutants --lib --bins --tests -- --include-ignored
