/**
 * Prometheus metrics (prom-client). Every process owns one Registry, passed to whatever records
 * metrics, and serves it at `/metrics`; nothing uses prom-client's global registry.
 */
import type { Express } from 'express';
import { collectDefaultMetrics, type Registry } from 'prom-client';
import { MetricsRegistry } from './exemplars';

export { Registry } from 'prom-client';
export { MetricsRegistry, keepsExemplars, observeWithTrace } from './exemplars';

export interface MetricsRegistryOptions {
  /** Histograms carry trace ids as exemplars (tracing is on): an OpenMetrics registry. */
  exemplars?: boolean;
}

export function createMetricsRegistry(service: string, options: MetricsRegistryOptions = {}): Registry {
  const registry = new MetricsRegistry(options.exemplars);
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'trellis_process_' });
  return registry;
}

export function mountMetrics(app: Express, registry: Registry): void {
  app.get('/metrics', async (req, res) => {
    const { contentType, text } = registry instanceof MetricsRegistry ? await registry.exposition(req.header('accept')) : { contentType: registry.contentType, text: await registry.metrics() };
    res.setHeader('content-type', contentType);
    res.end(text);
  });
}

/** The metric of this name in the registry, created once (so several components can share it). */
export function singleMetric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
