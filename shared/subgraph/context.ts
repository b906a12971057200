/** The context every resolver of a Trellis subgraph receives, over HTTP and over WebSocket alike. */
import { correlationIdFrom, CORRELATION_ID_HEADER, type Logger } from '../logging';

export interface CallerIdentity {
  id: string;
  scopes: string[];
}

export interface SubgraphContext {
  correlationId: string;
  /** W3C trace context of the incoming request, to pass on to outbound calls and events. */
  traceparent?: string;
  logger: Logger;
  /** The caller, or null when anonymous. */
  user: CallerIdentity | null;
}

/** Reads one request header (lower-case name) from HTTP headers or WebSocket connection params. */
export type HeaderReader = (name: string) => string | undefined;

export type IdentityResolver = (header: HeaderReader) => Promise<CallerIdentity | null> | CallerIdentity | null;

/** Until tokens arrive, the gateway passes the caller's id in `x-user-id`. */
export const userIdHeaderIdentity: IdentityResolver = (header) => {
  const id = header('x-user-id');
  return id ? { id, scopes: [] } : null;
};

export async function buildBaseContext(header: HeaderReader, logger: Logger, identify: IdentityResolver): Promise<SubgraphContext> {
  const correlationId = correlationIdFrom(header(CORRELATION_ID_HEADER));
  return {
    correlationId,
    traceparent: header('traceparent'),
    logger: logger.child({ correlationId }),
    user: await identify(header),
  };
}

/** A header reader over WebSocket `connectionParams.headers` (names matched case-insensitively). */
export function connectionParamsHeaders(params: Readonly<Record<string, unknown>> | undefined): HeaderReader {
  const raw = (params?.headers ?? {}) as Record<string, unknown>;
  const headers = new Map(Object.entries(raw).map(([key, value]) => [key.toLowerCase(), typeof value === 'string' ? value : undefined]));
  return (name) => headers.get(name.toLowerCase());
}
