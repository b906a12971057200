#!/usr/bin/env bash
# Kafka for tests: Apache Kafka 3.9 from Maven Central, one KRaft node (broker + controller)
# on 127.0.0.1:9092 (controller 9093), Java 17, small heap.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# KAFKA_INSTANCE/KAFKA_PORT/KAFKA_CONTROLLER_PORT start a second, private broker (failure tests).
NAME="${KAFKA_INSTANCE:-kafka}" PORT="${KAFKA_PORT:-9092}" CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
HOME_DIR="$STACK_HOME/$NAME"
LIBS="$STACK_HOME/kafka/libs"

install() {
  if ls "$LIBS"/kafka_2.13-3.9*.jar >/dev/null 2>&1 && [ -f "$LIBS/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { log "installing maven (apt)"; apt-get update -qq >/dev/null; apt-get install -y -qq maven >/dev/null; }
  log "fetching Kafka jars from Maven Central (first run only)"
  mkdir -p "$LIBS"
  mvn -q -B -f "$STACK_DIR/kafka/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS"
  touch "$LIBS/.complete"
}

write_config() {
  mkdir -p "$HOME_DIR/data"
  cat >"$HOME_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$HOME_DIR/data
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=24
PROPS
  cat >"$HOME_DIR/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$(log_file "$NAME")
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
}

format_storage() {
  [ -f "$HOME_DIR/data/meta.properties" ] && return 0
  local java; java="$(java_bin)"
  [ -f "$HOME_DIR/cluster-id" ] || "$java" -Dlog4j.configuration="file:$HOME_DIR/log4j.properties" -cp "$LIBS/*" kafka.tools.StorageTool random-uuid >"$HOME_DIR/cluster-id"
  log "formatting KRaft storage"
  "$java" -cp "$LIBS/*" -Dlog4j.configuration="file:$HOME_DIR/log4j.properties" kafka.tools.StorageTool format \
    -t "$(cat "$HOME_DIR/cluster-id")" -c "$HOME_DIR/server.properties" >/dev/null
}

ready() { port_open "$PORT" && grep -q 'Kafka Server started' "$(log_file $NAME)" 2>/dev/null; }

# Private brokers (failure tests) leave a data directory each; a test that crashed never removes
# its own. Before starting one, remove those of private brokers that no longer run and were last
# touched an hour ago or more (a broker a test stopped to restart later is younger than that).
prune_private() {
  local dir name
  for dir in "$STACK_HOME"/kafka-private-*; do
    [ -d "$dir" ] || continue
    name="$(basename "$dir")"
    our_pid "$name" >/dev/null && continue
    [ -n "$(find "$dir" -maxdepth 0 -mmin +60)" ] || continue
    rm -rf "$dir" "$(log_file "$name")" "$STACK_HOME/logs/$name.stdout"
  done
}

start() {
  if port_open "$PORT"; then return 0; fi
  install
  [ "$NAME" = kafka ] || prune_private
  write_config
  format_storage
  local java; java="$(java_bin)"
  log "starting kafka on 127.0.0.1:$PORT"
  : >"$(log_file $NAME)"
  ("$java" -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$HOME_DIR/log4j.properties" \
    -cp "$LIBS/*" kafka.Kafka "$HOME_DIR/server.properties" >>"$STACK_HOME/logs/$NAME.stdout" 2>&1) &
  echo $! >"$(pid_file $NAME)"
  wait_until 90 "$NAME" ready
}

# `prune`: delete the topics idle for an hour (lib.sh's prune_idle_topics).
prune() {
  ready || return 0
  prune_idle_topics "$HOME_DIR/data" "127.0.0.1:$PORT" "$LIBS" "-Dlog4j.configuration=file:$HOME_DIR/log4j.properties" kafka
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  prune) prune ;;
  stop) stop_ours "$NAME" ;;
  ready) ready ;;
  *) die "usage: kafka.sh install|start|stop|ready|prune" ;;
esac
