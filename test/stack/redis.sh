#!/usr/bin/env bash
# Redis for tests: Debian's redis-server on 127.0.0.1:6379, no persistence.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NAME=redis PORT=6379

install() {
  command -v redis-server >/dev/null && return 0
  log "installing redis-server (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq redis-server >/dev/null
}

ready() { [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = "PONG" ]; }

start() {
  if ready; then return 0; fi
  install
  mkdir -p "$STACK_HOME/redis"
  log "starting redis on 127.0.0.1:$PORT"
  (cd "$STACK_HOME/redis" && exec redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$STACK_HOME/redis" >"$(log_file $NAME)" 2>&1) &
  echo $! >"$(pid_file $NAME)"
  wait_until 20 "$NAME" ready
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop_ours "$NAME" ;;
  ready) ready ;;
  *) die "usage: redis.sh install|start|stop|ready" ;;
esac
