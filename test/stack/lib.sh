# Shared functions of the test stack scripts: cache folder, pid files, port checks, waiting.
# Sourced, not run.

STACK_HOME="${TRELLIS_STACK_HOME:-$HOME/.cache/trellis-stack}"
STACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$STACK_HOME"/{run,logs,bin}

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_file() { echo "$STACK_HOME/run/$1.pid"; }
log_file() { echo "$STACK_HOME/logs/$1.log"; }

# our_pid NAME: the pid we started for NAME, if that process still lives. A zombie (killed, not yet
# reaped by init) is dead: kill -0 still succeeds on it.
our_pid() {
  local file; file="$(pid_file "$1")"
  [ -f "$file" ] || return 1
  local pid; pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null && [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" != [ZX]* ]]; then echo "$pid"; else rm -f "$file"; return 1; fi
}

# wait_until TIMEOUT_S NAME CHECK...: polls CHECK until it succeeds, or fails with NAME's log tail.
wait_until() {
  local timeout="$1" name="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$name did not answer within ${timeout}s; last log lines:"
      tail -n 30 "$(log_file "$name")" >&2 || true
      return 1
    fi
    if ! our_pid "$name" >/dev/null; then
      log "$name exited during start; last log lines:"
      tail -n 30 "$(log_file "$name")" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

# spawn NAME COMMAND...: starts COMMAND in the background, its output in NAME's log (started
# afresh), and records its pid for our_pid, wait_until and stop_ours.
spawn() {
  local name="$1"; shift
  (exec "$@" >"$(log_file "$name")" 2>&1) &
  echo $! >"$(pid_file "$name")"
}

# stop_ours NAME: stops the process we started for NAME (TERM, then KILL after 20 s).
stop_ours() {
  local name="$1" pid
  pid="$(our_pid "$name")" || { log "$name: not started by the stack"; return 0; }
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$(pid_file "$name")"
  log "$name stopped (pid $pid)"
}

# host_port URL_OR_HOSTPORT: prints "host port" of redis://h:p, http://h:p or h:p.
host_port() {
  local rest="${1#*://}"; rest="${rest%%/*}"; rest="${rest##*@}"
  echo "${rest%:*} ${rest##*:}"
}

# is_default NAME VALUE DEFAULT_PORT: true unless VALUE points away from 127.0.0.1:DEFAULT_PORT.
is_default() {
  [ -z "$2" ] && return 0
  read -r host port < <(host_port "${2%%,*}")
  [[ "$host" == "127.0.0.1" || "$host" == "localhost" ]] && [ "$port" = "$3" ]
}

# prune_idle_topics DATA BOOTSTRAP LIBS LOG_OPTION LABEL: tests make topics of their own and seldom
# delete them; thousands of idle partitions slowed a broker until it died under a full run. Deletes
# the topics none of whose partitions (in the broker's DATA folder) has been written for an hour
# (KAFKA_PRUNE_IDLE_MINUTES; a test that runs now keeps its topics), internal ones kept. A
# partition's segment files change only when it is written (its directory's time changes at every
# broker start), so a topic is idle when none of its .log files changed in that time.
prune_idle_topics() {
  local data="$1" bootstrap="$2" libs="$3" log_option="$4" label="$5" minutes="${KAFKA_PRUNE_IDLE_MINUTES:-60}"
  local all busy topics java
  all="$(find "$data" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | grep -E -- '-[0-9]+$' | sed -E 's/-[0-9]+$//' | sort -u || true)"
  busy="$(find "$data" -mindepth 2 -maxdepth 2 -name '*.log' -mmin "-$minutes" -printf '%h\n' | xargs -r -n 1 basename | sed -E 's/-[0-9]+$//' | sort -u || true)"
  topics="$(comm -23 <(echo "$all") <(echo "$busy") | grep -v -E '^(__|$)' || true)"
  [ -n "$topics" ] || return 0
  log "$label: deleting $(echo "$topics" | wc -l) topics idle for $minutes minutes"
  java="$(java_bin)"
  # One JVM per 300 topics: TopicCommand takes a regular expression (dots escaped).
  echo "$topics" | sed 's/\./\\./g' | awk '{ printf "%s%s", (NR % 300 == 1 ? "" : "|"), $0 } NR % 300 == 0 { print "" } END { if (NR % 300) print "" }' |
    while read -r alternatives; do
      "$java" -cp "$libs/*" "$log_option" org.apache.kafka.tools.TopicCommand \
        --bootstrap-server "$bootstrap" --delete --topic "^($alternatives)\$" >/dev/null
    done
}

# java_bin: a Java 17 (what Kafka 3.9 and 4 run on), installed with apt when none is found.
java_bin() {
  local candidate
  for candidate in /usr/lib/jvm/java-17-openjdk-*/bin/java /usr/lib/jvm/temurin-17*/bin/java "$(command -v java)"; do
    [ -x "$candidate" ] && "$candidate" -version 2>&1 | grep -q 'version "17' && { echo "$candidate"; return 0; }
  done
  log "installing Java 17 (apt)" && apt-get update -qq >/dev/null && apt-get install -y -qq openjdk-17-jre-headless >/dev/null || die "no Java 17 found and apt could not install it"
  ls /usr/lib/jvm/java-17-openjdk-*/bin/java | head -1
}

# go_bin GO_MOD: a Go at least as new as GO_MOD (a wrapper module's go.mod) asks: the one on PATH,
# else the toolchain module fetched (once, cached) from the Go module proxy, which is how Go itself
# distributes toolchains.
go_bin() {
  local want; want="$(awk '/^go /{print $2}' "$1")"
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
