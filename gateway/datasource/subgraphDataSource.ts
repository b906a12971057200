/** Sends the gateway's fetches for one subgraph to its healthy instances, in turn. */
import { GraphQLError } from 'graphql';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { CORRELATION_ID_HEADER } from '../../shared/logging';
import { ErrorCode } from '../../shared/errors';
import type { InstanceDirectory } from '../supergraph/instances';
import type { GatewayContext } from '../context';

export class SubgraphDataSource implements GraphQLDataSource<GatewayContext> {
  private next = 0;

  constructor(
    readonly name: string,
    private readonly instances: InstanceDirectory,
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const candidates = this.instances.instancesOf(this.name);
    if (candidates.length === 0) {
      throw new GraphQLError(`subgraph ${this.name} has no healthy instance`, {
        extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE, subgraph: this.name, reason: 'no_instance' },
      });
    }
    const instance = candidates[this.next++ % candidates.length];
    const context = options.context as Partial<GatewayContext>;
    const response = await fetch(instance.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(context.forwardHeaders ?? {}),
        ...(context.correlationId ? { [CORRELATION_ID_HEADER]: context.correlationId } : {}),
      },
      body: JSON.stringify({
        query: options.request.query,
        variables: options.request.variables,
        operationName: options.request.operationName,
      }),
    });
    const body = (await response.json().catch(() => null)) as GatewayGraphQLResponse | null;
    if (!body || (body.data === undefined && body.errors === undefined)) {
      throw new GraphQLError(`subgraph ${this.name} answered ${response.status} without a GraphQL body`, {
        extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE, subgraph: this.name, reason: 'bad_response' },
      });
    }
    return body;
  }
}
