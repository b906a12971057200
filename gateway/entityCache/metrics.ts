/** The entity cache's Prometheus counters (`trellis_entity_cache_*`), per entity type. */
import { Counter, type Registry } from 'prom-client';

export class EntityCacheMetrics {
  /** Entities served from the cache, by tier (`local`: this gateway's memory, `redis`: the shared cache). */
  readonly hits: Counter<'type' | 'tier'>;
  /** Cacheable entities not served from the cache (absent, or stale: counted in both), fetched from their subgraph. */
  readonly misses: Counter<'type'>;
  /** Entities found past their TTL (or past a shortened one), fetched again. */
  readonly stale: Counter<'type'>;
  /** Entities dropped by an announced change. */
  readonly invalidations: Counter<'type'>;
  /** Shadow mode: cached entities compared with the fresh answer. */
  readonly shadowComparisons: Counter<'type'>;
  /** Shadow mode: fields whose cached value differed from the fresh one. */
  readonly shadowDifferences: Counter<'type' | 'field'>;
  /** Cache Redis commands that failed or timed out (each one a miss, never an error). */
  readonly redisErrors: Counter<'operation'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.hits = new Counter({ name: 'trellis_entity_cache_hits_total', help: 'Entities served from the entity cache, by type and tier (local, redis)', labelNames: ['type', 'tier'], registers });
    this.misses = new Counter({ name: 'trellis_entity_cache_misses_total', help: 'Cacheable entities not served from the entity cache (absent or stale), by type', labelNames: ['type'], registers });
    this.stale = new Counter({ name: 'trellis_entity_cache_stale_total', help: 'Entities found in the entity cache past their TTL, by type', labelNames: ['type'], registers });
    this.invalidations = new Counter({ name: 'trellis_entity_cache_invalidations_total', help: 'Entities dropped from the entity cache by an announced change, by type', labelNames: ['type'], registers });
    this.shadowComparisons = new Counter({ name: 'trellis_entity_cache_shadow_comparisons_total', help: 'Shadow mode: cached entities compared with fresh ones, by type', labelNames: ['type'], registers });
    this.shadowDifferences = new Counter({ name: 'trellis_entity_cache_shadow_differences_total', help: 'Shadow mode: fields whose cached value differed from the fresh one, by type and field', labelNames: ['type', 'field'], registers });
    this.redisErrors = new Counter({ name: 'trellis_entity_cache_redis_errors_total', help: 'Entity cache Redis commands that failed or timed out, by operation (each a miss)', labelNames: ['operation'], registers });
    // Exported from the start, so a dashboard reads 0 failures rather than no series.
    for (const operation of ['read', 'write', 'drop']) this.redisErrors.inc({ operation }, 0);
  }
}
