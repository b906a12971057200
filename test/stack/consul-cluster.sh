#!/usr/bin/env bash
# The Consul part of the cluster profile: three servers (bootstrap-expect 3) and one client agent
# joined to them, on 127.0.0.1, run from the binary consul.sh builds. The platform talks to the
# client agent, so a server dying (the leader too) does not take its agent away.
#   consul-s1..3: HTTP 18501..18503, server RPC 18311..18313, Serf LAN 18321..18323, Serf WAN 18331..18333
#   consul-agent: HTTP 18500, Serf LAN 18320
# Usage: consul-cluster.sh install|start|stop|ready|env|ports
# `start` starts whatever is not running and waits until there is a leader with 3 peers and the
# agent is a live member (a no-op when there is); `stop` stops them all and deletes the data
# (consul-cluster/ of the cache).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
HOME_DIR="$STACK_HOME/consul-cluster"
BIN="$STACK_HOME/bin/consul"
SERVERS=(1 2 3)
AGENT_HTTP=18500 AGENT_SERF=18320

http_port() { echo $((18500 + $1)); }
server_port() { echo $((18310 + $1)); }
serf_port() { echo $((18320 + $1)); }
wan_port() { echo $((18330 + $1)); }

# The servers' Serf LAN addresses, for retry_join (a JSON list).
join_list() {
  local n out=""
  for n in "${SERVERS[@]}"; do out+="${out:+,}\"127.0.0.1:$(serf_port "$n")\""; done
  echo "[$out]"
}

# write_config NAME JSON_FIELDS: the agent's config file (written anew each start; data_dir keeps its state).
write_config() {
  local name="$1" fields="$2" dir="$HOME_DIR/$1"
  mkdir -p "$dir/data"
  cat >"$dir/config.json" <<JSON
{
  "node_name": "$name",
  "data_dir": "$dir/data",
  "bind_addr": "127.0.0.1",
  "advertise_addr": "127.0.0.1",
  "client_addr": "127.0.0.1",
  "retry_join": $(join_list),
  "retry_interval": "1s",
  "disable_update_check": true,
  "log_level": "warn",
  "enable_script_checks": false,
  "ui_config": { "enabled": false },
  "performance": { "raft_multiplier": 1 },
  $fields
}
JSON
}

answers() { curl -fsS -m 2 "http://127.0.0.1:$1/v1/status/leader" 2>/dev/null | grep -q '"[^"]'; }

start_agent() {
  local name="$1" port="$2"
  if curl -fsS -m 2 "http://127.0.0.1:$port/v1/agent/self" >/dev/null 2>&1; then return 0; fi
  # Started but not answering yet (another start under way, or a server waiting for its peers):
  # wait for that one, never a second on the same data folder.
  our_pid "$name" >/dev/null && return 0
  log "starting $name on 127.0.0.1:$port"
  spawn "$name" "$BIN" agent -config-file "$HOME_DIR/$name/config.json"
}

start() {
  "$STACK_DIR/consul.sh" install
  local n
  for n in "${SERVERS[@]}"; do
    write_config "consul-s$n" "\"server\": true, \"bootstrap_expect\": ${#SERVERS[@]}, \"leave_on_terminate\": false,
  \"ports\": { \"http\": $(http_port "$n"), \"server\": $(server_port "$n"), \"serf_lan\": $(serf_port "$n"), \"serf_wan\": $(wan_port "$n"), \"dns\": -1, \"grpc\": -1, \"grpc_tls\": -1 }"
    start_agent "consul-s$n" "$(http_port "$n")"
  done
  write_config consul-agent "\"server\": false,
  \"ports\": { \"http\": $AGENT_HTTP, \"serf_lan\": $AGENT_SERF, \"dns\": -1, \"grpc\": -1, \"grpc_tls\": -1 }"
  start_agent consul-agent "$AGENT_HTTP"
  for n in "${SERVERS[@]}"; do wait_until 60 "consul-s$n" server_ready "$n"; done
  wait_until 60 consul-agent agent_ready
}

# Server N sees a leader and every server as a Raft peer.
server_ready() {
  answers "$(http_port "$1")" || return 1
  [ "$(curl -fsS -m 2 "http://127.0.0.1:$(http_port "$1")/v1/status/peers" | grep -o '127\.0\.0\.1:' | wc -l)" -eq "${#SERVERS[@]}" ]
}

# The client agent reaches the leader and the servers list it as a live member (Serf status 1).
agent_ready() {
  answers "$AGENT_HTTP" || return 1
  curl -fsS -m 2 "http://127.0.0.1:$(http_port "${SERVERS[0]}")/v1/agent/members" | grep -qP '"Name":"consul-agent","Addr":"[^"]*","Port":\d+,"Tags":\{[^}]*\},"Status":1,'
}

ready() {
  local n
  for n in "${SERVERS[@]}"; do server_ready "$n" || return 1; done
  agent_ready
}

stop() {
  local name
  for name in consul-agent consul-s1 consul-s2 consul-s3; do stop_ours "$name" & done
  wait
  rm -rf "$HOME_DIR"
}

join_urls() { local n out=""; for n in "${SERVERS[@]}"; do out+="${out:+,}http://127.0.0.1:$(http_port "$n")"; done; echo "$out"; }

print_env() {
  cat <<ENV
export CONSUL_HTTP_ADDR=http://127.0.0.1:$AGENT_HTTP
export TRELLIS_STACK_CONSUL_SERVERS=$(join_urls)
ENV
}

# One line per process: its name (pid file run/NAME.pid), HTTP port and, for a server, its server
# RPC port (how /v1/status/leader names the leader), for the tests, the docs test and status.
ports() {
  local n
  for n in "${SERVERS[@]}"; do echo "consul-s$n $(http_port "$n") $(server_port "$n")"; done
  echo "consul-agent $AGENT_HTTP"
}

case "${1:-start}" in
  install) "$STACK_DIR/consul.sh" install ;;
  start) start ;;
  stop) stop ;;
  ready) ready ;;
  env) print_env ;;
  ports) ports ;;
  *) die "usage: consul-cluster.sh install|start|stop|ready|env|ports" ;;
esac
