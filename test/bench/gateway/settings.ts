/** The bench's knobs, read once from the environment (the only file here that reads it). */
export const SUITES = ['realistic', 'repeated', 'fixed-rate', 'deferred', 'staleness'] as const;
export type Suite = (typeof SUITES)[number];
/** BENCH_TARGETS unset: every gateway, Trellis with its entity cache on and in shadow, Hive with its response cache. */
export const DEFAULT_TARGETS = 'direct,apollo,apollo-undici,trellis,trellis-nodedup,trellis-ecache,trellis-ecache-entities,trellis-ecache-shadow,trellis-otel,trellis-otel10,hive,hive-cache';

export interface BenchSettings {
  /** Seconds of measured load per target and workload (BENCH_DURATION). */
  durationSeconds: number;
  /**
   * Seconds of unmeasured load before each measurement (BENCH_WARMUP). 6 s, the same for every target: a
   * target's workloads come about a minute apart and cached entries live 30 s, so a caching target starts each
   * measurement empty; 6 s of the mix fills its working set (every product, page and caller) and measures it in
   * its steady state, as it serves in production, rather than its refill.
   */
  warmupSeconds: number;
  /** Concurrent keep-alive connections of the closed-loop load generator (BENCH_CONNECTIONS). */
  connections: number;
  /** Targets to run, in order (BENCH_TARGETS, comma-separated; apollo is the baseline of every ratio). */
  targets: string[];
  /** Interleaved rounds; the median one is reported (BENCH_ROUNDS). */
  rounds: number;
  /** Which runs (BENCH_RUNS, comma-separated: realistic, repeated, fixed-rate, deferred, staleness). */
  suites: Suite[];
  /** Arrival rates of the fixed-rate runs, calls per second, ascending (BENCH_RATES). */
  rates: number[];
  /** Seconds per target and rate (BENCH_RATE_DURATION, default BENCH_DURATION). */
  rateDurationSeconds: number;
  /** Most connections the fixed-rate generator opens to a target (BENCH_RATE_CONNECTIONS). */
  rateConnections: number;
  /** Where the results section goes; empty to print only (BENCH_RESULTS). */
  resultsPath: string;
  /** Calls of the deferred shape per target (BENCH_DEFERRED_CALLS), each sent deferred and whole. */
  deferredCalls: number;
  /** The cache Redis of the entity-cache targets and of hive-cache (BENCH_CACHE_REDIS_URL). */
  cacheRedisUrl: string;
  /** The Kafka whose change topic the entity-cache targets hear and the staleness part announces on (BENCH_KAFKA_BROKERS). */
  kafkaBrokers: string[];
  /** Changes the staleness part makes, one at a time, on a target that hears them (BENCH_STALENESS_CHANGES). */
  stalenessChanges: number;
  /** The mix's arrival rate while the staleness part runs, calls/s; 0: no load (BENCH_STALENESS_RATE). */
  stalenessRate: number;
  /** The longest the staleness part waits for a change to be served, seconds (BENCH_STALENESS_CAP_S). */
  stalenessCapSeconds: number;
  /** The pause between two reads of a changed entity, ms (BENCH_STALENESS_POLL_MS). */
  stalenessPollMs: number;
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${JSON.stringify(raw)}: must be a positive number`);
  return value;
}

function nonNegative(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}=${JSON.stringify(raw)}: must be a number, 0 or more`);
  return value;
}

const list = (raw: string) => raw.split(',').map((item) => item.trim()).filter(Boolean);

export function loadBenchSettings(defaultResultsPath: string): BenchSettings {
  const durationSeconds = positive('BENCH_DURATION', 4);
  const suites = list(process.env.BENCH_RUNS || SUITES.join(','));
  const unknown = suites.filter((suite) => !(SUITES as readonly string[]).includes(suite));
  if (unknown.length) throw new Error(`BENCH_RUNS: unknown ${unknown.join(', ')} (known: ${SUITES.join(', ')})`);
  const rates = list(process.env.BENCH_RATES || '200,400,800,1600').map(Number);
  if (rates.some((rate) => !Number.isFinite(rate) || rate <= 0)) throw new Error(`BENCH_RATES=${JSON.stringify(process.env.BENCH_RATES)}: positive numbers, comma-separated`);
  return {
    durationSeconds,
    warmupSeconds: positive('BENCH_WARMUP', 6),
    rounds: Math.round(positive('BENCH_ROUNDS', 3)),
    connections: Math.round(positive('BENCH_CONNECTIONS', 20)),
    targets: list(process.env.BENCH_TARGETS || DEFAULT_TARGETS),
    suites: suites as Suite[],
    rates: [...rates].sort((a, b) => a - b),
    rateDurationSeconds: positive('BENCH_RATE_DURATION', durationSeconds),
    rateConnections: Math.round(positive('BENCH_RATE_CONNECTIONS', 256)),
    resultsPath: process.env.BENCH_RESULTS ?? defaultResultsPath,
    deferredCalls: Math.round(positive('BENCH_DEFERRED_CALLS', 400)),
    cacheRedisUrl: process.env.BENCH_CACHE_REDIS_URL || 'redis://127.0.0.1:6379',
    kafkaBrokers: list(process.env.BENCH_KAFKA_BROKERS || '127.0.0.1:9092'),
    stalenessChanges: Math.round(positive('BENCH_STALENESS_CHANGES', 200)),
    stalenessRate: nonNegative('BENCH_STALENESS_RATE', 400),
    stalenessCapSeconds: positive('BENCH_STALENESS_CAP_S', 60),
    stalenessPollMs: nonNegative('BENCH_STALENESS_POLL_MS', 2),
  };
}
