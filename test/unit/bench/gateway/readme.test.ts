/**
 * test/bench/README.md's gateway section says what the bench does: every variable the bench reads
 * has a row with the default the bench uses, every target has its name in it, and the runs it
 * lists are the ones BENCH_RUNS knows.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readDoc } from '../../../support/markdown';
import { DEFAULT_TARGETS, SUITES, loadBenchSettings, type BenchSettings } from '../../../bench/gateway/settings';
import { TARGETS } from '../../../bench/gateway/targets';

const readme = readDoc('test/bench/README.md');
const gateway = readme.slice(readme.indexOf('## Gateway'), readme.indexOf('## Sagas'));
const SOURCES = ['settings.ts', 'targets.ts', 'run.ts'].map((file) => readFileSync(path.join(__dirname, '..', '..', '..', 'bench', 'gateway', file), 'utf8'));

/** `| \`NAME\` | default | meaning |` rows of the gateway section: name to its default cell. */
const rows = new Map([...gateway.matchAll(/^\| `(BENCH_[A-Z0-9_]+)` \| ([^|]+) \|/gm)].map((match) => [match[1], match[2].trim()]));

function defaults(): BenchSettings {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (name.startsWith('BENCH_')) delete process.env[name];
  try {
    return loadBenchSettings('test/bench/RESULTS.md');
  } finally {
    process.env = saved;
  }
}

describe('the gateway bench README', () => {
  it('has a row for every BENCH_ variable the gateway bench reads', () => {
    // Read from the environment: `process.env.BENCH_…`, or through settings.ts's number readers.
    const read = new Set(SOURCES.flatMap((source) => [...source.matchAll(/process\.env\.(BENCH_[A-Z0-9_]+)|(?:positive|nonNegative)\('(BENCH_[A-Z0-9_]+)'/g)].map((match) => match[1] ?? match[2])));
    expect(read.size).toBeGreaterThan(15);
    expect([...read].filter((name) => !rows.has(name))).toEqual([]);
  });

  it('gives the defaults the bench uses', () => {
    const settings = defaults();
    const shown: Record<string, string> = {
      BENCH_DURATION: String(settings.durationSeconds),
      BENCH_WARMUP: String(settings.warmupSeconds),
      BENCH_ROUNDS: String(settings.rounds),
      BENCH_CONNECTIONS: String(settings.connections),
      BENCH_RUNS: settings.suites.join(','),
      BENCH_DEFERRED_CALLS: String(settings.deferredCalls),
      BENCH_RATES: settings.rates.join(','),
      BENCH_RATE_CONNECTIONS: String(settings.rateConnections),
      BENCH_TARGETS: settings.targets.join(','),
      BENCH_CACHE_REDIS_URL: settings.cacheRedisUrl,
      BENCH_KAFKA_BROKERS: settings.kafkaBrokers.join(','),
      BENCH_STALENESS_CHANGES: String(settings.stalenessChanges),
      BENCH_STALENESS_RATE: String(settings.stalenessRate),
      BENCH_STALENESS_CAP_S: String(settings.stalenessCapSeconds),
      BENCH_STALENESS_POLL_MS: String(settings.stalenessPollMs),
      BENCH_RESULTS: settings.resultsPath,
    };
    for (const [name, value] of Object.entries(shown)) expect(`${name} ${rows.get(name)}`).toBe(`${name} \`${value}\``);
    expect(settings.suites).toEqual([...SUITES]);
    expect(settings.targets.join(',')).toBe(DEFAULT_TARGETS);
  });

  it('names every target', () => {
    expect(TARGETS.map((target) => target.name).filter((name) => !gateway.includes(`\`${name}\``))).toEqual([]);
  });
});
