/**
 * Jest reporter that ends the run with one plain line CI tools can read: "Tests: N passed, N failed".
 * A suite that fails outside any test (does not compile, throws while loading, a hook that throws
 * in afterAll) has no failed test to count, so it counts as one failure itself: the line never says
 * 0 failed when anything failed.
 */
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig?.rootDir ?? process.cwd();
  }

  onRunComplete(_contexts, results) {
    process.stderr.write(`\n${summaryLine(results, this.rootDir)}\n`);
  }
}

/** The summary of a run's aggregated results (jest's `AggregatedResult`). */
function summaryLine(results, rootDir = process.cwd()) {
  const brokenSuites = results.testResults
    .filter((suite) => (suite.testExecError != null || Boolean(suite.failureMessage)) && suite.numFailingTests === 0)
    .map((suite) => path.relative(rootDir, suite.testFilePath))
    .sort();
  let failed = results.numFailedTests + brokenSuites.length;
  // A failed suite this missed, or an interrupted run, is still not "0 failed". (`results.success` is
  // not set yet when reporters run, so it cannot be read here.)
  const runFailed = failed === 0 && (results.numFailedTestSuites > 0 || results.numRuntimeErrorTestSuites > 0 || results.wasInterrupted);
  if (runFailed) failed = 1;
  const skipped = results.numPendingTests + results.numTodoTests;
  const details = [];
  if (brokenSuites.length) details.push(`${brokenSuites.length} suite${brokenSuites.length === 1 ? '' : 's'} failed outside any test: ${brokenSuites.join(', ')}`);
  if (runFailed) details.push('the run failed');
  return `Tests: ${results.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : '') + (details.length ? ` (${details.join('; ')})` : '');
}

module.exports = SummaryReporter;
module.exports.summaryLine = summaryLine;
