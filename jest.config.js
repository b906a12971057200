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
  // Integration, e2e and chaos tests start real servers and processes; unit tests finish far sooner.
  testTimeout: 120000,
  reporters: ['default', '<rootDir>/test/support/summaryReporter.js'],
  projects: [
    project('unit'),
    project('integration'),
    project('e2e'),
    project('chaos'),
    // Real headless Chromium (test/stack/browser.sh) driving the storefront, console and GraphiQL.
    project('browser'),
  ],
};
