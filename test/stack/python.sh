#!/usr/bin/env bash
# The Python subgraph fixture's interpreter (test/fixtures/python-subgraph): a venv in the stack
# cache with its pinned requirements, never the system Python's site-packages. Cached by a digest
# of requirements.txt: a no-op when present. Prints the venv's python.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

REQUIREMENTS="$STACK_DIR/../fixtures/python-subgraph/requirements.txt"
VENV="$STACK_HOME/python-subgraph"
want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/requirements.sha" 2>/dev/null)" != "$want" ]; then
  python="${PYTHON:-python3}"
  usable() { command -v "$python" >/dev/null && "$python" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; }
  if ! usable && [ -z "${PYTHON:-}" ] && command -v apt-get >/dev/null; then
    log "installing python3 and python3-venv (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
  fi
  usable || die "$python is not Python 3.10+ with venv and ensurepip: install them (Debian: python3-venv), or set PYTHON"
  log "creating the Python subgraph venv in $VENV"
  rm -rf "$VENV"
  "$python" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQUIREMENTS" || die "pip install of $REQUIREMENTS failed"
  echo "$want" >"$VENV/requirements.sha"
fi
echo "$VENV/bin/python"
