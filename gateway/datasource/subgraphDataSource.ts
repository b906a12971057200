/** Apollo Gateway's data source for one subgraph: builds the request, dedupes queries, sends through the SubgraphClient. */
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { GatewayContext } from '../context';
import type { SubgraphHeaders } from '../headers';
import type { GatewayMetrics } from '../observability/metrics';
import { SubgraphUnavailableError } from './errors';
import { entityErrorsAnswer } from './entityErrors';
import type { InflightDedup } from './inflightDedup';
import type { SubgraphClient } from './subgraphClient';
import { failSpan } from '@trellis/kit/internal';
import { inSpan } from '@trellis/kit';
import { FETCH_ATTRIBUTES } from './fetchSpans';

const MUTATION = /^\s*mutation\b/;

/** Headers that differ on every request yet never change the answer: left out of the dedup key. */
const PER_REQUEST_HEADERS = new Set(['x-correlation-id', 'traceparent', 'tracestate']);

/**
 * Same subgraph, document, variables and every header the rules send (the token, or whatever a
 * rule renamed it to, or a tenant header): one call answers all. Two callers whose headers differ
 * never share an answer.
 */
// Stryker disable next-line EqualityOperator: names are unique, so any consistent order gives equal keys for equal header sets
const byName = ([a]: [string, string], [b]: [string, string]) => (a < b ? -1 : 1);

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
    private readonly dedup?: InflightDedup,
    private readonly metrics?: GatewayMetrics,
    /** A `fetch <subgraph>` span per call (only when spans are exported). */
    private readonly tracing = false,
  ) {}

  process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    if (!this.tracing) return this.answer(options, ignoreDeduplicated);
    const attributes = { [FETCH_ATTRIBUTES.subgraph]: this.name };
    return inSpan(`fetch ${this.name}`, { attributes }, (span) =>
      this.answer(options, (shared) => span.setAttribute(FETCH_ATTRIBUTES.deduplicated, shared), (error) => failSpan(span, error)),
    );
  }

  /** The subgraph's answer; for an entity fetch to an unavailable subgraph, an error per entity instead of a throw. */
  private async answer(
    options: GraphQLDataSourceProcessOptions<GatewayContext>,
    deduplicated: (shared: boolean) => void,
    failed: (error: Error) => void = () => undefined,
  ): Promise<GatewayGraphQLResponse> {
    try {
      return await this.fetch(options, deduplicated);
    } catch (error) {
      const answer = error instanceof SubgraphUnavailableError ? entityErrorsAnswer(error, options.request.variables) : undefined;
      if (!answer) throw error;
      failed(error as Error);
      return answer;
    }
  }

  private async fetch(options: GraphQLDataSourceProcessOptions<GatewayContext>, deduplicated: (shared: boolean) => void): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    const context = options.context as Partial<GatewayContext>;
    const headers = this.headerRules.forSubgraph(this.name, context.forwardHeaders ?? {}, context.correlationId);
    const body = JSON.stringify({ query: request.query, variables: request.variables, operationName: request.operationName });
    const isMutation = MUTATION.test(request.query ?? '');

    const send = () => this.client.send({ body, headers, retryable: !isMutation });
    let text: string;
    if (isMutation || !this.dedup) {
      deduplicated(false);
      text = await send();
    } else {
      const key = dedupKey(this.name, headers, body);
      let shared = true;
      text = await this.dedup.run(key, () => ((shared = false), send()));
      deduplicated(shared);
      if (shared) this.metrics?.dedupedFetches.inc({ subgraph: this.name });
    }
    try {
      return JSON.parse(text) as GatewayGraphQLResponse;
    } catch {
      throw new SubgraphUnavailableError(this.name, 'bad_response', 'the answer is not JSON');
    }
  }
}

const ignoreDeduplicated = () => undefined;
