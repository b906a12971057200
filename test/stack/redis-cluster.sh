#!/usr/bin/env bash
# The Redis part of the cluster profile, Debian's redis-server on 127.0.0.1 (see STACK_PORTS in the
# README of this folder):
#   - a Sentinel-managed pair, master name `trellis`: redis-s1 16379 (the first primary) and
#     redis-s2 16380 (its replica), both with an append-only file (fsync every second) and
#     noeviction, watched by sentinel-1..3 on 26379..26381 (quorum 2, down after 2 s);
#   - a Redis Cluster of three primaries, no replicas: redis-c1..3 on 17001..17003 (bus +10000);
#   - a cache instance, redis-cache on 16390: allkeys-lru, maxmemory 64mb, nothing persisted.
# Usage: redis-cluster.sh install|start|stop|ready|env|ports
# `start` starts whatever is not running and waits until the whole part is ready (a no-op when it
# is): a node killed after a failover comes back as a replica of the master the Sentinels name.
# `stop` stops every process and deletes the data (redis-cluster/ of the cache).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
HOME_DIR="$STACK_HOME/redis-cluster"
MASTER_NAME=trellis
DATA_NODES=(s1:16379 s2:16380)
SENTINELS=(1:26379 2:26380 3:26381)
CLUSTER_NODES=(c1:17001 c2:17002 c3:17003)
CACHE_PORT=16390

cli() { local port="$1"; shift; redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null; }
answers() { [ "$(cli "$1" ping)" = PONG ]; }

# start_server NAME PORT DIR [CONFIG LINES...]: a redis-server with a config file in DIR (Sentinel
# and Cluster rewrite theirs), unless something answers on PORT already.
start_server() {
  local name="$1" port="$2" dir="$3"; shift 3
  answers "$port" && return 0
  # Started but not answering yet (another start under way): wait for that one, never a second.
  our_pid "$name" >/dev/null && return 0
  mkdir -p "$dir"
  [ -f "$dir/redis.conf" ] || printf '%s\n' "port $port" "bind 127.0.0.1" "dir $dir" "$@" >"$dir/redis.conf"
  log "starting $name on 127.0.0.1:$port"
  spawn "$name" redis-server "$dir/redis.conf"
}

# --- Sentinel ---------------------------------------------------------------------------------

