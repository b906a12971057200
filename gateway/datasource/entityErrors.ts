/**
 * An unavailable subgraph asked for entities answers one error per entity, at `_entities.<i>`,
 * instead of a thrown error with no path: Apollo Gateway rewrites those paths to where each entity
 * sits in the response (`user.orders.0.items.1.product`), so a client sees which fields are missing.
 */
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { SubgraphUnavailableError } from './errors';

/** The answer standing for `error` when the fetch was for `representations`; undefined for any other fetch (it keeps throwing). */
export function entityErrorsAnswer(error: SubgraphUnavailableError, variables: Record<string, unknown> | undefined): GatewayGraphQLResponse | undefined {
  const representations = variables?.representations;
  if (!Array.isArray(representations) || representations.length === 0) return undefined;
  return {
    data: { _entities: representations.map(() => null) },
    errors: representations.map((_, index) => ({ message: error.message, path: ['_entities', index], extensions: { ...error.extensions } })),
  } as GatewayGraphQLResponse;
}
