#!/usr/bin/env bash
# Consul for tests: built from its Go module (test/stack/consul wrapper) through the Go module
# proxy, run as a dev agent on 127.0.0.1:8500.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NAME=consul PORT=8500
BIN="$STACK_HOME/bin/consul"

install() {
  local stamp="$STACK_HOME/bin/consul.gomod.sha"
  local want; want="$(cat "$STACK_DIR/consul/go.mod" "$STACK_DIR/consul/main.go" | sha256sum | cut -d' ' -f1)"
  if [ -x "$BIN" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  local go; go="$(go_bin "$STACK_DIR/consul/go.mod")"
  log "building consul from its Go module (first run only; a few minutes on 2 cores)"
  (cd "$STACK_DIR/consul" && GOFLAGS=-mod=mod GOTOOLCHAIN=local "$go" build -o "$BIN.tmp" . ) || die "consul build failed"
  mv "$BIN.tmp" "$BIN"
  echo "$want" >"$stamp"
}

ready() { curl -fsS "http://127.0.0.1:$PORT/v1/status/leader" 2>/dev/null | grep -q '"[^"]'; }

start() {
  if ready; then return 0; fi
  install
  log "starting consul dev agent on 127.0.0.1:$PORT"
  spawn "$NAME" "$BIN" agent -dev -bind 127.0.0.1 -client 127.0.0.1 -log-level warn
  wait_until 60 "$NAME" ready
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop_ours "$NAME" ;;
  ready) ready ;;
  *) die "usage: consul.sh install|start|stop|ready" ;;
esac
