/** The rate limit's Prometheus counters, by policy, shared by every limiter on one registry. */
import { Counter, type Registry } from 'prom-client';
import { singleMetric } from '../metrics';

export interface RateLimitMetrics {
  /** Requests refused with 429. */
  refused: Counter<'policy'>;
  /** Requests let through because the store failed. */
  storeFailures: Counter<'policy'>;
}

export function rateLimitMetrics(registry: Registry): RateLimitMetrics {
  const registers = [registry];
  return {
    refused: singleMetric(registry, 'trellis_rate_limited_total', () => new Counter({ name: 'trellis_rate_limited_total', help: 'Requests refused by a rate limit', labelNames: ['policy'], registers })),
    storeFailures: singleMetric(
      registry,
      'trellis_rate_limit_store_failures_total',
      () => new Counter({ name: 'trellis_rate_limit_store_failures_total', help: 'Requests let through because the rate limit store failed', labelNames: ['policy'], registers }),
    ),
  };
}
