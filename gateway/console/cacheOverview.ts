/**
 * The console's cache panel: the entity cache's mode, whether its change feed hears its own
 * heartbeat, and per type its hits, misses, stale entries, invalidations and shadow comparisons and
 * differences, read from the cache's own counters (the numbers `/metrics` exports, not a second count).
 */
import type { Counter, Registry } from 'prom-client';
import type { EntityCacheMode } from '@trellis/kit/internal/config';
import type { EntityCacheMetrics } from '../entityCache/metrics';
import { FEED_LIVE_METRIC } from '../entityCache/changeFeed';

export interface CacheOverviewSource {
  mode: EntityCacheMode;
  metrics: EntityCacheMetrics;
  /** The gateway's registry, where the change feed (when one runs) keeps its liveness gauge. */
  registry: Registry;
}

export interface CacheTypeView {
  type: string;
  /** Served from the cache, both tiers. */
  hits: number;
  misses: number;
  stale: number;
  invalidations: number;
  shadowComparisons: number;
  shadowDifferences: number;
}

export interface CacheView {
  mode: EntityCacheMode;
  /** `live`: the feed hears its heartbeat; `down`: it does not (TTLs shortened); `none`: no feed runs (cache off). */
  feed: 'live' | 'down' | 'none';
  types: CacheTypeView[];
  /** Shadow mode: the fields whose cached value differed, most first. */
  differences: Array<{ type: string; field: string; count: number }>;
}

type Tally = Omit<CacheTypeView, 'type'>;

export async function cacheOverview({ mode, metrics, registry }: CacheOverviewSource): Promise<CacheView> {
  const types = new Map<string, Tally>();
  const add = async (counter: Counter<string>, field: keyof Tally) => {
    for (const { labels, value } of (await counter.get()).values) {
      const type = String(labels.type);
      const tally = types.get(type) ?? types.set(type, { hits: 0, misses: 0, stale: 0, invalidations: 0, shadowComparisons: 0, shadowDifferences: 0 }).get(type)!;
      tally[field] += value;
    }
  };
  await add(metrics.hits, 'hits');
  await add(metrics.misses, 'misses');
  await add(metrics.stale, 'stale');
  await add(metrics.invalidations, 'invalidations');
  await add(metrics.shadowComparisons, 'shadowComparisons');
  await add(metrics.shadowDifferences, 'shadowDifferences');
  const differences = (await metrics.shadowDifferences.get()).values
    .map(({ labels, value }) => ({ type: String(labels.type), field: String(labels.field), count: value }))
    .sort((a, b) => b.count - a.count || a.type.localeCompare(b.type) || a.field.localeCompare(b.field));
  const gauge = registry.getSingleMetric(FEED_LIVE_METRIC);
  const live = gauge ? (await gauge.get()).values[0]?.value === 1 : undefined;
  return {
    mode,
    feed: live === undefined ? 'none' : live ? 'live' : 'down',
    types: [...types].map(([type, tally]) => ({ type, ...tally })).sort((a, b) => a.type.localeCompare(b.type)),
    differences,
  };
}
