#!/usr/bin/env bash
# The Kafka part of the cluster profile: three KRaft nodes (broker + controller each, 3 voters) of
# Apache Kafka 4 from Maven Central on 127.0.0.1, each with a PLAINTEXT listener (inter-broker)
# and a SASL_SSL one (SCRAM-SHA-512/256, a CA and a broker certificate made here); `env` prints the
# variables that point the platform at the SASL_SSL listeners (`up cluster` writes them to cluster.env).
#   node N (1..3): PLAINTEXT 1909(N+1), SASL_SSL 1919(N+1), CONTROLLER 1929(N+1)
# Usage: kafka-cluster.sh install|start [N]|stop [N]|ready [N]|env|ports|prune
# `start N` / `stop N` act on one node (a test that kills a broker restarts it with `start N`);
# the nodes' pids are in the stack's run folder as kafka-c1.pid … kafka-c3.pid.
# The SASL_SSL listeners take SCRAM-SHA-512/256 (the user in cluster.env) and OAUTHBEARER with
# unsigned tokens (Kafka's unsecured validator; test/cluster/kafkaOauth.test.ts serves them).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NODES=(1 2 3)
HOME_DIR="$STACK_HOME/kafka-cluster"
LIBS="$STACK_HOME/kafka4/libs"
TLS="$HOME_DIR/tls"
USERNAME=trellis

plaintext_port() { echo $((19091 + $1)); }
sasl_port() { echo $((19191 + $1)); }
controller_port() { echo $((19291 + $1)); }
node_name() { echo "kafka-c$1"; }
node_dir() { echo "$HOME_DIR/node$1"; }

