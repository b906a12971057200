/**
 * An operation whose results stream over one HTTP response (SSE, multipart subscriptions): the
 * checks before the stream opens, answered as HTTP answers them (a bad persisted-query hash 400, a
 * GET mutation 405, a bad token 401, the rate limit 429, with their headers), and the stream's life
 * afterwards: the caller's subscription slot, its token's expiry, the client leaving and the gateway
 * stopping each end it and the upstream subscription with it. Each transport only writes the results
 * in its own wire format.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import { clientKey, extractTrace } from '@trellis/kit';
import type { GatewayContext, HeaderReader } from '../context';
import type { GatewayHost } from '../extension';
import type { PersistableRequest, ResolvedDocument } from '../persisted/documents';
import type { FederatedExecutor, OperationRequest } from './federatedExecutor';
import type { PreparedOperation } from './preparedDocuments';
import { whenTokenExpires } from './expiry';
import { clientError } from './clientError';
import type { Slot, SubscriptionSlots } from './slots';

const GOING_AWAY = 'gateway stopping';
const TOKEN_EXPIRED = 'token expired';

/** Why a stream ended before its operation did. */
export type StreamInterruption = 'stopping' | 'token expired';

export interface StreamRequest {
  method: string;
  params: PersistableRequest & { variables?: Record<string, unknown> | null; operationName?: string | null };
  header: HeaderReader;
  /** The request's headers as received, whose W3C trace context the operation's span continues. */
  rawHeaders: IncomingHttpHeaders;
  clientAddress?: string;
  correlationId?: string;
  /** Where the stream goes: its answer headers are set on it, and its close (the client left) ends the operation. */
  res: ServerResponse;
  /** The document and operation, when the transport already needed them to choose itself. */
  resolved?: ResolvedDocument;
  prepared?: ReturnType<FederatedExecutor['prepare']>;
}

/** Refused before the stream opens: an HTTP answer. */
export interface StreamRefusal {
  kind: 'refused';
  status: number;
  body: { errors: unknown[] };
  headers: Record<string, string>;
}

export interface OpenedStream {
  kind: 'stream';
  /** The operation's results (one, or one per event); they end when the operation, the client or the gateway does. */
  results: AsyncGenerator<ExecutionResult>;
  /** Why the results ended early, if they did: the transport tells its client in its own words. */
  interruption(): StreamInterruption | undefined;
}

export interface HttpStreamSettings {
  /** Open subscriptions per caller, counted with the caller's graphql-ws ones. */
  slots: SubscriptionSlots;
  tracing?: boolean;
}

/** The streams open over HTTP; `close()` ends them all (on shutdown), so none waits out the drain grace. */
export class HttpStreams {
  private readonly open = new Set<AbortController>();

  constructor(
    private readonly host: GatewayHost,
    private readonly executor: FederatedExecutor,
    private readonly settings: HttpStreamSettings,
  ) {}

