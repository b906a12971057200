/** An error as a graphql-ws or SSE client receives it, outside Apollo Server's HTTP answer. */
import { GraphQLError } from 'graphql';
import { errorMessage } from '@trellis/kit/internal';
import type { GatewayHost } from '../extension';

/**
 * The gateway's formatting (masking, codes) of `error`, without `extensions.http`: a status and
 * headers (429's Retry-After) belong to an HTTP answer, not to a message inside a stream.
 */
export function clientError(host: Pick<GatewayHost, 'formatError'>, error: unknown): GraphQLError {
  const graphqlError = error instanceof GraphQLError ? error : new GraphQLError(errorMessage(error));
  const { http: _http, ...extensions } = graphqlError.extensions;
  const formatted = host.formatError({ message: graphqlError.message, extensions }, error);
  return new GraphQLError(formatted.message, { extensions: formatted.extensions });
}
