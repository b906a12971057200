/**
 * The run's summary line counts every failure: jest runs the fixture suites in test/fixtures/summary
 * (outside every project's testMatch), which fail in each way a suite can, and the line must say so.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const CONFIG = 'test/fixtures/summary/jest.config.js';

/** Runs jest on the fixtures matching `pattern`; its exit code and the reporter's summary line. */
function runFixtures(pattern: string): Promise<{ code: number | null; summary: string[] }> {
  return new Promise((resolve, reject) => {
    const jest = path.join(ROOT, 'node_modules/jest/bin/jest.js');
    const child = execFile(process.execPath, [jest, '--config', CONFIG, '--ci', '--testPathPattern', pattern], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' } }, (error, _stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: child.exitCode, summary: stderr.split('\n').filter((line) => line.startsWith('Tests: ')) });
    });
  });
}

describe('the test summary line', () => {
  it('counts suites that fail outside any test: one that does not compile, one that throws while loading, one whose afterAll throws', async () => {
    const { code, summary } = await runFixtures('fixture');
    expect(code).toBe(1);
    // passes (2) + failsOneTest (1) + afterAllThrows (1) passed; failsOneTest and beforeAllThrows each fail a test.
    expect(summary).toEqual([
      'Tests: 4 passed, 5 failed (3 suites failed outside any test: afterAllThrows.fixture.js, doesNotCompile.fixture.js, loadThrows.fixture.js)',
    ]);
  });

  it('a suite whose beforeAll throws fails its tests', async () => {
    expect(await runFixtures('beforeAllThrows')).toEqual({ code: 1, summary: ['Tests: 0 passed, 1 failed'] });
  });

  it('a suite that only fails to compile is not "0 failed"', async () => {
    expect(await runFixtures('doesNotCompile')).toEqual({ code: 1, summary: ['Tests: 0 passed, 1 failed (1 suite failed outside any test: doesNotCompile.fixture.js)'] });
  });

  it('says 0 failed only when nothing failed', async () => {
    expect(await runFixtures('passes')).toEqual({ code: 0, summary: ['Tests: 2 passed, 0 failed'] });
  });
});

describe('summaryLine', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { summaryLine } = require('../../support/summaryReporter.js') as { summaryLine: (results: unknown) => string };
  const results = { numPassedTests: 3, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, numFailedTestSuites: 0, numRuntimeErrorTestSuites: 0, wasInterrupted: false, testResults: [] };

  it('a failed suite it cannot place, or an interrupted run, is one failure', () => {
    expect(summaryLine({ ...results, numFailedTestSuites: 1 })).toBe('Tests: 3 passed, 1 failed (the run failed)');
    expect(summaryLine({ ...results, wasInterrupted: true })).toBe('Tests: 3 passed, 1 failed (the run failed)');
    expect(summaryLine({ ...results, numPendingTests: 1, numTodoTests: 1 })).toBe('Tests: 3 passed, 0 failed, 2 skipped');
  });
});
