#!/usr/bin/env bash
# The whole test suite, as the README and CI run it: installs the external oracles into .tools/
# (idempotent), then runs every Rust test, including the conformance tests that feed generated
# output to those oracles.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh
export INSTA_UPDATE=no
cargo test --locked --all-targets
