/**
 * The gateway's entity cache (ENTITY_CACHE): entities fetched through `_entities` are kept per
 * subgraph, type and key, for as long as the subgraph's `@cacheControl` declarations allow, in
 * this process and in the cache Redis shared by every gateway. An announced change drops an
 * entity's every entry (`invalidate`); while changes may be going undelivered, `shortenTtl` caps
 * how old an entry may be served.
 */
import type { GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Registry } from 'prom-client';
import type { Logger } from '@trellis/kit';
import type { EntityCacheMode, EntityCacheSettings } from '@trellis/kit/internal/config';
import { entityChangeKey, sortedKey, type EntityChange } from '@trellis/kit/internal/events';
import { EntityQueries } from './entityQuery';
import { EntityStore, type Lookup } from './entityStore';
import { fetchThroughCache, type CachedFetch, type FetchedAnswer } from './entityFetch';
import { EntityCacheMetrics } from './metrics';
import { RedisTier } from './redisTier';
import { RootCache } from './rootCache';
import { ResponseTier } from './responseTier';
import { SupergraphFacts } from './supergraphFacts';
import { cacheVary } from './cacheVary';
import { sha256 } from '../sha256';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../context';

export interface EntityCacheOptions {
  settings: EntityCacheSettings;
  registry: Registry;
  logger: Logger;
  now?: () => number;
}

/** What the cache needs to know of one subgraph fetch. */
export interface SubgraphFetch {
  subgraph: string;
  query: string;
  variables: Record<string, unknown>;
  /** The headers besides the caller's credentials that the subgraph is sent (a tenant, a language): entries are kept apart by them. */
  vary?: string;
}

/** The caller as the cache keys it: private entries by `id`, guarded fields by `scopes`. */
export type CacheCaller = { id: string; scopes: string[] } | null | undefined;

/** What the change feed needs of the cache: drop an entity's entries; cap entry age while changes may be lost. */
export interface EntityChangeSink {
  /** Drops every entry of the changed entity, in this process and in the cache Redis. */
  invalidate(change: EntityChange): Promise<void>;
  /** While set, no entry older than `maxAgeMs` is served or kept; undefined restores the declared TTLs. */
  shortenTtl(maxAgeMs: number | undefined): void;
}

export class EntityCache implements EntityChangeSink {
  readonly mode: EntityCacheMode;
  readonly metrics: EntityCacheMetrics;
  private readonly store: EntityStore;
  private readonly redis?: RedisTier;
  private readonly queries = new EntityQueries();
  /** Queries a subgraph answered `private` (subgraph + query hash): their entries are per caller. */
  private readonly privateQueries = new LRUCache<string, true>({ max: 5000 });
  private facts = SupergraphFacts.EMPTY;
  private schema?: GraphQLSchema;
  private readonly now: () => number;
  private readonly roots?: RootCache;
  private readonly responses?: ResponseTier;
  private supergraphId = '';

  constructor(options: EntityCacheOptions) {
    const { settings, logger } = options;
    this.mode = settings.mode;
    this.now = options.now ?? Date.now;
    this.metrics = new EntityCacheMetrics(options.registry);
    if (settings.mode !== 'off' && settings.redisUrl) {
      this.redis = new RedisTier({
        url: settings.redisUrl,
        prefix: settings.prefix,
        commandTimeoutMs: settings.redisTimeoutMs,
        logger,
        now: this.now,
        onError: (operation) => this.metrics.redisErrors.inc({ operation }),
      });
    }
    this.store = new EntityStore({ localMax: settings.localMax, maxTtlMs: settings.maxTtlMs, redis: this.redis, metrics: this.metrics, now: this.now });
    if (settings.mode !== 'off') {
      this.roots = new RootCache({ mode: settings.mode, store: this.store, metrics: this.metrics, now: this.now, supergraph: () => ({ facts: this.facts, schema: this.schema }) });
      if (settings.responses) {
        this.responses = new ResponseTier({
          mode: settings.mode,
          store: this.store,
          metrics: this.metrics,
          now: this.now,
          supergraph: () => ({ facts: this.facts, id: this.supergraphId }),
          vary: (context) => cacheVary(context.forwardHeaders ?? {}),
        });
      }
    }
  }

