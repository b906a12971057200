/** The console's cache panel: the cache's own counters per type, its mode, and its change feed's liveness. */
import { Registry } from 'prom-client';
import { loadConfig } from '@trellis/kit/internal/config';
import { InMemoryEventBus } from '@trellis/kit/internal/events';
import { EntityCacheMetrics } from '../../../../gateway/entityCache/metrics';
import { changeFeedExtensions } from '../../../../gateway/entityCache/changeFeedExtension';
import { cacheOverview } from '../../../../gateway/console/cacheOverview';
import { recordingLogger } from '../../../support/recordingLogger';
import { eventually } from '../../../support/graphql';

describe('cacheOverview', () => {
  it('sums each type over tiers, lists the shadow differences most first, and says no feed runs when none does', async () => {
    const registry = new Registry();
    const metrics = new EntityCacheMetrics(registry);
    metrics.hits.inc({ type: 'Product', tier: 'local' }, 5);
    metrics.hits.inc({ type: 'Product', tier: 'redis' }, 2);
    metrics.misses.inc({ type: 'Product' }, 3);
    metrics.stale.inc({ type: 'Product' }, 1);
    metrics.invalidations.inc({ type: 'Product' }, 4);
    metrics.shadowComparisons.inc({ type: 'Product' }, 6);
    metrics.shadowDifferences.inc({ type: 'Product', field: 'inStock' }, 2);
    metrics.shadowDifferences.inc({ type: 'Product', field: 'price' }, 1);
    metrics.misses.inc({ type: 'User' });
    metrics.shadowDifferences.inc({ type: 'Query', field: 'me' }, 2);

    expect(await cacheOverview({ mode: 'shadow', metrics, registry })).toEqual({
      mode: 'shadow',
      feed: 'none',
      types: [
        { type: 'Product', hits: 7, misses: 3, stale: 1, invalidations: 4, shadowComparisons: 6, shadowDifferences: 3 },
        { type: 'Query', hits: 0, misses: 0, stale: 0, invalidations: 0, shadowComparisons: 0, shadowDifferences: 2 },
        { type: 'User', hits: 0, misses: 1, stale: 0, invalidations: 0, shadowComparisons: 0, shadowDifferences: 0 },
      ],
      differences: [
        { type: 'Product', field: 'inStock', count: 2 },
        { type: 'Query', field: 'me', count: 2 },
        { type: 'Product', field: 'price', count: 1 },
      ],
    });
  });

  it('shows the change feed down until it hears its own heartbeat, then live, from the feed the gateway runs', async () => {
    const registry = new Registry();
    const metrics = new EntityCacheMetrics(registry);
    const events = new InMemoryEventBus();
    const config = loadConfig({ ENTITY_CACHE: 'on', ENTITY_CHANGES_HEARTBEAT_MS: '50' });
    const [feed] = changeFeedExtensions({ config, logger: recordingLogger().logger, events, registry, cache: { invalidate: async () => undefined, shortenTtl: () => undefined } });
    try {
      expect((await cacheOverview({ mode: 'on', metrics, registry })).feed).toBe('down');
      await feed.attach!({} as never, {} as never);
      await eventually(async () => expect((await cacheOverview({ mode: 'on', metrics, registry })).feed).toBe('live'));
    } finally {
      await feed.stop!();
      await events.close();
    }
  });
});
