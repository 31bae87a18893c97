#!/usr/bin/env bash
# Installs the external oracles the test suite runs against generated output, into .tools/
# (git-ignored). Idempotent: a second run only checks that everything is there.
#
#   kubernetes-validate, network-config-analyzer (nca), yamllint   -> .tools/venv (pip)
#   markdownlint-cli2, mermaid + jsdom                              -> .tools/node (npm)
#   graphviz (dot), adr-tools (adr)                                 -> Debian packages (apt)
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$PWD/.tools"
mkdir -p "$tools"

if [ ! -x "$tools/venv/bin/nca" ] || [ ! -x "$tools/venv/bin/kubernetes-validate" ] || [ ! -x "$tools/venv/bin/yamllint" ]; then
  echo "installing kubernetes-validate, network-config-analyzer and yamllint into .tools/venv" >&2
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check \
    kubernetes-validate network-config-analyzer yamllint
fi

if [ ! -x "$tools/node/node_modules/.bin/markdownlint-cli2" ] || [ ! -d "$tools/node/node_modules/mermaid" ] || [ ! -d "$tools/node/node_modules/jsdom" ]; then
  echo "installing markdownlint-cli2, mermaid and jsdom into .tools/node" >&2
  mkdir -p "$tools/node"
  (cd "$tools/node" && { [ -f package.json ] || echo '{"private":true}' > package.json; } \
    && npm install --silent --no-audit --no-fund markdownlint-cli2 mermaid jsdom >/dev/null)
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

command -v kubectl >/dev/null || { echo "kubectl is missing: the machine image should provide it" >&2; exit 1; }
echo "oracles ready in $tools" >&2
