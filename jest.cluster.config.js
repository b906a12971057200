/**
 * `npm run test:cluster` (test/cluster.sh): the tests that run on the secured cluster profile of
 * test/stack (`up cluster`, cluster.env sourced): test/cluster/, the EventBus contract, the saga
 * integration suites, the saga chaos test and the scale-out chaos test (2 of everything, four faults). Not part of `npm test`, which runs on the single broker.
 */
const base = require('./jest.config');
const unit = base.projects.find((project) => project.displayName === 'unit');

module.exports = {
  testTimeout: base.testTimeout,
  reporters: base.reporters,
  projects: [
    {
      ...unit,
      displayName: 'cluster',
      testMatch: [
        '<rootDir>/test/cluster/**/*.test.ts',
        '<rootDir>/test/integration/contracts/eventBus.test.ts',
        '<rootDir>/test/integration/saga/**/*.test.ts',
        '<rootDir>/test/chaos/sagaFaults.test.ts',
        '<rootDir>/test/chaos/scaleOut.test.ts',
      ],
    },
  ],
};
