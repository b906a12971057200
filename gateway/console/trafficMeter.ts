/**
 * Requests and errors per subgraph per second, for the console: samples the gateway's own
 * subgraph metrics (fetches, and calls a breaker or a missing instance refused) once a `intervalMs`
 * and keeps the last `windowSamples` samples, so the rates are the metrics' own, over a short window.
 */
import type { GatewayMetrics } from '../observability/metrics';

export interface SubgraphTraffic {
  subgraph: string;
  /** Calls per second over the window: fetches sent plus calls refused before sending. */
  requestsPerSecond: number;
  errorsPerSecond: number;
  /** Per-sample rates, oldest first, for a sparkline. */
  history: Array<{ at: number; requests: number; errors: number }>;
}

interface Sample {
  at: number;
  /** Cumulative counts by subgraph. */
  totals: Map<string, { requests: number; errors: number }>;
}

/** Refusals that never became a fetch (so the fetch histogram does not count them). */
const REFUSED_BEFORE_FETCH = new Set(['breaker_open', 'no_instance']);

export interface TrafficMeterOptions {
  metrics: GatewayMetrics;
  intervalMs?: number;
  /** Samples kept (the sparkline's length). */
  windowSamples?: number;
  /** Samples the rates are computed over (the newest ones). */
  rateSamples?: number;
  now?: () => number;
}

export class TrafficMeter {
  private readonly samples: Sample[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: TrafficMeterOptions) {}

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Takes one sample now (the timer's job; tests call it directly). */
  async sample(): Promise<void> {
    const { metrics, now = Date.now } = this.options;
    const totals = new Map<string, { requests: number; errors: number }>();
    const of = (subgraph: string) => totals.get(subgraph) ?? totals.set(subgraph, { requests: 0, errors: 0 }).get(subgraph)!;
    for (const value of (await metrics.subgraphFetchDuration.get()).values) {
      if (value.metricName?.endsWith('_count') && value.labels.subgraph) of(String(value.labels.subgraph)).requests += value.value;
    }
    for (const value of (await metrics.subgraphFetchErrors.get()).values) {
      const subgraph = String(value.labels.subgraph);
      of(subgraph).errors += value.value;
      if (REFUSED_BEFORE_FETCH.has(String(value.labels.reason))) of(subgraph).requests += value.value;
    }
    this.samples.push({ at: now(), totals });
    const keep = (this.options.windowSamples ?? 30) + 1;
    if (this.samples.length > keep) this.samples.splice(0, this.samples.length - keep);
  }

  /** Rates over the newest `rateSamples` samples, and per sample over the window; a subgraph seen in no sample is absent. */
  traffic(): SubgraphTraffic[] {
    if (this.samples.length < 2) return [];
    const first = this.samples[Math.max(0, this.samples.length - 1 - (this.options.rateSamples ?? 5))];
    const last = this.samples[this.samples.length - 1];
    const seconds = Math.max((last.at - first.at) / 1000, 0.001);
    const names = [...last.totals.keys()].sort();
    return names.map((subgraph) => {
      const delta = (a: Sample, b: Sample, field: 'requests' | 'errors') => (b.totals.get(subgraph)?.[field] ?? 0) - (a.totals.get(subgraph)?.[field] ?? 0);
      const history = this.samples.slice(1).map((sample, index) => {
        const before = this.samples[index];
        const span = Math.max((sample.at - before.at) / 1000, 0.001);
        return { at: sample.at, requests: delta(before, sample, 'requests') / span, errors: delta(before, sample, 'errors') / span };
      });
      return { subgraph, requestsPerSecond: delta(first, last, 'requests') / seconds, errorsPerSecond: delta(first, last, 'errors') / seconds, history };
    });
  }
}
