/** The gateway's Prometheus metrics, on a registry passed in. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { keepsExemplars, observeWithTrace } from '@trellis/kit/internal';
import type { SupergraphStatus } from '../supergraph/types';

const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Distinct operation names kept as labels; the rest count as `other` so clients cannot explode cardinality. */
const MAX_OPERATION_LABELS = 500;

/** How a GraphQL request ended: data and no error, data with errors, or no data. */
export type RequestOutcome = 'success' | 'partial' | 'error';

export class GatewayMetrics {
  readonly requests: Counter<'operation' | 'outcome'>;
  readonly requestDuration: Histogram<'operation' | 'outcome'>;
  readonly subgraphFetchDuration: Histogram<'subgraph' | 'outcome'>;
  readonly subgraphFetchErrors: Counter<'subgraph' | 'reason'>;
  readonly subgraphRetries: Counter<'subgraph' | 'outcome'>;
  readonly dedupedFetches: Counter<'subgraph'>;
  readonly subgraphPanicFetches: Counter<'subgraph'>;
  readonly ejectedInstances: Gauge<'subgraph'>;
  readonly supergraphVersion: Gauge;
  readonly compositionFailures: Counter;
  readonly compositions: Counter<'outcome'>;
  readonly supergraphComposer: Gauge;
  readonly supergraphStaleSeconds: Gauge;
  /** Where the publication gauges read from at each scrape (observability sets it). */
  private publication: () => SupergraphStatus['publication'] = () => undefined;
  readonly persistedQueryStoreErrors: Counter;
  private readonly operationLabels = new Set<string>();

  constructor(readonly registry: Registry) {
    const registers = [registry];
    // Latency buckets link to traces (trace_id exemplars) when the registry keeps them (tracing on).
    const enableExemplars = keepsExemplars(registry);
    this.requests = new Counter({ name: 'trellis_gateway_requests_total', help: 'GraphQL requests by operation name and outcome', labelNames: ['operation', 'outcome'], registers });
    this.requestDuration = new Histogram({
      name: 'trellis_gateway_request_duration_seconds',
      help: 'GraphQL request latency',
      labelNames: ['operation', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
      enableExemplars,
    });
    this.subgraphFetchDuration = new Histogram({
      name: 'trellis_subgraph_fetch_duration_seconds',
      help: 'Latency of fetches to subgraphs',
      labelNames: ['subgraph', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
      enableExemplars,
    });
    this.subgraphFetchErrors = new Counter({ name: 'trellis_subgraph_fetch_errors_total', help: 'Failed subgraph fetches by reason', labelNames: ['subgraph', 'reason'], registers });
    this.subgraphRetries = new Counter({ name: 'trellis_subgraph_retries_total', help: 'Query retries on another instance', labelNames: ['subgraph', 'outcome'], registers });
    this.dedupedFetches = new Counter({ name: 'trellis_subgraph_deduplicated_fetches_total', help: 'Fetches answered by an identical one in flight', labelNames: ['subgraph'], registers });
    this.subgraphPanicFetches = new Counter({
      name: 'trellis_subgraph_panic_fetches_total',
      help: 'Fetches sent to registered instances whose readiness checks fail, none of the subgraph being healthy',
      labelNames: ['subgraph'],
      registers,
    });
    this.ejectedInstances = new Gauge({ name: 'trellis_subgraph_ejected_instances', help: 'Instances ejected as outliers', labelNames: ['subgraph'], registers });
    this.supergraphVersion = new Gauge({ name: 'trellis_supergraph_version', help: 'Version of the served supergraph (grows with each swap)', registers });
    this.compositionFailures = new Counter({ name: 'trellis_composition_failures_total', help: 'Supergraph compositions that failed', registers });
    this.compositions = new Counter({ name: 'trellis_supergraph_compositions_total', help: 'Supergraph compositions by outcome (ok, failed, timed_out: killed at COMPOSITION_TIMEOUT_MS)', labelNames: ['outcome'], registers });
    // Every outcome exported from the start, so a dashboard reads 0 timeouts rather than no series.
    for (const outcome of ['ok', 'failed', 'timed_out']) this.compositions.inc({ outcome }, 0);
    const publication = () => this.publication();
    this.supergraphComposer = new Gauge({
      name: 'trellis_supergraph_composer',
      help: 'Whether this gateway holds the composer lock and composes the published supergraph (1) or serves what another published (0)',
      registers,
      collect() {
        const status = publication();
        if (status) this.set(status.composer ? 1 : 0);
      },
    });
    this.supergraphStaleSeconds = new Gauge({
      name: 'trellis_supergraph_kv_stale_seconds',
      help: 'While the published supergraph cannot be read (Consul KV unreachable), seconds since it was last read; 0 while it can',
      registers,
      collect() {
        const status = publication();
        if (status) this.set(status.staleSeconds);
      },
    });
    this.persistedQueryStoreErrors = new Counter({ name: 'trellis_persisted_query_store_errors_total', help: 'APQ lookups that failed in the state store and were treated as misses', registers });
  }

  /** The gauges of the published supergraph read `status` at each scrape. */
  /** One GraphQL request on HTTP (answered by Apollo Server, or streamed part by part), counted and timed by operation name and outcome. */
  recordRequest(operationName: string | null | undefined, outcome: RequestOutcome, seconds: number): void {
    const named = operationName || 'anonymous';
    if (this.operationLabels.size < MAX_OPERATION_LABELS) this.operationLabels.add(named);
    const operation = this.operationLabels.has(named) ? named : 'other';
    this.requests.inc({ operation, outcome });
    observeWithTrace(this.requestDuration, { operation, outcome }, seconds);
  }

  followPublication(status: () => SupergraphStatus['publication']): void {
    this.publication = status;
  }
}
