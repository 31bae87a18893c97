#!/usr/bin/env bash
# Measures what a new contributor waits for: the README's first command and scripts/test.sh on
# a fresh clone of the current commit, in a temporary folder with its own empty target folder
# and its own .tools/ (so the oracles are installed too). Crates already in cargo's download
# cache are not downloaded again; `cargo fetch` first makes that true on a new machine.
#
#   scripts/bench-build.sh quick        the quick start, cold
#   scripts/bench-build.sh test         scripts/test.sh, cold
#   scripts/bench-build.sh quick test   the quick start, then the test suite in the same clone
#
# Each step prints wall time, CPU time (user + system) and the load average before and after:
# on a shared machine the wall time depends on the others' load, so read it with the load
# average, and confirm a goal on an idle machine (load average under 0.3 before starting).
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone --quiet . "$work/clone"
cd "$work/clone"
git checkout --quiet "$(git -C "$OLDPWD" rev-parse HEAD)"

step() {
  local label="$1"; shift
  local before code=0
  before="$(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "%e %U %S" -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt" || code=$?
  read -r wall user sys < <(tail -n 1 "$work/time.txt")
  printf '%-36s wall %6.0f s  cpu %5.0f s user + %4.0f s sys  load %s -> %s  exit %d\n' \
    "$label" "$wall" "$user" "$sys" "$before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$code"
  [ "$code" -eq 0 ] || tail -n 30 "$work/err.txt" >&2
}

[ $# -gt 0 ] || set -- quick
for what in "$@"; do
  case "$what" in
    quick)
      step "quick start (cargo run ... assess)" \
        cargo run --locked -- -w examples/picturesocial/k8s-advisor.toml assess
      head -n 1 "$work/out.txt"
      ;;
    test)
      step "scripts/test.sh" scripts/test.sh
      grep -E '^test result' "$work/out.txt" || true
      ;;
    *) echo "usage: scripts/bench-build.sh [quick] [test]" >&2; exit 2 ;;
  esac
done
echo "target folder: $(du -sh target | cut -f1)"
