/** The saga bench's knobs, read once from the environment (the only file here that reads it). */
export type Backends = 'embedded' | 'real';

export interface SagaBenchSettings {
  /** Measured placeOrder sagas per backend (BENCH_SAGAS). */
  sagas: number;
  /** Sagas in flight at once, one graphql-ws client each (BENCH_CONCURRENCY). */
  concurrency: number;
  /** Unmeasured sagas (declined cards, so no stock is used) before each measurement (BENCH_WARMUP_SAGAS). */
  warmupSagas: number;
  /** A saga not terminal on its subscription after this long counts as an error (BENCH_SAGA_TIMEOUT_MS). */
  sagaTimeoutMs: number;
  /** Backends to run, in order (BENCH_BACKENDS, comma-separated; embedded is the baseline of every ratio). */
  backends: Backends[];
  /** Where the results section goes; empty to print only (BENCH_RESULTS). */
  resultsPath: string;
}

function whole(name: string, fallback: number, minimum = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < minimum) throw new Error(`${name}=${JSON.stringify(raw)}: must be a whole number of at least ${minimum}`);
  return value;
}

export function loadSagaBenchSettings(defaultResultsPath: string): SagaBenchSettings {
  const backends = (process.env.BENCH_BACKENDS || 'embedded,real').split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = backends.filter((name) => name !== 'embedded' && name !== 'real');
  if (unknown.length || backends.length === 0) throw new Error(`BENCH_BACKENDS: unknown ${unknown.join(', ') || '(empty)'} (known: embedded, real)`);
  return {
    sagas: whole('BENCH_SAGAS', 1000),
    concurrency: whole('BENCH_CONCURRENCY', 20),
    warmupSagas: whole('BENCH_WARMUP_SAGAS', 20, 0),
    sagaTimeoutMs: whole('BENCH_SAGA_TIMEOUT_MS', 30_000),
    backends: backends as Backends[],
    resultsPath: process.env.BENCH_RESULTS ?? defaultResultsPath,
  };
}
