// Mutation testing of the core modules (`npm run test:mutation`, on demand, not in `npm test`).
// Mutants are run against the unit tests only (jest.mutation.config.js); results by module go to
// test/MUTATION.md (scripts/mutationSummary.ts), the HTML report to reports/mutation/ (ignored).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'jest.mutation.config.js', enableFindRelatedTests: true },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  mutate: [
    'shared/saga/**/*.ts',
    'shared/retry/**/*.ts',
    'shared/events/delivery.ts',
    // The Kafka bus's client-agnostic logic: per-key concurrency bookkeeping and produce coalescing.
    'shared/events/kafka/keyed*.ts',
    'shared/events/kafka/coalescer.ts',
    'shared/resilience/**/*.ts',
    'shared/auth/**/*.ts',
    'gateway/limits/**/*.ts',
    'shared/limits/**/*.ts',
    'gateway/auth/**/*.ts',
    'gateway/datasource/**/*.ts',
    'gateway/supergraph/**/*.ts',
    'bff/shared/**/*.ts',
    'shared/ratelimit/**/*.ts',
    'gateway/headers/**/*.ts',
    'gateway/ratelimit/**/*.ts',
    'gateway/planning/**/*.ts',
    'shared/discovery/**/*.ts',
    'shared/state/**/*.ts',
    'gateway/persisted/**/*.ts',
    'shared/config/**/*.ts',
    'shared/subgraph/**/*.ts',
    'gateway/subscriptions/**/*.ts',
    // @defer (issue 32): the runner, shaping, wire formats and HTTP (http.test.ts drives it on loopback).
    'gateway/incremental/**/*.ts',
    // The entity cache (issue 33): keys, tiers, root answers, shadow mode, the change feed; the Redis tier runs against a
    // Redis of its own test's (test/unit/gateway/entityCache/redisTier.test.ts, entityCacheRedis.test.ts).
    'gateway/entityCache/**/*.ts',
    // The kit's side of it: announcing a change, and the change's one shape.
    'shared/events/changeAnnouncer.ts',
    'shared/events/entityChange.ts',
    '!**/index.ts',
    // Network adapters, tested against the real servers in the integration tests (test/MUTATION.md says where).
    '!shared/discovery/consul.ts',
    '!shared/state/redis.ts',
    '!shared/state/redisRateLimiter.ts',
    // Transports on real sockets (graphql-ws and SSE servers and their wiring), tested end to end in test/integration/gateway.
    '!gateway/subscriptions/websocket.ts',
    '!gateway/subscriptions/sse.ts',
    // Not re-export lists: the persisted-queries extension, and the configuration schema itself.
    'gateway/persisted/index.ts',
    'shared/config/index.ts',
  ],
  incremental: true,
  incrementalFile: 'test/mutation/stryker-incremental.json',
  reporters: ['progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  concurrency: 2,
  timeoutMS: 10_000,
  tempDirName: '.stryker-tmp',
};
