#!/usr/bin/env bash
# `npm run test:cluster`: brings up Redis and the cluster profile (test/stack/up redis cluster: the
# secured Kafka cluster, Redis with Sentinels, a Redis Cluster, a cache Redis, three Consul servers and
# an agent; a no-op when they run), points every test at the profile through test/stack/cluster.env,
# and runs jest.cluster.config.js: test/cluster/, the EventBus contract, the saga suites, the saga
# chaos test and the scale-out chaos test. What this run started (the profile, the default Redis) it
# stops at the end, pass or fail, so CI leaves no server running; what already ran stays running.
set -euo pipefail
cd "$(dirname "$0")/.."

# `test/stack/status` says, per server, whether it is up; anything of the profile down now is
# started by this run (every server of the profile but the single default ones above it).
down_now() { test/stack/status | awk -v pattern="$1" '$1 ~ pattern && $2 == "down" { found = 1 } END { exit !found }'; }
started=()
if down_now '^(kafka-c[0-9]|redis-[sc][0-9]|redis-cache|sentinel-[0-9]|consul-s[0-9]|consul-agent)$'; then started+=(cluster); fi
if [ -z "${REDIS_URL:-}" ] && down_now '^redis$'; then started+=(redis); fi
stop_started() {
  local code=$?
  if [ ${#started[@]} -gt 0 ]; then
    echo "==> stopping what this run started: ${started[*]}"
    test/stack/down "${started[@]}" || true
  fi
  exit "$code"
}
trap stop_started EXIT

test/stack/up redis cluster
set -a
# shellcheck source=/dev/null
source test/stack/cluster.env
set +a
# One file at a time (the chaos tests want the machine), so in band; --forceExit because one of the
# saga or chaos suites (written for npm test's worker processes, which are killed at the end) leaves
# a handle open that would hold jest after the last result (placeOrder and test/cluster do not).
npx jest -c jest.cluster.config.js --ci --maxWorkers=1 --forceExit "$@"
