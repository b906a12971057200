/** The error a fetch to an unavailable subgraph ends with; the response keeps everyone else's data. */
import { GraphQLError } from 'graphql';

export type UnavailableReason = 'breaker_open' | 'timeout' | 'no_instance' | 'connection_failed' | 'bad_response';

export class SubgraphUnavailableError extends GraphQLError {
  constructor(
    readonly subgraph: string,
    readonly reason: UnavailableReason,
    detail?: string,
  ) {
    super(`subgraph ${subgraph} is unavailable: ${reason.replace('_', ' ')}${detail ? ` (${detail})` : ''}`, {
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph, reason },
    });
  }
}

/** Failures worth one more try on another instance: the request never reached a healthy process. */
export function isRetriable(error: unknown): boolean {
  return error instanceof SubgraphUnavailableError && (error.reason === 'connection_failed' || error.reason === 'bad_response');
}
