#!/usr/bin/env bash
# The browser the browser tests drive (test/browser): Debian's chromium, headless, through
# puppeteer-core (nothing can download a browser build here). Installs it once; prints its path.
# CHROMIUM_PATH points at another Chromium or Chrome and skips the install.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [ -n "${CHROMIUM_PATH:-}" ]; then
  [ -x "$CHROMIUM_PATH" ] || die "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable"
  echo "$CHROMIUM_PATH"; exit 0
fi
if ! command -v chromium >/dev/null; then
  command -v apt-get >/dev/null || die "chromium is needed for the browser tests: install it, or set CHROMIUM_PATH"
  log "installing chromium (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
fi
command -v chromium
