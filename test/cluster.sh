#!/usr/bin/env bash
# `npm run test:cluster`: brings up Redis and the cluster profile (test/stack/up redis cluster: the
# secured Kafka cluster, Redis with Sentinels, a Redis Cluster, a cache Redis, three Consul servers and
# an agent; a no-op when they run), points every test at the profile through test/stack/cluster.env,
# and runs jest.cluster.config.js: test/cluster/, the EventBus contract, the saga suites and the saga
# chaos test.
set -euo pipefail
cd "$(dirname "$0")/.."
test/stack/up redis cluster
set -a
# shellcheck source=/dev/null
source test/stack/cluster.env
set +a
# One file at a time (the chaos test wants the machine), so in band; --forceExit because one of the
# saga or chaos suites (written for npm test's worker processes, which are killed at the end) leaves
# a handle open that would hold jest after the last result (placeOrder and test/cluster do not).
npx jest -c jest.cluster.config.js --ci --maxWorkers=1 --forceExit "$@"
