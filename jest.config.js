/** Jest projects: one per test kind, so `npm test` can run them all and a developer can pick one. */
const transform = {
  '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  // ES-module-only packages, made CommonJS for jest (see the transform's header).
  '/node_modules/@platformatic/.+\\.js$': '<rootDir>/test/support/esmPackageTransform.js',
};
// `@trellis/kit` and its entry points map to the kit's sources under <rootDir>, never through
// node_modules: Stryker runs jest in a sandbox copy whose node_modules links to the original repo,
// where the package would resolve to the unmutated kit. Order matters: the first match wins.
const moduleNameMapper = {
  '^@trellis/kit$': '<rootDir>/shared/index.ts',
  '^@trellis/kit/internal$': '<rootDir>/shared/internal.ts',
  '^@trellis/kit/internal/(.+)$': '<rootDir>/shared/$1',
  '^@trellis/kit/(saga|testing|bff)$': '<rootDir>/shared/$1/index.ts',
};
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  moduleNameMapper,
  transformIgnorePatterns: ['/node_modules/(?!@platformatic/(kafka|dynamic-buffer|wasm-utils)/)'],
  // A Stryker run's sandbox copies (a second shared/package.json) would clash with the repo's in the module map.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'],
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
    // The scale-out chaos test needs the cluster profile: `npm run test:cluster` runs it (jest.cluster.config.js).
    project('chaos', { testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/chaos/scaleOut\\.test\\.ts$'] }),
    // Real headless Chromium (test/stack/browser.sh) driving the storefront, console and GraphiQL.
    project('browser'),
  ],
};
