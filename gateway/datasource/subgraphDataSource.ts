/** Apollo Gateway's data source for one subgraph: builds the request, dedupes queries, sends through the SubgraphClient. */
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLRequest as GraphQLRequest, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { byName, cacheHintOf, cacheVary, PER_REQUEST_HEADERS, type EntityCache, type FetchedAnswer } from '../entityCache';
import type { GatewayContext } from '../context';
import type { SubgraphHeaders } from '../headers';
import type { GatewayMetrics } from '../observability/metrics';
import { SubgraphUnavailableError } from './errors';
import { entityErrorsAnswer } from './entityErrors';
import type { InflightDedup } from './inflightDedup';
import type { SubgraphAnswer, SubgraphClient } from './subgraphClient';
import { failSpan } from '@trellis/kit/internal';
import { inSpan } from '@trellis/kit';
import { FETCH_ATTRIBUTES } from './fetchSpans';

const MUTATION = /^\s*mutation\b/;

/** Marks a fetch's span with how many entities the cache served and how many were asked of the subgraph. */
type CacheMarker = (hits: number, fetched: number) => void;

/**
 * Same subgraph, document, variables and every header the rules send (the token, or whatever a
 * rule renamed it to, or a tenant header): one call answers all. Two callers whose headers differ
 * never share an answer; the per-request headers (a correlation id, a trace) are left out.
 */
export function dedupKey(subgraph: string, headers: Record<string, string>, body: string): string {
  const identity = Object.entries(headers)
    .filter(([name]) => !PER_REQUEST_HEADERS.has(name))
    .sort(byName);
  return `${subgraph}\n${JSON.stringify(identity)}\n${body}`;
}

export class SubgraphDataSource implements GraphQLDataSource<GatewayContext> {
  constructor(
    readonly name: string,
    private readonly client: SubgraphClient,
    private readonly headerRules: SubgraphHeaders,
    private readonly dedup?: InflightDedup<SubgraphAnswer>,
    private readonly metrics?: GatewayMetrics,
    /** A `fetch <subgraph>` span per call (only when spans are exported). */
    private readonly tracing = false,
    /** Entity fetches answered through the cache (ENTITY_CACHE); absent or off: straight to the subgraph. */
    private readonly entityCache?: EntityCache,
  ) {}

  process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    if (!this.tracing) return this.answer(options, ignoreDeduplicated, ignoreCached);
    const attributes = { [FETCH_ATTRIBUTES.subgraph]: this.name };
    return inSpan(`fetch ${this.name}`, { attributes }, (span) =>
      this.answer(
        options,
        (shared) => span.setAttribute(FETCH_ATTRIBUTES.deduplicated, shared),
        (hits, fetched) => span.setAttributes({ [FETCH_ATTRIBUTES.entityCacheHits]: hits, [FETCH_ATTRIBUTES.entityCacheMisses]: fetched }),
        (error) => failSpan(span, error),
      ),
    );
  }

  /** The subgraph's answer; for an entity fetch to an unavailable subgraph, an error per entity instead of a throw. */
  private async answer(
    options: GraphQLDataSourceProcessOptions<GatewayContext>,
    deduplicated: (shared: boolean) => void,
    cached: CacheMarker,
    failed: (error: Error) => void = () => undefined,
  ): Promise<GatewayGraphQLResponse> {
    try {
      return await this.fetch(options, deduplicated, cached);
    } catch (error) {
      const answer = error instanceof SubgraphUnavailableError ? entityErrorsAnswer(error, options.request.variables) : undefined;
      if (!answer) throw error;
      failed(error as Error);
      return answer;
    }
  }

  private async fetch(options: GraphQLDataSourceProcessOptions<GatewayContext>, deduplicated: (shared: boolean) => void, cached: CacheMarker): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    const context = options.context as Partial<GatewayContext>;
    const headers = this.headerRules.forSubgraph(this.name, context.forwardHeaders ?? {}, context.correlationId);
    const isMutation = MUTATION.test(request.query ?? '');
    const send = (variables: GraphQLRequest['variables']) => this.send(request, variables, headers, isMutation, deduplicated);
    const cache = this.entityCache;
    if (!cache?.isEnabled) return (await send(request.variables)).response;
    const viaCache = isMutation || !request.query ? undefined : await cache.fetch({ subgraph: this.name, query: request.query, variables: request.variables ?? {}, vary: cacheVary(headers) }, context.user, send);
    if (viaCache) cached(viaCache.hits, viaCache.fetched);
    const answer = viaCache ?? (await send(request.variables));
    // A whole answer is kept only when every fetch in it named the entities it holds.
    cache.noteFetch(options.context, viaCache?.entities);
    // As Apollo's RemoteGraphQLDataSource does: the response's Cache-Control is the strictest of what each fetch (or entry) allowed.
    if ('incomingRequestContext' in options) options.incomingRequestContext.overallCachePolicy?.restrict(answer.hint);
    return answer.response;
  }

  /** One call to the subgraph (shared with an identical one in flight, for queries), parsed, with its cache hint. */
  private async send(request: GraphQLRequest, variables: GraphQLRequest['variables'], headers: Record<string, string>, isMutation: boolean, deduplicated: (shared: boolean) => void): Promise<FetchedAnswer> {
    const body = JSON.stringify({ query: request.query, variables, operationName: request.operationName });
    const call = () => this.client.answer({ body, headers, retryable: !isMutation });
    let answer: SubgraphAnswer;
    if (isMutation || !this.dedup) {
      deduplicated(false);
      answer = await call();
    } else {
      const key = dedupKey(this.name, headers, body);
      let shared = true;
      answer = await this.dedup.run(key, () => ((shared = false), call()));
      deduplicated(shared);
      if (shared) this.metrics?.dedupedFetches.inc({ subgraph: this.name });
    }
    try {
      return { response: JSON.parse(answer.text) as GatewayGraphQLResponse, hint: cacheHintOf(answer.cacheControl) };
    } catch {
      throw new SubgraphUnavailableError(this.name, 'bad_response', 'the answer is not JSON');
    }
  }
}

const ignoreDeduplicated = () => undefined;
const ignoreCached: CacheMarker = () => undefined;
