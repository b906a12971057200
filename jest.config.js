/** Jest projects: one per test kind, so `npm test` can run them all and a developer can pick one. */
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  ...extra,
});
module.exports = {
  reporters: ['default', '<rootDir>/test/support/summaryReporter.js'],
  projects: [
    project('unit'),
    project('integration', { testTimeout: 60000 }),
    project('e2e', { testTimeout: 120000 }),
    project('chaos', { testTimeout: 180000 }),
  ],
};
