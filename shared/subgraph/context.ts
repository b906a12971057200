/** The context every resolver of a Trellis subgraph receives, over HTTP and over WebSocket alike. */
import { GraphQLError } from 'graphql';
import { correlationIdFrom, CORRELATION_ID_HEADER, PER_OPERATION_HEADERS, type Logger } from '../logging';
import { bearerToken } from '../auth/verifier';
import { describeTokenFailure } from '../auth/errors';
import type { TokenVerifier } from '../auth/verifier';
import { requireOwner } from './ownership';

export interface CallerIdentity {
  id: string;
  scopes: string[];
}

export interface SubgraphContext {
  correlationId: string;
  /** W3C trace context of the incoming request, to pass on to outbound calls and events. */
  traceparent?: string;
  /** The `Idempotency-Key` header: the same key from the same caller means the same request. */
  idempotencyKey?: string;
  logger: Logger;
  /** The caller, or null when anonymous. */
  user: CallerIdentity | null;
  /**
   * The headers that carry this caller and request to a peer subgraph (`peerSubgraphs`): the
   * caller's `authorization` as received (absent when anonymous), the correlation id and trace.
   */
  forward: Record<string, string>;
  /**
   * Throws FORBIDDEN unless the caller is the user `ownerId` (anonymous callers and records with no
   * owner are refused too). `what` names the thing in the message, e.g. `order o1`.
   */
  requireOwner(ownerId: string | undefined, what?: string): void;
}

/** Reads one request header (lower-case name) from HTTP headers or WebSocket connection params. */
export type HeaderReader = (name: string) => string | undefined;

export type IdentityResolver = (header: HeaderReader) => Promise<CallerIdentity | null> | CallerIdentity | null;

/** No issuer configured: every caller is anonymous (headers claiming an identity are not trusted). */
export const anonymousIdentity: IdentityResolver = () => null;

/**
 * The caller named by the `Authorization: Bearer <JWT>` the gateway forwards, verified again here
 * (a subgraph never trusts the network); a bad token is refused with 401 UNAUTHENTICATED (503 while
 * the issuer's keys cannot be had at all).
 */
export function bearerIdentity(verifier: TokenVerifier): IdentityResolver {
  return async (header) => {
    try {
      const token = bearerToken(header('authorization'));
      return token ? await verifier.verify(token) : null;
    } catch (error) {
      const refusal = describeTokenFailure(error);
      throw new GraphQLError(refusal.message, { extensions: { code: refusal.code, http: { status: refusal.httpStatus } } });
    }
  };
}

export async function buildBaseContext(header: HeaderReader, logger: Logger, identify: IdentityResolver): Promise<SubgraphContext> {
  const correlationId = correlationIdFrom(header(CORRELATION_ID_HEADER));
  const user = await identify(header);
  return {
    correlationId,
    traceparent: header('traceparent'),
    idempotencyKey: header('idempotency-key'),
    forward: forwardHeaders(header, correlationId, user),
    logger: logger.child({ correlationId }),
    user,
    requireOwner: (ownerId, what) => requireOwner(user, ownerId, what),
  };
}

/**
 * A header reader over a WebSocket's `connectionParams`, where clients put their headers:
 * `{ headers: { authorization, traceparent, ... } }` (what the gateway, the BFFs and Apollo Client
 * apps send), or the token alone at the top level, `{ authorization }` / `{ Authorization }`, as
 * Apollo Router reads it; a token in `headers` wins. Names match case-insensitively; a value that
 * is not a string is no header.
 */
export function connectionParamsHeaders(params: Readonly<Record<string, unknown>> | undefined): HeaderReader {
  const nested = params?.headers;
  const raw = nested && typeof nested === 'object' ? (nested as Record<string, unknown>) : {};
  const headers = new Map(Object.entries(raw).map(([key, value]) => [key.toLowerCase(), typeof value === 'string' ? value : undefined]));
  if (headers.get('authorization') === undefined) {
    const topLevel = Object.entries(params ?? {}).find(([key, value]) => key.toLowerCase() === 'authorization' && typeof value === 'string');
    if (topLevel) headers.set('authorization', topLevel[1] as string);
  }
  return (name) => headers.get(name.toLowerCase());
}

/**
 * The headers of one operation on a WebSocket: the connection's (`connectionParams.headers`: who
 * the caller is), with this operation's own correlation id and trace context from its
 * `extensions.headers` where it sends them (a gateway sharing one connection among a caller's
 * operations does). Nothing else is read from the extensions: identity comes from the connection.
 */
export function operationHeaders(params: Readonly<Record<string, unknown>> | undefined, extensions: Readonly<Record<string, unknown>> | null | undefined): HeaderReader {
  const connection = connectionParamsHeaders(params);
  const raw = (extensions?.headers ?? {}) as Record<string, unknown>;
  const own = new Map(Object.entries(raw).map(([key, value]) => [key.toLowerCase(), typeof value === 'string' ? value : undefined]));
  return (name) => {
    const lower = name.toLowerCase();
    return (PER_OPERATION_HEADERS.includes(lower) ? own.get(lower) : undefined) ?? connection(lower);
  };
}

function forwardHeaders(header: HeaderReader, correlationId: string, user: CallerIdentity | null): Record<string, string> {
  const headers: Record<string, string> = { [CORRELATION_ID_HEADER]: correlationId };
  const authorization = header('authorization');
  if (user && authorization) headers.authorization = authorization;
  const traceparent = header('traceparent');
  if (traceparent) headers.traceparent = traceparent;
  return headers;
}
