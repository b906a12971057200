/** The context every resolver of a Trellis subgraph receives. */
import type { Request } from 'express';
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

export type IdentityResolver = (req: Request) => Promise<CallerIdentity | null> | CallerIdentity | null;

/** Until tokens arrive, the gateway passes the caller's id in `x-user-id`. */
export const userIdHeaderIdentity: IdentityResolver = (req) => {
  const id = req.header('x-user-id');
  return id ? { id, scopes: [] } : null;
};

export async function buildBaseContext(req: Request, logger: Logger, identify: IdentityResolver): Promise<SubgraphContext> {
  const correlationId = correlationIdFrom(req.header(CORRELATION_ID_HEADER));
  return {
    correlationId,
    traceparent: req.header('traceparent') ?? undefined,
    logger: logger.child({ correlationId }),
    user: await identify(req),
  };
}
