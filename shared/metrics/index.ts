/**
 * Prometheus metrics (prom-client). Every process owns one Registry, passed to whatever records
 * metrics, and serves it at `/metrics`; nothing uses prom-client's global registry.
 */
import type { Express } from 'express';
import { collectDefaultMetrics, Registry } from 'prom-client';

export { Registry } from 'prom-client';

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'trellis_process_' });
  return registry;
}

export function mountMetrics(app: Express, registry: Registry): void {
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
  });
}

/** The metric of this name in the registry, created once (so several components can share it). */
export function singleMetric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