  async start(request: StreamRequest): Promise<StreamRefusal | OpenedStream> {
    const { host, executor } = this;
    let resolved = request.resolved;
    if (!resolved) {
      try {
        resolved = await host.resolveDocument(request.params);
      } catch (error) {
        // A persisted query's refusal, answered as on HTTP: a bad hash is a 400, an unknown one an
        // error in the stream, which the client answers by sending the query with its hash.
        const refused = clientError(host, error);
        if (refused.extensions.code === 'BAD_REQUEST') return refusal(400, { errors: [refused.toJSON()] });
        return settled({ errors: [refused] });
      }
    }
    const operation: OperationRequest = {
      query: resolved.query,
      variables: request.params.variables ?? undefined,
      operationName: request.params.operationName ?? undefined,
      register: resolved.register,
    };
    // A GET can be made cross-site by any page (an <img>, an EventSource): it may read, never write.
    let prepared = request.prepared ?? (request.method === 'GET' ? executor.prepare(operation) : undefined);
    if (
      request.method === 'GET' &&
      prepared &&
      !('errors' in prepared) &&
      prepared.operation.operation === 'mutation'
    ) {
      return refusal(405, errorBody('METHOD_NOT_ALLOWED', 'a mutation can only be sent with POST'), { allow: 'POST' });
    }
    let context: GatewayContext;
    try {
      context = await host.buildContext(request.header, {
        clientAddress: request.clientAddress,
        correlationId: request.correlationId,
      });
    } catch (error) {
      // Refused while building the context (a bad token, the rate limit): the same status, headers
      // (Retry-After, RateLimit) and formatted error as on HTTP.
      const { http, ...extensions } =
        (error as { extensions?: { http?: { status?: number; headers?: Map<string, string> } } }).extensions ?? {};
      const formatted = host.formatError({ message: (error as Error).message, extensions }, error);
      return refusal(http?.status ?? 401, { errors: [formatted] }, Object.fromEntries(http?.headers ?? []));
    }
    // The stream's operation span continues the caller's trace (W3C headers of the request).
    if (this.settings.tracing) context.traceParent = extractTrace(request.rawHeaders);
    // The stream's own answer headers (RateLimit), kept by whatever writes the head.
    for (const [name, value] of Object.entries(context.responseHeaders ?? {})) request.res.setHeader(name, value);
    // Parsed after the rate limit had its say (unless the transport needed it first); kept documents make it a lookup.
    prepared ??= executor.prepare(operation);
    return this.run(operation, context, prepared, request.res);
  }

  close(): void {
    for (const abort of this.open) abort.abort(GOING_AWAY);
  }

  private run(
    operation: OperationRequest,
    context: GatewayContext,
    prepared: PreparedOperation | { errors: unknown[] },
    res: ServerResponse,
  ): OpenedStream {
    let slot: Slot | undefined;
    try {
      // A subscription holds its caller's slot (counted with its graphql-ws ones) until the stream ends.
      if (!('errors' in prepared) && prepared.operation.operation === 'subscription')
        slot = this.settings.slots.take(clientKey(context.user?.id, context.clientAddress));
    } catch (error) {
      return settled({ errors: [clientError(this.host, error)] });
    }
    const abort = new AbortController();
    const open = this.open;
    open.add(abort);
    // A stream lives no longer than its token: at expiry it ends, and the transport says why.
    const cancelExpiry = whenTokenExpires(context, () => abort.abort(TOKEN_EXPIRED));
    const ended = () => {
      abort.abort();
      cancelExpiry();
      slot?.release();
    };
    // A generator waiting for the next event only sees its consumer leave at that event: the
    // upstream subscription ends now instead (and a generator never started has no `finally` to free the slot).
    res.once('close', ended);
    const results = this.executor.execute(
      operation,
      context,
      abort.signal,
      prepared as ReturnType<FederatedExecutor['prepare']>,
    );
    return {
      kind: 'stream',
      interruption: () =>
        abort.signal.reason === GOING_AWAY
          ? 'stopping'
          : abort.signal.reason === TOKEN_EXPIRED
            ? 'token expired'
            : undefined,
      results: (async function* () {
        try {
          for await (const result of results) {
            if (abort.signal.aborted) break;
            yield result;
          }
        } finally {
          open.delete(abort);
          ended();
        }
      })(),
    };
  }
}

function errorBody(code: string, message: string) {
  return { errors: [{ message, extensions: { code } }] };
}

function refusal(status: number, body: { errors: unknown[] }, headers: Record<string, string> = {}): StreamRefusal {
  return { kind: 'refused', status, body, headers };
}

/** A stream of one result (an operation refused inside the stream, as on graphql-ws). */
function settled(result: ExecutionResult): OpenedStream {
  return {
    kind: 'stream',
    interruption: () => undefined,
    results: (async function* () {
      yield result;
    })(),
  };
}
