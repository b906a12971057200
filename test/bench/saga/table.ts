/** The saga results: one row per backend with ratios against embedded, and latency per terminal state. */
import { fixed, markdownTable, ratio } from '../gateway/table';
import type { KafkaTraffic } from './kafkaTraffic';
import type { LoadResult } from './load';
import type { Backends } from './settings';

export interface SagaRow {
  backends: Backends;
  /** What the row is called in the tables. */
  label: string;
  sagas: number;
  concurrency: number;
  load?: LoadResult;
  /** CPU ms each process spent during the measured run, by process name. */
  cpu?: Map<string, number>;
  /** Requests by API and messages the services sent to Kafka during the measured run (real backends). */
  kafka?: KafkaTraffic;
  /** The machine's 1-minute load average when the level ended: other sessions share the cores. */
  loadAverage?: number;
  /** Why there is no measurement, or a warning about this one. */
  note?: string;
  /** REDIS_MIN_REPLICAS_ACK of the platform (the durability runs). */
  replicaAck?: number;
}

const STATES = ['COMPLETED', 'COMPENSATED', 'FAILED'];
const HEADER = ['backends', 'sagas', 'concurrency', 'wall s', 'sagas/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', ...STATES, 'errors', 'sagas/s ×embedded', 'p50 ×embedded', 'p99 ×embedded', 'load', 'note'];

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

interface Summary {
  perSecond: number;
  p50?: number;
  p90?: number;
  p99?: number;
  max?: number;
}

function summarize(load: LoadResult, state?: string): Summary {
  const latencies = load.outcomes.filter((outcome) => !state || outcome.state === state).map((outcome) => outcome.latencyMs).sort((a, b) => a - b);
  return { perSecond: (load.outcomes.length * 1000) / load.wallMs, p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] };
}

const count = (load: LoadResult | undefined, state: string) => (load ? String(load.outcomes.filter((outcome) => outcome.state === state).length) : '–');

/** Distinct error messages with their counts, for the note column. */
/** Distinct error messages with their counts (each cut to `maxChars`): the note column and the run's log. */
export function countErrors(errors: string[], maxChars = Number.POSITIVE_INFINITY): string {
  const counts = new Map<string, number>();
  for (const message of errors) counts.set(message, (counts.get(message) ?? 0) + 1);
  return [...counts].map(([message, times]) => `${times}× ${message.slice(0, maxChars)}`).join('; ');
}

/** The embedded row at the same concurrency: the baseline of a row's ratios. */
function baselineOf(rows: SagaRow[], row: SagaRow): Summary | undefined {
  const load = rows.find((other) => other.backends === 'embedded' && other.concurrency === row.concurrency)?.load;
  return load && summarize(load);
}

export function renderSagaTable(rows: SagaRow[]): string {
  return markdownTable(
    HEADER,
    rows.map((row) => {
      const base = baselineOf(rows, row);
      const summary = row.load && summarize(row.load);
      return [
        row.label,
        String(row.sagas),
        String(row.concurrency),
        fixed(row.load && row.load.wallMs / 1000, 1),
        fixed(summary?.perSecond, 1),
        fixed(summary?.p50, 0),
        fixed(summary?.p90, 0),
        fixed(summary?.p99, 0),
        fixed(summary?.max, 0),
        ...STATES.map((state) => count(row.load, state)),
        row.load ? String(row.load.errors.length) : '–',
        ratio(summary?.perSecond, base?.perSecond),
        ratio(summary?.p50, base?.p50),
        ratio(summary?.p99, base?.p99),
        fixed(row.loadAverage, 1),
        [row.note, row.load && countErrors(row.load.errors, 120)].filter(Boolean).join('; '),
      ];
    }),
  );
}

/** Latency of each terminal state seen, per backend: the two paths (complete, undo) cost differently. */
export function renderStateTable(rows: SagaRow[]): string {
  const body: string[][] = [];
  for (const row of rows) {
    if (!row.load) continue;
    for (const state of STATES) {
      const seen = row.load.outcomes.filter((outcome) => outcome.state === state).length;
      if (seen === 0) continue;
      const summary = summarize(row.load, state);
      body.push([row.label, String(row.concurrency), state, String(seen), fixed(summary.p50, 0), fixed(summary.p90, 0), fixed(summary.p99, 0), fixed(summary.max, 0)]);
    }
  }
  return markdownTable(['backends', 'concurrency', 'terminal state', 'sagas', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], body);
}

