/** The per-request context the gateway builds, and the headers it forwards to subgraphs. */
import type { Logger } from '../shared/logging';

export interface GatewayContext {
  correlationId: string;
  logger: Logger;
  /** Headers passed on to every subgraph fetch of this request (correlation, trace, identity). */
  forwardHeaders: Record<string, string>;
  /** The verified caller, or null when anonymous (set by the auth extension). */
  user?: { id: string; scopes: string[] } | null;
}

/** Incoming headers that travel on to subgraphs unchanged. */
export const FORWARDED_HEADERS = ['traceparent', 'tracestate', 'authorization', 'idempotency-key'] as const;

/** Reads one header (lower-case name) of an HTTP request, or of a WebSocket's connection params. */
export type HeaderReader = (name: string) => string | undefined;
