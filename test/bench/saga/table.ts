/** The saga results: one row per backend with ratios against embedded, and latency per terminal state. */
import { fixed, markdownTable, ratio } from '../gateway/table';
import type { LoadResult } from './load';

export interface SagaRow {
  backends: 'embedded' | 'real';
  /** What the row is called in the tables. */
  label: string;
  sagas: number;
  concurrency: number;
  load?: LoadResult;
  /** Why there is no measurement, or a warning about this one. */
  note?: string;
}

const STATES = ['COMPLETED', 'COMPENSATED', 'FAILED'];
const HEADER = ['backends', 'sagas', 'concurrency', 'wall s', 'sagas/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', ...STATES, 'errors', 'sagas/s ×embedded', 'p50 ×embedded', 'p99 ×embedded', 'note'];

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
function errorNote(load: LoadResult): string {
  const counts = new Map<string, number>();
  for (const message of load.errors) counts.set(message, (counts.get(message) ?? 0) + 1);
  return [...counts].map(([message, times]) => `${times}× ${message.slice(0, 120)}`).join('; ');
}

export function renderSagaTable(rows: SagaRow[]): string {
  const baseline = rows.find((row) => row.backends === 'embedded')?.load;
  const base = baseline && summarize(baseline);
  return markdownTable(
    HEADER,
    rows.map((row) => {
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
        [row.note, row.load && errorNote(row.load)].filter(Boolean).join('; '),
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
      body.push([row.label, state, String(seen), fixed(summary.p50, 0), fixed(summary.p90, 0), fixed(summary.p99, 0), fixed(summary.max, 0)]);
    }
  }
  return markdownTable(['backends', 'terminal state', 'sagas', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], body);
}
