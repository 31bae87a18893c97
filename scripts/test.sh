#!/usr/bin/env bash
# The whole test suite, as the README and CI run it: installs the external oracles into .tools/
# (idempotent), then runs every Rust test, including the conformance tests that feed generated
# output to those oracles.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh
export INSTA_UPDATE=no
# Library, binary and integration tests. The benchmarks are not run here: unoptimised, the
# 5,000-service models only cost time. CI compiles them with `cargo clippy --all-targets`, and
# `cargo bench` runs them (see the README's Performance section).
cargo test --locked --features mutants --lib --bins --tests
