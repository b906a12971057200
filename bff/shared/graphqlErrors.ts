/** Turns a gateway answer into the data a BFF route shapes, or into the HTTP error that explains why not. */
import type { GatewayResponse, GraphQLErrorBody } from './gatewayClient';
import { HttpError } from './errors';

const STATUS_BY_CODE: Record<string, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  GRAPHQL_PARSE_FAILED: 400,
  NOT_FOUND: 404,
  SUBGRAPH_UNAVAILABLE: 503,
};

/** The error the first GraphQL error stands for; unknown codes are the gateway's problem (502). */
export function httpErrorOf(errors: GraphQLErrorBody[]): HttpError {
  const first = errors[0];
  const code = first?.extensions?.code ?? 'UPSTREAM_ERROR';
  const status = STATUS_BY_CODE[code] ?? 502;
  return new HttpError(status, status === 502 ? 'UPSTREAM_ERROR' : code, first?.message ?? 'the gateway answered without data', {
    retryAfterSec: status === 503 ? 1 : undefined,
  });
}

/** The data, with `partial` set when some fields failed; throws when there is no data at all. */
export function requireData<T>(response: GatewayResponse<T>): { data: T; partial: boolean; errors: GraphQLErrorBody[] } {
  const errors = response.body.errors ?? [];
  if (response.body.data === null || response.body.data === undefined) throw httpErrorOf(errors);
  return { data: response.body.data, partial: errors.length > 0, errors };
}

/** What a client is told about fields that failed (no stack, no internals). */
export function describePartial(errors: GraphQLErrorBody[]): Array<{ path?: string; code?: string; message: string }> {
  return errors.map((error) => ({ path: error.path?.join('.'), code: error.extensions?.code, message: error.message }));
}
