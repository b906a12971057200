#!/usr/bin/env bash
# Jaeger v2 for tests: built from its Go module (test/stack/jaeger wrapper, `go get -tool`) through
# the Go module proxy, run with its built-in all-in-one configuration (in-memory storage): OTLP on
# 127.0.0.1:4317 (gRPC) and 4318 (HTTP), query API and UI on 127.0.0.1:16686.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NAME=jaeger PORT=16686
BIN="$STACK_HOME/bin/jaeger"
TOOL=github.com/jaegertracing/jaeger/cmd/jaeger

install() {
  local stamp="$STACK_HOME/bin/jaeger.gomod.sha"
  local want; want="$(cat "$STACK_DIR/jaeger/go.mod" "$STACK_DIR/jaeger/go.sum" | sha256sum | cut -d' ' -f1)"
  if [ -x "$BIN" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  local go; go="$(go_bin "$STACK_DIR/jaeger/go.mod")"
  log "building jaeger from its Go module (first run only; about 7 minutes on 2 cores)"
  (cd "$STACK_DIR/jaeger" && GOFLAGS=-mod=mod GOTOOLCHAIN=local "$go" build -o "$BIN.tmp" "$TOOL") || die "jaeger build failed"
  mv "$BIN.tmp" "$BIN"
  echo "$want" >"$stamp"
}

ready() { curl -fsS "http://127.0.0.1:$PORT/api/services" 2>/dev/null | grep -q '"data"' && port_open 4318; }

start() {
  if ready; then return 0; fi
  install
  log "starting jaeger on 127.0.0.1 (OTLP 4317/4318, query $PORT)"
  # The built-in configuration binds its receivers to JAEGER_LISTEN_HOST but the query service to every
  # interface; --set keeps that on loopback too.
  spawn "$NAME" env JAEGER_LISTEN_HOST=127.0.0.1 "$BIN" \
    --set=extensions.jaeger_query.http.endpoint=127.0.0.1:$PORT \
    --set=extensions.jaeger_query.grpc.endpoint=127.0.0.1:16685
  wait_until 60 "$NAME" ready
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop_ours "$NAME" ;;
  ready) ready ;;
  *) die "usage: jaeger.sh install|start|stop|ready" ;;
esac