/** CPU time per saga of each process (ms), so a row shows which process a saga costs most in. */
export function renderCpuTable(rows: SagaRow[]): string {
  const names = [...new Set(rows.flatMap((row) => [...(row.cpu?.keys() ?? [])]))];
  const order = ['gateway', 'sagas', 'catalog', 'payments', 'orders', 'users', 'web-bff', 'mobile-bff', 'launcher + dev hub', 'launcher', 'kafka', 'redis', 'redis primary', 'redis replica'];
  names.sort((a, b) => (order.indexOf(a) === -1 ? 99 : order.indexOf(a)) - (order.indexOf(b) === -1 ? 99 : order.indexOf(b)));
  const body = rows
    .filter((row) => row.cpu && row.load && row.load.outcomes.length > 0)
    .map((row) => {
      const sagas = row.load!.outcomes.length;
      const perSaga = (ms: number | undefined) => fixed(ms === undefined ? undefined : ms / sagas, 2);
      const total = [...row.cpu!.values()].reduce((sum, ms) => sum + ms, 0);
      const busy = (total / row.load!.wallMs) * 100;
      return [row.label, String(row.concurrency), ...names.map((name) => perSaga(row.cpu!.get(name))), perSaga(total), `${fixed(busy, 0)}%`];
    });
  return markdownTable(['backends', 'concurrency', ...names.map((name) => `${name} ms`), 'all ms', 'CPU busy (of 1 core)'], body);
}

/** Requests (by API), messages and broker CPU per saga (real backends): what a saga costs the Kafka broker. */
export function renderKafkaTable(rows: SagaRow[]): string {
  const shown = ['Produce', 'Fetch', 'OffsetCommit', 'Heartbeat'];
  const body = rows
    .filter((row) => row.backends !== 'embedded' && row.load && row.load.outcomes.length > 0)
    .map((row) => {
      const sagas = row.load!.outcomes.length;
      const traffic = row.kafka;
      const perSaga = (count: number | undefined) => fixed(count === undefined ? undefined : count / sagas, 2);
      const requests = traffic && [...traffic.requests.values()].reduce((sum, count) => sum + count, 0);
      const other = traffic && [...traffic.requests].filter(([api]) => !shown.includes(api)).reduce((sum, [, count]) => sum + count, 0);
      const produce = traffic?.requests.get('Produce');
      return [
        row.label,
        String(row.concurrency),
        ...shown.map((api) => perSaga(traffic ? (traffic.requests.get(api) ?? 0) : undefined)),
        perSaga(other),
        perSaga(requests),
        perSaga(traffic?.messages),
        fixed(traffic && produce ? traffic.messages / produce : undefined, 2),
        fixed(row.cpu?.has('kafka') ? row.cpu.get('kafka')! / sagas : undefined, 2),
        fixed(row.loadAverage, 1),
      ];
    });
  return markdownTable(
    ['backends', 'concurrency', 'produce requests', 'fetch', 'offset commit', 'heartbeat', 'other requests', 'all requests', 'messages', 'messages per produce request', 'kafka CPU ms', 'load'],
    body,
  );
}

/**
 * The durability runs side by side: at each concurrency, every REDIS_MIN_REPLICAS_ACK with its
 * throughput, latency, errors and Redis CPU, and its ratios against the lowest ack measured at
 * the same concurrency.
 */
export function renderDurabilityTable(rows: SagaRow[]): string {
  const runs = rows.filter((row) => row.backends === 'sentinel' && row.replicaAck !== undefined);
  const lowest = Math.min(...runs.map((row) => row.replicaAck!));
  const body = [...runs]
    .sort((a, b) => a.concurrency - b.concurrency || a.replicaAck! - b.replicaAck!)
    .map((row) => {
      const summary = row.load && summarize(row.load);
      const base = runs.find((other) => other.replicaAck === lowest && other.concurrency === row.concurrency)?.load;
      const baseline = base && summarize(base);
      const sagas = row.load?.outcomes.length;
      const redisMs = row.cpu && sagas ? ['redis primary', 'redis replica'].reduce((sum, name) => sum + (row.cpu!.get(name) ?? Number.NaN), 0) / sagas : undefined;
      return [
        String(row.concurrency),
        String(row.replicaAck),
        fixed(summary?.perSecond, 1),
        fixed(summary?.p50, 0),
        fixed(summary?.p99, 0),
        row.load ? String(row.load.errors.length) : '–',
        ratio(summary?.perSecond, baseline?.perSecond),
        ratio(summary?.p50, baseline?.p50),
        ratio(summary?.p99, baseline?.p99),
        fixed(redisMs, 2),
        fixed(row.loadAverage, 1),
        [row.note, row.load && countErrors(row.load.errors, 120)].filter(Boolean).join('; '),
      ];
    });
  return markdownTable(
    ['concurrency', 'REDIS_MIN_REPLICAS_ACK', 'sagas/s', 'p50 ms', 'p99 ms', 'errors', `sagas/s ×ack ${lowest}`, `p50 ×ack ${lowest}`, `p99 ×ack ${lowest}`, 'Redis CPU ms', 'load', 'note'],
    body,
  );
}
