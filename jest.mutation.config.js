/** The unit project alone, for Stryker: mutants are judged by the fast tests (`npm run test:mutation`). */
const base = require('./jest.config.js');
const unit = base.projects.find((project) => project.displayName === 'unit');
// TRELLIS_MUTATION_TESTS (comma-separated globs under test/unit/) narrows the tests to a module's own, for a
// quicker run on one module on a busy machine; its score can only be lower than the whole unit suite's.
const only = (process.env.TRELLIS_MUTATION_TESTS ?? '').split(',').filter(Boolean);
module.exports = {
  ...unit,
  rootDir: __dirname,
  testTimeout: 20_000,
  ...(only.length > 0 ? { testMatch: only.map((glob) => `<rootDir>/test/unit/${glob}`) } : {}),
};
