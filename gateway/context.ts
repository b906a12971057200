/** The per-request context the gateway builds. */
import type { Logger } from '@trellis/kit';
import type { Context } from '@trellis/kit/internal';

export interface GatewayContext {
  correlationId: string;
  logger: Logger;
  /**
   * The caller's headers that HEADER_RULES may pass on (as amended by extensions, e.g. tracing's
   * child traceparent); each subgraph gets those its rules select (gateway/headers).
   */
  forwardHeaders: Record<string, string>;
  /** The caller's network address (the TCP peer), for limits keyed by client. */
  clientAddress?: string;
  /** Headers the response to the caller carries (e.g. rate limit state), on HTTP and SSE. */
  responseHeaders?: Record<string, string>;
  /**
   * The caller's trace context on WebSocket and SSE (from the operation's or the connection's
   * headers), which the operation's span continues; set only when tracing is on.
   */
  traceParent?: Context;
  /**
   * The verified caller, or null when anonymous (set by the auth extension); `expiresAt` is when its
   * token stops being accepted (ms since the epoch: `exp` plus AUTH_CLOCK_TOLERANCE_S), where a
   * graphql-ws connection or SSE stream opened with it ends.
   */
  user?: { id: string; scopes: string[]; expiresAt?: number } | null;
}

/** Reads one header (lower-case name) of an HTTP request, or of a WebSocket's connection params. */
export type HeaderReader = (name: string) => string | undefined;

/** Where a request came from, besides its headers. */
export interface RequestOrigin {
  correlationId?: string;
  clientAddress?: string;
}