install() {
  if ls "$LIBS"/kafka_2.13-4.*.jar >/dev/null 2>&1 && [ -f "$LIBS/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { log "installing maven (apt)"; apt-get update -qq >/dev/null; apt-get install -y -qq maven >/dev/null; }
  log "fetching Kafka 4 jars from Maven Central (first run only)"
  rm -rf "$LIBS" && mkdir -p "$LIBS"
  mvn -q -B -f "$STACK_DIR/kafka4/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS"
  touch "$LIBS/.complete"
}

# A secret made once and kept beside the data it protects (the SCRAM user is written at format time).
secret() {
  local file="$HOME_DIR/$1"
  [ -s "$file" ] || (umask 077 && openssl rand -hex 16 >"$file")
  cat "$file"
}

# A CA, one broker certificate for every node (SAN 127.0.0.1 and localhost) and a client
# certificate the CA signed (for trying mTLS), made once with openssl.
make_certificates() {
  [ -f "$TLS/broker.p12" ] && return 0
  log "making a CA and broker certificates ($TLS)"
  rm -rf "$TLS" && mkdir -p "$TLS"
  (
    cd "$TLS"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -subj "/CN=Trellis test stack CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    for who in broker client; do
      openssl req -newkey rsa:2048 -nodes -keyout "$who.key" -out "$who.csr" -subj "/CN=trellis-$who" 2>/dev/null
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$who.ext"
      openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$who.pem" -days 3650 -extfile "$who.ext" 2>/dev/null
      rm -f "$who.csr" "$who.ext"
    done
    openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker -out broker.p12 -passout "pass:$(secret keystore-password)"
  )
}

write_config() {
  local n="$1" dir; dir="$(node_dir "$n")"
  local voters="" i
  for i in "${NODES[@]}"; do voters+="${voters:+,}$i@127.0.0.1:$(controller_port "$i")"; done
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(plaintext_port "$n"),SASL_SSL://127.0.0.1:$(sasl_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(plaintext_port "$n"),SASL_SSL://127.0.0.1:$(sasl_port "$n")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,OAUTHBEARER
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# OAUTHBEARER with Kafka's built-in validator of unsecured (unsigned) JWTs: enough to test a client's
# token flow against a local token endpoint; a real cluster validates signed tokens (JWKS).
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS/broker.p12
ssl.keystore.password=$(secret keystore-password)
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.pem
# A client certificate is checked when one is offered (mTLS), not required: SCRAM is the login.
listener.name.sasl_ssl.ssl.client.auth=requested
log.dirs=$dir/data
num.partitions=3
default.replication.factor=3
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=24
PROPS
  cat >"$dir/log4j2.properties" <<PROPS
appender.file.type=File
appender.file.name=file
appender.file.fileName=$(log_file "$(node_name "$n")")
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=WARN
rootLogger.appenderRef.file.ref=file
logger.raft.name=kafka.server.KafkaRaftServer
logger.raft.level=INFO
PROPS
}

# Formats a node's storage once, with the cluster's id and the SCRAM user (both mechanisms).
format_storage() {
  local n="$1" dir; dir="$(node_dir "$n")"
  [ -f "$dir/data/meta.properties" ] && return 0
  local java; java="$(java_bin)"
  local password; password="$(secret scram-password)"
  [ -s "$HOME_DIR/cluster-id" ] || "$java" -cp "$LIBS/*" -Dlog4j2.configurationFile="$dir/log4j2.properties" kafka.tools.StorageTool random-uuid >"$HOME_DIR/cluster-id"
  log "formatting KRaft storage of node $n"
  "$java" -cp "$LIBS/*" -Dlog4j2.configurationFile="$dir/log4j2.properties" kafka.tools.StorageTool format \
    -t "$(cat "$HOME_DIR/cluster-id")" -c "$dir/server.properties" \
    --add-scram "SCRAM-SHA-512=[name=$USERNAME,password=$password]" \
    --add-scram "SCRAM-SHA-256=[name=$USERNAME,password=$password]" >/dev/null
}

node_ready() {
  port_open "$(sasl_port "$1")" && port_open "$(plaintext_port "$1")" && grep -q 'Kafka Server started' "$(log_file "$(node_name "$1")")" 2>/dev/null
}

start_node() {
  local n="$1" name; name="$(node_name "$n")"
  if port_open "$(sasl_port "$n")"; then return 0; fi
  # Started but not listening yet (another `up cluster` or `start N` is under way): a second JVM on
  # the same data folder would fight it for the log, so wait for that one instead.
  if our_pid "$name" >/dev/null; then log "$name is starting (pid $(our_pid "$name"))"; return 0; fi
  write_config "$n"
  format_storage "$n"
  local java; java="$(java_bin)"
  log "starting $name on 127.0.0.1:$(plaintext_port "$n") (PLAINTEXT) and :$(sasl_port "$n") (SASL_SSL)"
  : >"$(log_file "$name")"
  ("$java" -Xms128m -Xmx384m -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$(node_dir "$n")/log4j2.properties" \
    -cp "$LIBS/*" kafka.Kafka "$(node_dir "$n")/server.properties" >>"$STACK_HOME/logs/$name.stdout" 2>&1) &
  echo $! >"$(pid_file "$name")"
}

print_env() {
  local brokers="" i
  for i in "${NODES[@]}"; do brokers+="${brokers:+,}127.0.0.1:$(sasl_port "$i")"; done
  cat <<ENV
export KAFKA_BROKERS=$brokers
export KAFKA_SSL=true
export KAFKA_SSL_CA_FILE=$TLS/ca.pem
export KAFKA_SASL_MECHANISM=scram-sha-512
export KAFKA_SASL_USERNAME=$USERNAME
export KAFKA_SASL_PASSWORD=$(secret scram-password)
export KAFKA_REPLICATION_FACTOR=3
export KAFKA_MIN_INSYNC_REPLICAS=2
ENV
}

# One line per node: its name (pid file run/NAME.pid) and its PLAINTEXT, SASL_SSL and CONTROLLER ports.
ports() {
  local n
  for n in "${NODES[@]}"; do echo "$(node_name "$n") $(plaintext_port "$n") $(sasl_port "$n") $(controller_port "$n")"; done
}

start() {
  local which=("$@") n; [ ${#which[@]} -eq 0 ] && which=("${NODES[@]}")
  install
  mkdir -p "$HOME_DIR"
  make_certificates
  # Every node starts before any is waited for: a controller quorum needs 2 of its 3 voters.
  for n in "${which[@]}"; do start_node "$n"; done
  for n in "${which[@]}"; do wait_until 120 "$(node_name "$n")" node_ready "$n"; done
}

stop() {
  local which=("$@") n; [ ${#which[@]} -eq 0 ] && which=("${NODES[@]}")
  # All at once: stopped one by one, the last node waits out its controlled shutdown with no quorum.
  for n in "${which[@]}"; do stop_ours "$(node_name "$n")" & done
  wait
}

ready() {
  local which=("$@") n; [ ${#which[@]} -eq 0 ] && which=("${NODES[@]}")
  for n in "${which[@]}"; do node_ready "$n" || return 1; done
}

# Tests make topics of their own (a namespace each) and seldom delete them: a thousand idle topics,
# three replicas each, ran a 384 MB broker out of heap (the scale-out chaos test met it). As
# `prune`: delete the topics node 1 has not written for an hour (lib.sh's prune_idle_topics),
# over node 1's PLAINTEXT listener. `up cluster` runs it.
prune() {
  ready || return 0
  prune_idle_topics "$(node_dir 1)/data" "127.0.0.1:$(plaintext_port 1)" "$LIBS" "-Dlog4j2.configurationFile=$(node_dir 1)/log4j2.properties" "kafka cluster"
}

command="${1:-start}"; shift || true
case "$command" in
  install) install ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  ready) ready "$@" ;;
  env) print_env ;;
  ports) ports ;;
  prune) prune ;;
  *) die "usage: kafka-cluster.sh install|start [N]|stop [N]|ready [N]|env|ports|prune" ;;
esac
