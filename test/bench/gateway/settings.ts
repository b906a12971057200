/** The bench's knobs, read once from the environment (the only file here that reads it). */
export interface BenchSettings {
  /** Seconds of measured load per target and query (BENCH_DURATION). */
  durationSeconds: number;
  /** Seconds of unmeasured load before each measurement (BENCH_WARMUP). */
  warmupSeconds: number;
  /** Concurrent keep-alive connections of the load generator (BENCH_CONNECTIONS). */
  connections: number;
  /** Targets to run, in order (BENCH_TARGETS, comma-separated; apollo is the baseline of every ratio). */
  targets: string[];
  /** Interleaved rounds; the median one is reported (BENCH_ROUNDS). */
  rounds: number;
  /** Where the results section goes; empty to print only (BENCH_RESULTS). */
  resultsPath: string;
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${JSON.stringify(raw)}: must be a positive number`);
  return value;
}

export function loadBenchSettings(defaultResultsPath: string): BenchSettings {
  const targets = (process.env.BENCH_TARGETS || 'direct,apollo,trellis,trellis-nodedup,hive').split(',').map((name) => name.trim()).filter(Boolean);
  return {
    durationSeconds: positive('BENCH_DURATION', 4),
    warmupSeconds: positive('BENCH_WARMUP', 1),
    rounds: Math.round(positive('BENCH_ROUNDS', 3)),
    connections: Math.round(positive('BENCH_CONNECTIONS', 20)),
    targets,
    resultsPath: process.env.BENCH_RESULTS ?? defaultResultsPath,
  };
}
