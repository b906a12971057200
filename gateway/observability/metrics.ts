/** The gateway's Prometheus metrics, on a registry passed in. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { keepsExemplars } from '@trellis/kit/internal';

const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class GatewayMetrics {
  readonly requests: Counter<'operation' | 'outcome'>;
  readonly requestDuration: Histogram<'operation' | 'outcome'>;
  readonly subgraphFetchDuration: Histogram<'subgraph' | 'outcome'>;
  readonly subgraphFetchErrors: Counter<'subgraph' | 'reason'>;
  readonly subgraphRetries: Counter<'subgraph' | 'outcome'>;
  readonly dedupedFetches: Counter<'subgraph'>;
  readonly ejectedInstances: Gauge<'subgraph'>;
  readonly supergraphVersion: Gauge;
  readonly compositionFailures: Counter;
  readonly persistedQueryStoreErrors: Counter;

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
    this.ejectedInstances = new Gauge({ name: 'trellis_subgraph_ejected_instances', help: 'Instances ejected as outliers', labelNames: ['subgraph'], registers });
    this.supergraphVersion = new Gauge({ name: 'trellis_supergraph_version', help: 'Version of the served supergraph (grows with each swap)', registers });
    this.compositionFailures = new Counter({ name: 'trellis_composition_failures_total', help: 'Supergraph compositions that failed', registers });
    this.persistedQueryStoreErrors = new Counter({ name: 'trellis_persisted_query_store_errors_total', help: 'APQ lookups that failed in the state store and were treated as misses', registers });
  }
}
