/**
 * Root fetches through the cache: a subgraph query that is not `_entities` (a root field's fetch)
 * is kept whole when its subgraph declares a maxAge for it (`@cacheControl` on the root field or
 * the type it returns), keyed by its query, variables and the caller where that matters, and
 * dropped with any entity it holds. A list's membership (a new product on a page) is not an
 * entity change: only the TTL bounds it.
 */
import type { GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import { sortedKey } from '@trellis/kit/internal/events';
import { sha256 } from '../sha256';
import type { CacheCaller } from './entityCache';
import type { CachedFetch, FetchedAnswer } from './entityFetch';
import type { EntityStore } from './entityStore';
import type { RootOperation } from './rootAnswer';
import { entitiesIn } from './rootAnswer';
import type { EntityCacheMetrics } from './metrics';
import { differingFields } from './shadowComparison';
import type { SupergraphFacts } from './supergraphFacts';

/** What the metrics count a root answer as (per root field would be per query shape, not per type). */
const ROOT_LABEL = 'Query';

export interface RootFetch {
  subgraph: string;
  query: { hash: string } & RootOperation;
  variables?: Record<string, unknown>;
  vary?: string;
}

interface RootRecord {
  /** `Type:{key}` of every entity the answer holds. */
  entities: string[];
  data: Record<string, unknown>;
}

export interface RootCacheOptions {
  mode: 'on' | 'shadow';
  store: EntityStore;
  metrics: EntityCacheMetrics;
  now: () => number;
  /** The served supergraph's facts and API schema, as they are now. */
  supergraph: () => { facts: SupergraphFacts; schema?: GraphQLSchema };
}

export class RootCache {
  /** Root queries a subgraph answered `private` (subgraph + query hash): their entries are per caller. */
  private readonly privateQueries = new LRUCache<string, true>({ max: 5000 });
  /** Root queries a subgraph answered with a maxAge: only those are looked up (a root fetch never declared costs no Redis read). */
  private readonly cacheableQueries = new LRUCache<string, true>({ max: 5000 });

  constructor(private readonly options: RootCacheOptions) {}

  async fetch(request: RootFetch, caller: CacheCaller, send: (variables: Record<string, unknown>) => Promise<FetchedAnswer>): Promise<CachedFetch | undefined> {
    const { facts, schema } = this.options.supergraph();
    if (!schema) return undefined;
    const queryId = `${request.subgraph}\n${request.query.hash}`;
    const shared = `${queryId}\n${request.vary ?? ''}\n${JSON.stringify(sortedKey(request.variables ?? {}))}\n${facts.globalAccessVariant(caller)}`;
    // Hashed only when used: the shared key, or the caller's for a query answered private.
    const privateKey = () => (caller ? sha256(`${shared}\n${JSON.stringify(caller.id)}`) : undefined);
    const isPrivateQuery = this.privateQueries.has(queryId);
    const key = isPrivateQuery ? privateKey() : sha256(shared);
    if (!key) return undefined;
    const { store, now } = this.options;
    const found = this.cacheableQueries.has(queryId) ? await store.getRoot(key, ROOT_LABEL) : undefined;
    const cached = found && (JSON.parse(found.entry.json) as RootRecord);
    if (found && cached && this.options.mode === 'on') {
      if (found.tier === 'redis') store.keepRoot(key, found.entry, cached.entities);
      const maxAge = Math.max(0, Math.floor((found.entry.expiresAt - now()) / 1000));
      return { response: { data: cached.data }, hint: { maxAge, scope: found.entry.isPrivate ? 'PRIVATE' : 'PUBLIC' }, hits: 1, fetched: 0, entities: cached.entities };
    }
    const fetchedAt = now();
    const fresh = await send(request.variables ?? {});
    const data = fresh.response.data;
    if (cached) {
      // Shadow: compared, and left as `on` would have left it.
      if (!fresh.response.errors && data) this.compare(cached.data, data);
      const held = data ? entitiesIn(schema, facts, request.query, data) : undefined;
      return { ...fresh, hits: 0, fetched: 1, ...(held ? { entities: [...held.keys()] } : {}) };
    }
    if (fresh.hint.maxAge <= 0 || fresh.response.errors || !data) return { ...fresh, hits: 0, fetched: 1 };
    this.cacheableQueries.set(queryId, true);
    const isPrivate = fresh.hint.scope === 'PRIVATE';
    if (isPrivate) this.privateQueries.set(queryId, true);
    const storeKey = !isPrivate || isPrivateQuery ? key : privateKey();
    const entities = entitiesIn(schema, facts, request.query, data);
    if (!entities) return { ...fresh, hits: 0, fetched: 1 };
    const record: RootRecord = { entities: [...entities.keys()], data };
    if (storeKey) store.putRoot(storeKey, JSON.stringify(record), fresh.hint, fetchedAt, record.entities);
    return { ...fresh, hits: 0, fetched: 1, entities: record.entities };
  }

  private compare(cached: Record<string, unknown>, fresh: Record<string, unknown>): void {
    const { metrics } = this.options;
    metrics.shadowComparisons.inc({ type: ROOT_LABEL });
    for (const field of differingFields(cached, fresh)) metrics.shadowDifferences.inc({ type: ROOT_LABEL, field });
  }
}
