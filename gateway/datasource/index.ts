/**
 * Builds data sources for Apollo Gateway. Clients (breaker, balancer, ejections) live per subgraph
 * name across supergraph swaps, so a recomposition never resets a breaker.
 */
import type { GraphQLDataSource } from '@apollo/gateway';
import type { Logger } from '@trellis/kit';
import type { BreakerSettings } from '@trellis/kit';
import type { InstanceDirectory } from '../supergraph/instances';
import type { GatewayMetrics } from '../observability/metrics';
import type { SubgraphHeaders } from '../headers';
import { HttpClient } from './httpClient';
import { InflightDedup } from './inflightDedup';
import type { OutlierSettings } from './outlierDetector';
import type { RetryBudgetSettings } from './retryBudget';
import { SubgraphClient, type SubgraphAnswer } from './subgraphClient';
import { SubgraphDataSource } from './subgraphDataSource';
import type { EntityCache } from '../entityCache';

export { SubgraphUnavailableError } from './errors';
export { SubgraphClient } from './subgraphClient';
export { HttpClient, type HttpClientOptions } from './httpClient';

export interface ResilienceSettings {
  breaker: BreakerSettings;
  /** Per-subgraph breaker settings from config; they win over discovery meta. */
  breakerOverrides: Record<string, Partial<BreakerSettings>>;
  outliers: OutlierSettings;
  retryBudget: RetryBudgetSettings;
  dedupQueries: boolean;
}

/** Discovery meta keys a subgraph may set to tune its own breaker (Consul allows only [A-Za-z0-9_-]). */
const META_KEYS: Record<string, keyof BreakerSettings> = {
  breaker_timeout_ms: 'timeoutMs',
  breaker_error_threshold_percentage: 'errorThresholdPercentage',
  breaker_volume_threshold: 'volumeThreshold',
  breaker_reset_timeout_ms: 'resetTimeoutMs',
};

export function breakerSettingsFor(name: string, meta: Record<string, string>, settings: ResilienceSettings): BreakerSettings {
  const fromMeta: Partial<BreakerSettings> = {};
  for (const [key, field] of Object.entries(META_KEYS)) {
    const value = Number(meta[key]);
    if (meta[key] !== undefined && Number.isFinite(value) && value > 0) fromMeta[field] = value;
  }
  return { ...settings.breaker, ...fromMeta, ...(settings.breakerOverrides[name] ?? {}) };
}

export class DataSourceFactory {
  private readonly clients = new Map<string, SubgraphClient>();
  private readonly http: HttpClient;
  private readonly dedup = new InflightDedup<SubgraphAnswer>();

  constructor(
    private readonly deps: {
      settings: ResilienceSettings;
      instances: InstanceDirectory;
      headers: SubgraphHeaders;
      logger: Logger;
      metrics?: GatewayMetrics;
      http?: HttpClient;
      /** A span per fetch and attempt (only when spans are exported). */
      tracing?: boolean;
      /** Entity fetches go through it (ENTITY_CACHE on or shadow). */
      entityCache?: EntityCache;
      /** Told of each subgraph's client when it is made (the console follows its breaker). */
      onClient?: (name: string, client: SubgraphClient) => void;
    },
  ) {
    this.http = deps.http ?? new HttpClient();
  }

  create(name: string): GraphQLDataSource {
    const { settings, instances, logger, metrics } = this.deps;
    let client = this.clients.get(name);
    if (!client) {
      const meta = instances.routableOf(name)[0]?.meta ?? {};
      client = new SubgraphClient({
        name,
        instances,
        http: this.http,
        breaker: breakerSettingsFor(name, meta, settings),
        outliers: settings.outliers,
        retryBudget: settings.retryBudget,
        metrics,
        logger,
        tracing: this.deps.tracing,
      });
      this.clients.set(name, client);
      this.deps.onClient?.(name, client);
    }
    return new SubgraphDataSource(name, client, this.deps.headers, settings.dedupQueries ? this.dedup : undefined, metrics, this.deps.tracing, this.deps.entityCache);
  }

  client(name: string): SubgraphClient | undefined {
    return this.clients.get(name);
  }

  async close(): Promise<void> {
    for (const client of this.clients.values()) client.breaker.shutdown();
    await this.http.close();
  }
}
