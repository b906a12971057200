/**
 * Whole answers through the cache (the response tier, ENTITY_CACHE_RESPONSES): a query whose every
 * subgraph fetch went through the entity cache, named the entities it holds and was declared
 * cacheable is kept whole, keyed by the document as the checks left it, its operation, variables,
 * the headers sent on to subgraphs, and the caller where that matters (the scopes that decide
 * guarded fields; the caller's identity when the answer was private). It is filed under every
 * entity it holds, exactly as root answers are, so an announced change drops it too, and it lives
 * no longer than the shortest maxAge of what it was made of.
 *
 * A hit is served after every check (limits, persisted documents, authorization, rate limit) and
 * before planning and execution: `responseForOperation` is where Apollo Server lets a plugin answer
 * in place of the executor (as Apollo's own response-cache plugin does). What is kept is the result
 * before the checks' finishing (authorization's nulls and errors are put back on every answer, hit
 * or not). Answers with errors are never kept. In shadow mode the kept answer is compared with the
 * fresh one, never served.
 */
import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestContext, type GraphQLResponse } from '@apollo/server';
import { LRUCache } from 'lru-cache';
import { startSpan } from '@trellis/kit/internal';
import { sortedKey } from '@trellis/kit/internal/events';
import type { GatewayContext } from '../context';
import { sha256 } from '../sha256';
import type { CacheCaller } from './entityCache';
import type { EntityStore } from './entityStore';
import type { EntityCacheMetrics } from './metrics';
import { differingFields } from './shadowComparison';
import type { SupergraphFacts } from './supergraphFacts';

/** What the metrics count a whole answer as. */
export const RESPONSE_LABEL = 'Response';

/** The span a whole answer served from the cache leaves (no plan or fetch span follows it), with the tier it came from. */
export const RESPONSE_SPAN = 'gateway.entity_cache.response';
export const RESPONSE_ATTRIBUTES = { tier: 'trellis.entity_cache.tier' } as const;

export interface ResponseTierOptions {
  mode: 'on' | 'shadow';
  store: EntityStore;
  metrics: EntityCacheMetrics;
  now: () => number;
  /** The served supergraph's facts, and an id that changes with it (answers never outlive their supergraph). */
  supergraph: () => { facts: SupergraphFacts; id: string };
  /** What the subgraphs are told besides the caller's credentials (a tenant, a language): answers are kept apart by it. */
  vary: (context: GatewayContext) => string;
}

interface ResponseRecord {
  entities: string[];
  data: Record<string, unknown>;
}

/** One query on its way: the entities its fetches held, whether every fetch could name them, and its keys. */
interface Tracked {
  startedAt: number;
  entities: Set<string>;
  nameable: boolean;
  queryId: string;
  shared: string;
  /** sha256 of `shared`, once the lookup hashed it. */
  sharedKey?: string;
  caller: CacheCaller;
  served: boolean;
  /** Shadow mode: what the cache held, to compare with the fresh answer. */
  cached?: Record<string, unknown>;
}

export class ResponseTier {
  /** Per request context: what its fetches reported (a context is made per operation, even in a batch). */
  private readonly requests = new WeakMap<object, Tracked>();
  /** Queries answered cacheable before: only those are looked up (an uncacheable query costs no Redis read). */
  private readonly cacheableQueries = new LRUCache<string, true>({ max: 5000 });
  /** Queries answered `private`: kept and looked up under the caller. */
  private readonly privateQueries = new LRUCache<string, true>({ max: 5000 });

  constructor(private readonly options: ResponseTierOptions) {
    // Exported from the start, so a dashboard reads 0 whole answers served rather than no series.
    const { metrics } = options;
    for (const tier of ['local', 'redis']) metrics.hits.inc({ type: RESPONSE_LABEL, tier }, 0);
    metrics.misses.inc({ type: RESPONSE_LABEL }, 0);
    if (options.mode === 'shadow') metrics.shadowComparisons.inc({ type: RESPONSE_LABEL }, 0);
  }

  /** Told by the data source of each fetch a request makes: the entities it holds, or undefined when it cannot name them. */
  noteFetch(context: object | undefined, entities: readonly string[] | undefined): void {
    const tracked = context && this.requests.get(context);
    if (!tracked) return;
    if (!entities) tracked.nameable = false;
    else for (const entity of entities) tracked.entities.add(entity);
  }

