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
  command -v "$python" >/dev/null || die "python3 (3.10 or newer) is needed for the Python subgraph test: install it, or set PYTHON"
  "$python" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null \
    || die "$python is not Python 3.10+ with venv and ensurepip (Debian: apt-get install python3-venv)"
  log "creating the Python subgraph venv in $VENV"
  rm -rf "$VENV"
  "$python" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQUIREMENTS" || die "pip install of $REQUIREMENTS failed"
  echo "$want" >"$VENV/requirements.sha"
fi
echo "$VENV/bin/python"
