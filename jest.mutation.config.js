/** The unit project alone, for Stryker: mutants are judged by the fast tests (`npm run test:mutation`). */
const base = require('./jest.config.js');
const unit = base.projects.find((project) => project.displayName === 'unit');
module.exports = { ...unit, rootDir: __dirname, testTimeout: 20_000 };
