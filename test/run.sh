#!/usr/bin/env bash
# `npm test`: typecheck and lint (what `npm run typecheck` and `npm run lint` run), bring up the
# real servers the integration suites need (a no-op when they already run, or when REDIS_URL /
# KAFKA_BROKERS / CONSUL_HTTP_ADDR point at your own), then run every jest project: unit,
# integration, e2e, chaos and browser.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> typecheck"
npx tsc -p tsconfig.json --noEmit
npx tsc -p tsconfig.web.json
npx tsc -p bff/web/storefront/client/tsconfig.json

echo "==> lint"
npx eslint .

if [ -x test/stack/up ]; then
  echo "==> test stack"
  test/stack/up
fi

echo "==> deploy validators (docker-compose, kubectl)"
test/stack/deploy-tools.sh

echo "==> python venv for the Python subgraph test (docs/subgraph-contract.md)"
test/stack/python.sh

echo "==> browser for the browser tests (chromium)"
test/stack/browser.sh

echo "==> jest"
npx jest --ci --maxWorkers=2 "$@"
