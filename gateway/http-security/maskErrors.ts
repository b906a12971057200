/**
 * Production error masking: an unexpected error (INTERNAL_SERVER_ERROR, or no code at all) reaches
 * the client as "internal error" with nothing but its code; an error with a known code keeps its
 * message. No stack trace or exception detail leaves, even one a subgraph sent along.
 */
import type { GraphQLFormattedError } from 'graphql';

const INTERNAL = 'INTERNAL_SERVER_ERROR';
/** Extensions that describe internals (stacks, exception objects, which subgraph failed). */
const INTERNAL_EXTENSIONS = ['stacktrace', 'exception', 'serviceName'];

export function maskInternalErrors(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (code === undefined || code === INTERNAL) {
    return { message: 'internal error', ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: INTERNAL } };
  }
  const extensions = Object.fromEntries(Object.entries(formatted.extensions ?? {}).filter(([key]) => !INTERNAL_EXTENSIONS.includes(key)));
  return { ...formatted, extensions };
}
