/**
 * The operator console on the admin listener: `/admin/` (a page built from gateway/console/web,
 * bundled, no CDN) polling `/admin/console.json` (the supergraph, instances, breakers and their
 * transitions, compositions, sagas (asked of the sagas subgraph), each subgraph's request and error rates,
 * and the entity cache: its mode, its change feed, its counters per type).
 */
import path from 'node:path';
import type { Router } from 'express';
import type { GatewayExtension } from '../extension';
import type { SupergraphSource } from '../supergraph/types';
import type { GatewayMetrics } from '../observability/metrics';
import type { SubgraphClient } from '../datasource';
import { BrowserBundle, bundlePage } from '@trellis/kit/internal';
import { BreakerJournal } from './breakerJournal';
import { CompositionHistory } from './compositionHistory';
import { TrafficMeter } from './trafficMeter';
import { consoleSnapshot } from './snapshot';
import { SagaOverviewSource } from './sagaOverview';
import type { EntityCache } from '../entityCache';

export { BreakerJournal } from './breakerJournal';
export { CompositionHistory } from './compositionHistory';
export { TrafficMeter } from './trafficMeter';
export type { ConsoleSnapshot } from './snapshot';
export { SagaOverviewSource, type SagasView } from './sagaOverview';
export type { CacheView } from './cacheOverview';

export const CONSOLE_BUNDLE = new BrowserBundle({ name: 'console', entry: path.join(__dirname, 'web', 'console.ts'), prebuiltDir: path.join(__dirname, 'web', 'bundle') });

export interface ConsoleOptions {
  source: SupergraphSource;
  metrics: GatewayMetrics;
  /** A JWT with the trellis:operator scope, sent to the sagas subgraph for its overview (CONSOLE_OPERATOR_TOKEN). */
  operatorToken?: string;
  /** The breaker journal the data source factory feeds (`onClient`). */
  journal: BreakerJournal;
  client: (name: string) => SubgraphClient | undefined;
  /** The entity cache, for the cache panel (its counters; the change feed's gauge is in `metrics.registry`). */
  entityCache: Pick<EntityCache, 'mode' | 'metrics'>;
  /** How often the page asks for a new snapshot, and the traffic meter samples. */
  refreshMs?: number;
}

export function operatorConsole(options: ConsoleOptions): GatewayExtension {
  const compositions = new CompositionHistory(options.source);
  const traffic = new TrafficMeter({ metrics: options.metrics, intervalMs: options.refreshMs ?? 1000 });
  const refreshMs = options.refreshMs ?? 1000;
  const sagas = new SagaOverviewSource({ client: options.client, operatorToken: options.operatorToken, freshMs: refreshMs });
  const cache = { mode: options.entityCache.mode, metrics: options.entityCache.metrics, registry: options.metrics.registry };
  const sources = { ...options, compositions, traffic, sagas, cache };
  return {
    name: 'console',
    mountAdminAssets: (router: Router) => {
      router.get('/admin/', async (_req, res) => {
        const files = await CONSOLE_BUNDLE.files();
        res.type('html').send(bundlePage({ title: 'Trellis console', base: '/admin/assets/', name: 'console', hasCss: files.has('console.css') }));
      });
      router.get('/admin/assets/:file', async (req, res, next) => {
        const file = (await CONSOLE_BUNDLE.files()).get(req.params.file);
        if (!file) return next();
        res.type(file.contentType).setHeader('cache-control', 'no-cache').send(file.body);
      });
    },
    mountAdmin: (app) => {
      app.get('/admin/console.json', async (_req, res) => {
        res.setHeader('cache-control', 'no-store');
        res.json(await consoleSnapshot(sources));
      });
    },
    attach: () => traffic.start(),
    stop: async () => traffic.stop(),
  };
}
