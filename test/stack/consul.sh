#!/usr/bin/env bash
# Consul for tests: built from its Go module (test/stack/consul wrapper) through the Go module
# proxy, run as a dev agent on 127.0.0.1:8500.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NAME=consul PORT=8500
BIN="$STACK_HOME/bin/consul"

# A Go at least as new as the wrapper's go.mod asks: the one on PATH, else the toolchain module
# fetched (once, cached) from the Go module proxy, which is how Go itself distributes toolchains.
go_bin() {
  local want; want="$(awk '/^go /{print $2}' "$STACK_DIR/consul/go.mod")"
  if command -v go >/dev/null; then
    local have; have="$(go env GOVERSION | sed 's/^go//')"
    if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ]; then command -v go; return 0; fi
  fi
  local root="$STACK_HOME/go$want"
  if [ ! -x "$root/bin/go" ]; then
    local proxy="${GOPROXY:-https://proxy.golang.org}"; proxy="${proxy%%,*}"
    local zip="$STACK_HOME/go$want.zip" mod="golang.org/toolchain@v0.0.1-go$want.linux-amd64"
    command -v unzip >/dev/null || { apt-get update -qq >/dev/null; apt-get install -y -qq unzip >/dev/null; }
    log "fetching Go $want from the module proxy ($mod)"
    curl -fsSL "$proxy/golang.org/toolchain/@v/v0.0.1-go$want.linux-amd64.zip" -o "$zip" || die "cannot fetch Go $want from $proxy"
    rm -rf "$root.tmp" && mkdir -p "$root.tmp" && (cd "$root.tmp" && unzip -q "$zip") || die "cannot unpack Go $want (is unzip installed?)"
    mv "$root.tmp/$mod" "$root" && rm -rf "$root.tmp" "$zip"
    chmod +x "$root/bin/"* "$root/pkg/tool/"*/* 2>/dev/null || true
  fi
  echo "$root/bin/go"
}

install() {
  local stamp="$STACK_HOME/bin/consul.gomod.sha"
  local want; want="$(cat "$STACK_DIR/consul/go.mod" "$STACK_DIR/consul/main.go" | sha256sum | cut -d' ' -f1)"
  if [ -x "$BIN" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  local go; go="$(go_bin)"
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
  ("$BIN" agent -dev -bind 127.0.0.1 -client 127.0.0.1 -log-level warn >"$(log_file $NAME)" 2>&1) &
  echo $! >"$(pid_file $NAME)"
  wait_until 60 "$NAME" ready
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop_ours "$NAME" ;;
  ready) ready ;;
  *) die "usage: consul.sh install|start|stop|ready" ;;
esac
