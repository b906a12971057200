/**
 * The benches of docs/performance.md, run briefly through their npm scripts with their own
 * BENCH_* settings (test/bench/README.md): each runs to the end, exits 0 and prints its result
 * table with measured rows. Not a measurement: a check that the commands the docs show still run.
 * BENCH_RESULTS= keeps test/bench/RESULTS.md as the last real run left it. The gateway bench runs
 * the apollo target only: a trellis target rebuilds dist/, which test/e2e/production.test.ts
 * builds and runs at the same time in a suite run.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..', '..');

async function bench(script: string, settings: Record<string, string>, timeoutMs = 240_000): Promise<string> {
  const { stdout } = await promisify(execFile)('npm', ['run', '--silent', script], {
    cwd: ROOT,
    env: { ...process.env, ...settings, BENCH_RESULTS: '' },
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** The cells of a Markdown table row whose first cells are `first` (trimmed), or undefined. */
function row(markdown: string, ...first: string[]): string[] | undefined {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()))
    .find((cells) => first.every((cell, index) => cells[index] === cell));
}

it('npm run bench:gateway measures the realistic mix and prints its table', async () => {
  const printed = await bench('bench:gateway', { BENCH_TARGETS: 'apollo', BENCH_RUNS: 'realistic', BENCH_ROUNDS: '1', BENCH_DURATION: '1', BENCH_WARMUP: '0.2' });
  expect(printed).toContain('## Gateway (`npm run bench:gateway`)');
  const mix = row(printed, 'apollo', 'mix');
  expect(mix).toBeDefined();
  // req/s measured, not "–" (a target that failed to start or answer is reported as n/a).
  expect(Number(mix![2])).toBeGreaterThan(0);
}, 300_000);

it('npm run bench:saga runs placeOrder sagas to their terminal state on the platform and prints its table', async () => {
  const printed = await bench('bench:saga', {
    BENCH_BACKENDS: 'embedded',
    BENCH_CONCURRENCY: '2',
    BENCH_SAGAS: '4',
    BENCH_USERS: '2',
    BENCH_WARMUP_SAGAS: '0',
  });
  expect(printed).toContain('## Sagas (`npm run bench:saga`)');
  const measured = row(printed, 'embedded (dev hub)', '4', '2');
  expect(measured).toBeDefined();
  const header = row(printed, 'backends', 'sagas', 'concurrency')!;
  const count = (column: string) => Number(measured![header.indexOf(column)]);
  const [completed, compensated, failed, errors] = ['COMPLETED', 'COMPENSATED', 'FAILED', 'errors'].map(count);
  expect({ ended: completed + compensated, failed, errors }).toEqual({ ended: 4, failed: 0, errors: 0 });
}, 300_000);

it('npm run bench:saga measures what REDIS_MIN_REPLICAS_ACK costs on a Sentinel set it starts, ack 0 and 1 side by side', async () => {
  const printed = await bench('bench:saga', {
    BENCH_BACKENDS: 'sentinel',
    BENCH_DURABILITY_CONCURRENCY: '2',
    BENCH_SAGAS: '4',
    BENCH_USERS: '2',
    BENCH_WARMUP_SAGAS: '0',
  }, 360_000);
  expect(printed).toContain('### What durability costs (`REDIS_MIN_REPLICAS_ACK`, state store on Redis Sentinel)');
  const header = row(printed, 'concurrency', 'REDIS_MIN_REPLICAS_ACK')!;
  for (const ack of ['0', '1']) {
    const measured = row(printed, '2', ack);
    expect(measured).toBeDefined();
    const cell = (column: string) => measured![header.indexOf(column)];
    // Measured, not "–": throughput, both latencies and the primary's and replica's CPU; no saga lost to an error.
    expect([cell('sagas/s'), cell('p50 ms'), cell('p99 ms'), cell('Redis CPU ms')].map(Number).every((value) => value >= 0)).toBe(true);
    expect(cell('errors')).toBe('0');
  }
  // Every saga of both platforms reached a terminal state, none FAILED.
  for (const ack of ['0', '1']) {
    const measured = row(printed, `real, Redis Sentinel, REDIS_MIN_REPLICAS_ACK=${ack}`, '4', '2')!;
    const sagas = row(printed, 'backends', 'sagas', 'concurrency')!;
    const count = (column: string) => Number(measured[sagas.indexOf(column)]);
    expect({ ended: count('COMPLETED') + count('COMPENSATED'), failed: count('FAILED') }).toEqual({ ended: 4, failed: 0 });
  }
}, 400_000);