  plugin(): ApolloServerPlugin<GatewayContext> {
    return {
      requestDidStart: async () => ({
        responseForOperation: (requestContext) => this.lookUp(requestContext),
        willSendResponse: async (requestContext) => this.keep(requestContext),
      }),
    };
  }

  private async lookUp(requestContext: GraphQLRequestContext<GatewayContext>): Promise<GraphQLResponse | null> {
    const { operation, contextValue, request, queryHash } = requestContext;
    if (operation?.operation !== 'query' || !queryHash) return null;
    const { facts, id } = this.options.supergraph();
    const caller = contextValue.user;
    const queryId = `${id}\n${queryHash}\n${requestContext.operationName ?? ''}`;
    const shared = `${queryId}\n${this.options.vary(contextValue)}\n${JSON.stringify(sortedKey(request.variables ?? {}))}\n${facts.globalAccessVariant(caller)}`;
    const tracked: Tracked = { startedAt: this.options.now(), entities: new Set(), nameable: true, queryId, shared, caller, served: false };
    this.requests.set(contextValue, tracked);
    if (!this.cacheableQueries.has(queryId)) return null;
    const key = this.privateQueries.has(queryId) ? privateKey(shared, caller) : (tracked.sharedKey = sha256(shared));
    const startTime = Date.now();
    const found = key ? await this.options.store.getRoot(key, RESPONSE_LABEL) : undefined;
    if (!found) return null;
    const record = JSON.parse(found.entry.json) as ResponseRecord;
    if (this.options.mode === 'shadow') {
      tracked.cached = record.data;
      return null;
    }
    if (found.tier === 'redis') this.options.store.keepRoot(key as string, found.entry, record.entities);
    tracked.served = true;
    startSpan(RESPONSE_SPAN, { startTime, attributes: { [RESPONSE_ATTRIBUTES.tier]: found.tier } }).end();
    const maxAge = Math.max(0, Math.floor((found.entry.expiresAt - this.options.now()) / 1000));
    requestContext.overallCachePolicy.restrict({ maxAge, scope: found.entry.isPrivate ? 'PRIVATE' : 'PUBLIC' });
    return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data: record.data } } };
  }

  private keep(requestContext: GraphQLRequestContext<GatewayContext>): void {
    const tracked = this.requests.get(requestContext.contextValue);
    if (!tracked || tracked.served) return;
    this.requests.delete(requestContext.contextValue);
    const { body } = requestContext.response;
    if (body?.kind !== 'single' || body.singleResult.errors || !isObject(body.singleResult.data)) return;
    const data = body.singleResult.data;
    if (tracked.cached) return this.compare(tracked.cached, data);
    const policy = requestContext.overallCachePolicy.policyIfCacheable();
    if (!policy || !tracked.nameable) return;
    const isPrivate = policy.scope === 'PRIVATE';
    // The shared key hashed once per request: on a miss the lookup already did.
    const key = isPrivate ? privateKey(tracked.shared, tracked.caller) : (tracked.sharedKey ?? sha256(tracked.shared));
    // A private answer is kept only under the caller it was for (never for an anonymous one).
    if (!key) return;
    this.cacheableQueries.set(tracked.queryId, true);
    if (isPrivate) this.privateQueries.set(tracked.queryId, true);
    const record: ResponseRecord = { entities: [...tracked.entities], data };
    this.options.store.putRoot(key, JSON.stringify(record), { maxAge: policy.maxAge, scope: policy.scope }, tracked.startedAt, record.entities);
  }

  private compare(cached: Record<string, unknown>, fresh: Record<string, unknown>): void {
    const { metrics } = this.options;
    metrics.shadowComparisons.inc({ type: RESPONSE_LABEL });
    // The executor's objects have no prototype; the kept answer was read back from JSON: compared as JSON, as it would be sent.
    const sent = JSON.parse(JSON.stringify(fresh)) as Record<string, unknown>;
    for (const field of differingFields(cached, sent)) metrics.shadowDifferences.inc({ type: RESPONSE_LABEL, field });
  }
}

function privateKey(shared: string, caller: CacheCaller): string | undefined {
  return caller ? sha256(`${shared}\n${JSON.stringify(caller.id)}`) : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
