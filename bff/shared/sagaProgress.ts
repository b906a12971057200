/**
 * A saga's progress from the gateway's `sagaStatus` subscription over graphql-ws, with the caller's
 * token in `connectionParams.headers` (where the gateway reads it). Yields every state the gateway
 * sends, first the current one, and ends after a terminal state. A gateway that stops answering
 * (frozen, or gone without closing) is noticed by keep-alive pings, and the progress fails with
 * GATEWAY_UNAVAILABLE instead of waiting for ever.
 */
import { CORRELATION_ID_HEADER, createKeptAliveClient, type KeepAliveSettings } from '@trellis/kit';
import { HttpError } from './errors';
import { GatewayUnavailableError } from './gatewayClient';
import { httpErrorOf } from './graphqlErrors';

export interface SagaStatus {
  id: string;
  state: string;
  steps: Array<{ name: string; state: string; attempts: number; error: string | null }>;
  order: { id: string; status: string; total: number } | null;
}

export const TERMINAL_SAGA_STATES = ['COMPLETED', 'COMPENSATED', 'FAILED'];

const SAGA_STATUS = /* GraphQL */ `
  subscription SagaProgress($id: ID!) {
    sagaStatus(id: $id) { id state steps { name state attempts error } order { id status total } }
  }
`;

export interface SagaProgressRequest {
  /** The gateway's HTTP GraphQL URL; the WebSocket one is derived from it. */
  gatewayUrl: string;
  sagaId: string;
  token: string;
  correlationId: string;
  signal?: AbortSignal;
  /** Pings to the gateway and how long a pong may take (config.deadlines.upstreamWs). */
  keepAlive: KeepAliveSettings;
}

export async function* sagaProgress(request: SagaProgressRequest): AsyncGenerator<SagaStatus> {
  let closeCode: number | undefined;
  const client = createKeptAliveClient(
    {
      url: request.gatewayUrl.replace(/^http/, 'ws'),
      connectionParams: { headers: { authorization: `Bearer ${request.token}`, [CORRELATION_ID_HEADER]: request.correlationId } },
      retryAttempts: 0,
      lazy: true,
      on: { closed: (event) => (closeCode = (event as { code?: number }).code) },
    },
    request.keepAlive,
  );
  const results = client.iterate<{ sagaStatus: SagaStatus }>({ query: SAGA_STATUS, variables: { id: request.sagaId } });
  const abort = () => void results.return?.();
  request.signal?.addEventListener('abort', abort, { once: true });
  try {
    for (;;) {
      let next: IteratorResult<{ data?: { sagaStatus: SagaStatus } | null; errors?: unknown }>;
      try {
        next = await results.next();
      } catch (error) {
        throw subscriptionFailure(error, closeCode);
      }
      if (next.done) return;
      const { data, errors } = next.value as { data?: { sagaStatus: SagaStatus } | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
      if (!data?.sagaStatus) throw httpErrorOf(errors ?? []);
      yield data.sagaStatus;
      if (TERMINAL_SAGA_STATES.includes(data.sagaStatus.state)) return;
    }
  } finally {
    request.signal?.removeEventListener('abort', abort);
    await results.return?.();
    await client.dispose();
  }
}

function subscriptionFailure(error: unknown, closeCode: number | undefined): HttpError {
  if (Array.isArray(error)) return httpErrorOf(error as never);
  if (closeCode === 4403) return new HttpError(401, 'UNAUTHENTICATED', 'the gateway refused the token for the progress subscription');
  const reason = error instanceof Error ? error.message : closeCode ? `socket closed with ${closeCode}` : 'connection failed';
  return new GatewayUnavailableError(reason, 1, error);
}