# The master ("host port") as a live Sentinel names it, else the data node that says it is a master
# with a replica, else as the Sentinels last wrote it in their config (they rewrite it on a
# failover), else the first node: a fresh start.
current_master() {
  local entry port address
  for entry in "${SENTINELS[@]}"; do
    address="$(cli "${entry#*:}" sentinel get-master-addr-by-name "$MASTER_NAME" | paste -sd' ')"
    [ -n "$address" ] && { echo "$address"; return 0; }
  done
  for entry in "${DATA_NODES[@]}"; do
    port="${entry#*:}"
    cli "$port" info replication | grep -q '^connected_slaves:[1-9]' && { echo "127.0.0.1 $port"; return 0; }
  done
  for entry in "${SENTINELS[@]}"; do
    address="$(awk -v name="$MASTER_NAME" '$1 == "sentinel" && $2 == "monitor" && $3 == name { print $4, $5; exit }' "$HOME_DIR/sentinel${entry%%:*}/sentinel.conf" 2>/dev/null)"
    [ -n "$address" ] && { echo "$address"; return 0; }
  done
  echo "127.0.0.1 ${DATA_NODES[0]#*:}"
}

start_sentinel_part() {
  local master entry name port dir
  master="$(current_master)"
  for entry in "${DATA_NODES[@]}"; do
    name="redis-${entry%%:*}" port="${entry#*:}" dir="$HOME_DIR/${entry%%:*}"
    # A node that is not the master starts as its replica (its config is written anew each time,
    # since the role it last had may be stale); Sentinel rewrites it on a failover.
    answers "$port" || our_pid "$name" >/dev/null || rm -f "$dir/redis.conf"
    local role=()
    [ "$port" != "${master#* }" ] && role=("replicaof ${master% *} ${master#* }")
    start_server "$name" "$port" "$dir" "${role[@]}" \
      "appendonly yes" "appendfsync everysec" "save \"\"" "maxmemory-policy noeviction" \
      "replica-announce-ip 127.0.0.1"
  done
  for entry in "${SENTINELS[@]}"; do
    name="sentinel-${entry%%:*}" port="${entry#*:}" dir="$HOME_DIR/sentinel${entry%%:*}"
    answers "$port" && continue
    mkdir -p "$dir"
    # Kept across restarts: Sentinel writes the current master, its replicas and its peers there.
    [ -f "$dir/sentinel.conf" ] || printf '%s\n' "port $port" "bind 127.0.0.1" "dir $dir" \
      "sentinel announce-ip 127.0.0.1" \
      "sentinel monitor $MASTER_NAME $master 2" \
      "sentinel down-after-milliseconds $MASTER_NAME 2000" \
      "sentinel failover-timeout $MASTER_NAME 10000" \
      "sentinel parallel-syncs $MASTER_NAME 1" >"$dir/sentinel.conf"
    our_pid "$name" >/dev/null && continue
    log "starting $name on 127.0.0.1:$port"
    spawn "$name" redis-server "$dir/sentinel.conf" --sentinel
  done
}

# Sentinel on PORT names a master, knows a replica of it in sync, and can reach quorum and a
# majority for a failover (it sees the other two Sentinels).
sentinel_ready() {
  local port="$1"
  cli "$port" sentinel ckquorum "$MASTER_NAME" | grep -q '^OK 3 usable' || return 1
  cli "$port" sentinel replicas "$MASTER_NAME" | awk 'previous == "flags" && $0 == "slave" { ok = 1 } previous == "master-link-status" && $0 != "ok" { ok = 0 } { previous = $0 } END { exit !ok }'
}

sentinel_part_ready() {
  local entry
  for entry in "${SENTINELS[@]}"; do sentinel_ready "${entry#*:}" || return 1; done
}

# --- Cluster ----------------------------------------------------------------------------------

start_cluster_part() {
  local entry
  for entry in "${CLUSTER_NODES[@]}"; do
    start_server "redis-${entry%%:*}" "${entry#*:}" "$HOME_DIR/${entry%%:*}" \
      "cluster-enabled yes" "cluster-config-file nodes.conf" "cluster-node-timeout 5000" \
      "cluster-announce-ip 127.0.0.1" "appendonly yes" "appendfsync everysec" "save \"\"" "maxmemory-policy noeviction"
  done
}

cluster_info() { cli "$1" cluster info | tr -d '\r'; }

cluster_node_ready() {
  local info; info="$(cluster_info "$1")"
  grep -q '^cluster_state:ok' <<<"$info" && grep -q "^cluster_known_nodes:${#CLUSTER_NODES[@]}$" <<<"$info"
}

cluster_part_ready() {
  local entry
  for entry in "${CLUSTER_NODES[@]}"; do cluster_node_ready "${entry#*:}" || return 1; done
}

# Assigns the slots once, when every node is new (nodes.conf keeps the cluster across restarts).
create_cluster() {
  local entry addresses=() fresh=0
  for entry in "${CLUSTER_NODES[@]}"; do
    addresses+=("127.0.0.1:${entry#*:}")
    grep -q '^cluster_slots_assigned:0$' <<<"$(cluster_info "${entry#*:}")" && fresh=$((fresh + 1))
  done
  [ "$fresh" -eq 0 ] && return 0
  [ "$fresh" -eq "${#CLUSTER_NODES[@]}" ] || die "Redis Cluster: $fresh of ${#CLUSTER_NODES[@]} nodes have no slots (a node lost its nodes.conf?); run 'test/stack/down cluster' then 'up cluster'"
  log "creating the Redis Cluster (${addresses[*]})"
  redis-cli --cluster create "${addresses[@]}" --cluster-yes >"$(log_file redis-cluster-create)" 2>&1 \
    || { tail -n 20 "$(log_file redis-cluster-create)" >&2; die "redis-cli --cluster create failed"; }
}

# --- Cache ------------------------------------------------------------------------------------

start_cache() {
  start_server redis-cache "$CACHE_PORT" "$HOME_DIR/cache" \
    "maxmemory 64mb" "maxmemory-policy allkeys-lru" "save \"\"" "appendonly no"
}

# --- The part as a whole ----------------------------------------------------------------------

names() {
  local entry
  for entry in "${DATA_NODES[@]}" "${CLUSTER_NODES[@]}"; do echo "redis-${entry%%:*}"; done
  for entry in "${SENTINELS[@]}"; do echo "sentinel-${entry%%:*}"; done
  echo redis-cache
}

start() {
  "$STACK_DIR/redis.sh" install
  mkdir -p "$HOME_DIR"
  start_sentinel_part
  start_cluster_part
  start_cache
  local entry
  for entry in "${DATA_NODES[@]}" "${CLUSTER_NODES[@]}"; do wait_until 20 "redis-${entry%%:*}" answers "${entry#*:}"; done
  wait_until 20 redis-cache answers "$CACHE_PORT"
  create_cluster
  for entry in "${CLUSTER_NODES[@]}"; do wait_until 30 "redis-${entry%%:*}" cluster_node_ready "${entry#*:}"; done
  for entry in "${SENTINELS[@]}"; do wait_until 30 "sentinel-${entry%%:*}" sentinel_ready "${entry#*:}"; done
}

stop() {
  local name
  for name in $(names); do stop_ours "$name" & done
  wait
  rm -rf "$HOME_DIR"
}

ready() { sentinel_part_ready && cluster_part_ready && answers "$CACHE_PORT"; }

join_ports() { local entry out=""; for entry in "$@"; do out+="${out:+,}127.0.0.1:${entry#*:}"; done; echo "$out"; }

print_env() {
  cat <<ENV
export REDIS_SENTINELS=$(join_ports "${SENTINELS[@]}")
export REDIS_SENTINEL_NAME=$MASTER_NAME
export TRELLIS_STACK_REDIS_CLUSTER_NODES=$(join_ports "${CLUSTER_NODES[@]}")
export CACHE_REDIS_URL=redis://127.0.0.1:$CACHE_PORT
ENV
}

# One line per process: its name (pid file run/NAME.pid) and port, for the docs test and status.
ports() {
  local entry
  for entry in "${DATA_NODES[@]}" "${CLUSTER_NODES[@]}"; do echo "redis-${entry%%:*} ${entry#*:}"; done
  for entry in "${SENTINELS[@]}"; do echo "sentinel-${entry%%:*} ${entry#*:}"; done
  echo "redis-cache $CACHE_PORT"
}

command="${1:-start}"
case "$command" in
  install) "$STACK_DIR/redis.sh" install ;;
  start) start ;;
  stop) stop ;;
  ready) ready ;;
  env) print_env ;;
  ports) ports ;;
  *) die "usage: redis-cluster.sh install|start|stop|ready|env|ports" ;;
esac