  get isEnabled(): boolean {
    return this.mode !== 'off';
  }

  /** Reads key fields and guarded types from a new supergraph; with its API schema, root answers may be cached too. */
  useSupergraph(sdl: string, apiSchema?: GraphQLSchema): void {
    this.facts = SupergraphFacts.read(sdl);
    this.schema = apiSchema;
    this.supergraphId = sha256(sdl);
  }

  /** The Apollo plugin serving whole answers (ENTITY_CACHE_RESPONSES); none while the cache or the tier is off. */
  responsePlugin(): ApolloServerPlugin<GatewayContext> | undefined {
    return this.responses?.plugin();
  }

  /** Tells the response tier what one fetch of a request held: its entities, or undefined when they cannot be named (or it went around the cache). */
  noteFetch(context: object | undefined, entities: readonly string[] | undefined): void {
    this.responses?.noteFetch(context, entities);
  }

  async invalidate(change: EntityChange): Promise<void> {
    await this.store.drop(change.type, entityChangeKey(change));
  }

  shortenTtl(maxAgeMs: number | undefined): void {
    this.store.shortenTtl(maxAgeMs);
  }

  /**
   * Answers a query fetch through the cache: an entity fetch asks the subgraph only for what the
   * cache lacks (on) or everything (shadow); a root fetch is answered whole from the cache when it
   * holds it. Undefined when the fetch is nothing the cache can hold (the caller sends it).
   */
  async fetch(request: SubgraphFetch, caller: CacheCaller, send: (variables: Record<string, unknown>) => Promise<FetchedAnswer>): Promise<CachedFetch | undefined> {
    if (this.mode === 'off') return undefined;
    const query = this.queries.of(request.query);
    if (query?.kind === 'root') return this.roots?.fetch({ ...request, query }, caller, send);
    const representations = request.variables.representations;
    if (!query || !Array.isArray(representations) || representations.length === 0) return undefined;
    const queryId = `${request.subgraph}\n${query.hash}`;
    const vary = request.vary ?? '';
    const lookups = representations.map((representation) => this.lookupOf(request.subgraph, queryId, vary, representation, caller));
    if (lookups.every((lookup) => !lookup)) return undefined;
    return fetchThroughCache({
      mode: this.mode,
      representations,
      lookups,
      variables: request.variables,
      store: this.store,
      metrics: this.metrics,
      now: this.now,
      send,
      onPrivate: () => this.privateQueries.set(queryId, true),
    });
  }

  async stop(): Promise<void> {
    await this.redis?.close();
  }

  private lookupOf(subgraph: string, queryId: string, vary: string, representation: unknown, caller: CacheCaller): Lookup | undefined {
    if (representation === null || typeof representation !== 'object') return undefined;
    const type = (representation as { __typename?: unknown }).__typename;
    if (typeof type !== 'string') return undefined;
    const found = this.facts.keyOf(subgraph, type, representation as Record<string, unknown>);
    if (!found) return undefined;
    // What the representation carries besides its key (`@requires` fields) changes the answer.
    const rest = Object.keys(found.rest).length > 0 ? JSON.stringify(sortedKey(found.rest)) : '';
    const shared = `${queryId}\n${vary}\n${rest}\n${this.facts.accessVariant(type, caller)}`;
    const privateVariant = caller ? `${shared}\n${JSON.stringify(caller.id)}` : undefined;
    const variant = this.privateQueries.has(queryId) ? privateVariant : shared;
    return variant ? { type, entity: entityChangeKey({ type, key: found.key }), variant, privateVariant } : undefined;
  }
}
