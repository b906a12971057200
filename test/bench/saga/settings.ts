/** The saga bench's knobs, read once from the environment (the only file here that reads it). */
import { KAFKA_CLIENTS, type KafkaClientName } from '@trellis/kit/internal/events';

/**
 * `embedded`: the dev hub; `real`: Kafka, Redis and Consul of test/stack; `sentinel`: the same with
 * the state store on a Redis Sentinel set, once per REDIS_MIN_REPLICAS_ACK value, side by side.
 */
export type Backends = 'embedded' | 'real' | 'sentinel';
const BACKENDS: readonly Backends[] = ['embedded', 'real', 'sentinel'];

export interface SagaBenchSettings {
  /** Measured placeOrder sagas per backend and concurrency level (BENCH_SAGAS). */
  sagas: number;
  /** Measured sagas at concurrency 1, where each takes the platform alone (BENCH_SOLO_SAGAS). */
  soloSagas: number;
  /** The sweep: sagas in flight at once, one level after another (BENCH_CONCURRENCY, comma-separated). */
  concurrency: number[];
  /** Distinct signed-in users placing the orders, each with its own token and graphql-ws client (BENCH_USERS). */
  users: number;
  /** Unmeasured sagas (declined cards, so no stock is used) before each backend's sweep (BENCH_WARMUP_SAGAS). */
  warmupSagas: number;
  /** A saga not terminal on its subscription after this long counts as an error (BENCH_SAGA_TIMEOUT_MS). */
  sagaTimeoutMs: number;
  /** Backends to run, in order (BENCH_BACKENDS, comma-separated; embedded is the baseline of every ratio). */
  backends: Backends[];
  /** Where the results section goes; empty to print only (BENCH_RESULTS). */
  resultsPath: string;
  /**
   * Kafka clients the real backends run on, one platform each, side by side in the tables
   * (BENCH_KAFKA_CLIENTS, comma-separated; by default KAFKA_CLIENT, else kafkajs).
   */
  kafkaClients: KafkaClientName[];
  /** Runs every platform process under `--cpu-prof` and writes where each one's time goes to test/bench/out (BENCH_PROFILE=1). */
  profile: boolean;
  /** The `sentinel` backends' REDIS_MIN_REPLICAS_ACK values, one platform each, their levels interleaved (BENCH_REPLICA_ACKS). */
  replicaAcks: number[];
  /** The `sentinel` backends' sweep, shorter than the main one by default to keep the run's time (BENCH_DURABILITY_CONCURRENCY). */
  durabilityConcurrency: number[];
  /**
   * Sentinels of a set to run the `sentinel` backends on (REDIS_SENTINELS, REDIS_SENTINEL_NAME);
   * unset, the bench starts a private one (a primary, one replica, three Sentinels) on loopback.
   */
  sentinels?: { addresses: string; name: string };
}

function whole(name: string, fallback: number, minimum = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < minimum) throw new Error(`${name}=${JSON.stringify(raw)}: must be a whole number of at least ${minimum}`);
  return value;
}

function wholeList(name: string, fallback: number[], minimum = 1): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const values = raw.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((value) => !Number.isInteger(value) || value < minimum)) {
    throw new Error(`${name}=${JSON.stringify(raw)}: must be whole numbers of at least ${minimum}, comma-separated`);
  }
  return values;
}

export function loadSagaBenchSettings(defaultResultsPath: string): SagaBenchSettings {
  const backends = (process.env.BENCH_BACKENDS || 'embedded,real,sentinel').split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = backends.filter((name) => !(BACKENDS as readonly string[]).includes(name));
  if (unknown.length || backends.length === 0) throw new Error(`BENCH_BACKENDS: unknown ${unknown.join(', ') || '(empty)'} (known: ${BACKENDS.join(', ')})`);
  const clients = (process.env.BENCH_KAFKA_CLIENTS || process.env.KAFKA_CLIENT || 'kafkajs').split(',').map((name) => name.trim()).filter(Boolean);
  const unknownClients = clients.filter((name) => !(KAFKA_CLIENTS as readonly string[]).includes(name));
  if (unknownClients.length || clients.length === 0) throw new Error(`BENCH_KAFKA_CLIENTS: unknown ${unknownClients.join(', ') || '(empty)'} (known: ${KAFKA_CLIENTS.join(', ')})`);
  return {
    kafkaClients: clients as KafkaClientName[],
    sagas: whole('BENCH_SAGAS', 1000),
    soloSagas: whole('BENCH_SOLO_SAGAS', 100),
    concurrency: wholeList('BENCH_CONCURRENCY', [1, 20, 50, 100]),
    users: whole('BENCH_USERS', 200),
    warmupSagas: whole('BENCH_WARMUP_SAGAS', 40, 0),
    sagaTimeoutMs: whole('BENCH_SAGA_TIMEOUT_MS', 30_000),
    backends: backends as Backends[],
    resultsPath: process.env.BENCH_RESULTS ?? defaultResultsPath,
    profile: process.env.BENCH_PROFILE === '1',
    replicaAcks: wholeList('BENCH_REPLICA_ACKS', [0, 1], 0),
    durabilityConcurrency: wholeList('BENCH_DURABILITY_CONCURRENCY', [1, 20, 50]),
    sentinels: process.env.REDIS_SENTINELS ? { addresses: process.env.REDIS_SENTINELS, name: process.env.REDIS_SENTINEL_NAME || 'trellis' } : undefined,
  };
}
