/**
 * GraphQL over Server-Sent Events on `/graphql`, served by graphql-sse (the protocol's reference
 * server) in its "distinct connections" mode: a request with `Accept: text/event-stream` gets one
 * `next` event per result and a `complete` event at the end, which is what `EventSource`, a
 * plain fetch and graphql-sse's own client (`singleConnection: false`) speak.
 *
 * graphql-sse owns the wire (parsing GET/POST, events, pings, client disconnects); every operation
 * runs through the FederatedExecutor, so MAX_TOKENS, introspection, trusted documents, auth and
 * limits are the same checks as on HTTP and graphql-ws, and errors are formatted the same way.
 */
import { randomUUID } from 'node:crypto';
import type { Express, Request as ExpressRequest, Response as ExpressResponse } from 'express';
import express from 'express';
import type { ExecutionResult } from 'graphql';
import { TOKEN_HEADER_KEY, TOKEN_QUERY_KEY, type Response as SseResponse } from 'graphql-sse';
import { createHandler } from 'graphql-sse/lib/use/express';
import type { Logger } from '@trellis/kit';
import { extractTrace } from '@trellis/kit';
import type { GatewayHost } from '../extension';
import type { FederatedExecutor, OperationRequest } from './federatedExecutor';
import { clientKey } from '@trellis/kit';
import type { ResolvedDocument } from '../persisted/documents';
import { tokenExpiredError, whenTokenExpires } from './expiry';
import { clientError } from './clientError';
import type { Slot, SubscriptionSlots } from './slots';

const EVENT_STREAM = 'text/event-stream';
const GOING_AWAY = 'gateway stopping';
const TOKEN_EXPIRED = 'token expired';

/** Thrown through graphql-sse to end a stream without its `complete` event. */
class StreamInterrupted extends Error {}

export interface SseSettings {
  /** The largest SSE request body, the same bound as `/graphql`'s. */
  maxBodyBytes: number;
  /** Open subscriptions per caller, counted with the caller's graphql-ws ones. */
  slots: SubscriptionSlots;
  logger?: Logger;
  tracing?: boolean;
}

/** Mounts the SSE handler; `close()` ends every open stream (on shutdown), so none waits out the drain grace. */
export function mountSse(app: Express, host: GatewayHost, executor: FederatedExecutor, { maxBodyBytes, slots, logger, tracing = false }: SseSettings): { close(): void } {
  const open = new Set<AbortController>();
  const handler = createHandler({
    // Single-connection mode keeps a reserved stream per token (PUT) with no bound and no owner,
    // which any anonymous client could fill: it is refused, by name, before anything is reserved.
    authenticate: (req) => {
      const streamToken = req.headers.get(TOKEN_HEADER_KEY) ?? new URL(req.url, 'http://gateway/').searchParams.get(TOKEN_QUERY_KEY);
      if (streamToken) return refusal(400, 'BAD_REQUEST', 'single-connection mode is not served: send each operation on its own event stream (distinct connections)');
      // Never registered, so every stream is a distinct connection; random so it can match nothing.
      return randomUUID();
    },
    onSubscribe: async (req, params): Promise<SseResponse | AsyncGenerator<ExecutionResult>> => {
      let resolved: ResolvedDocument;
      try {
        resolved = await host.resolveDocument(params);
      } catch (error) {
        // A persisted query's refusal, answered as on HTTP: a bad hash is a 400, an unknown one an
        // error event the client answers by sending the query with its hash.
        const refused = clientError(host, error);
        if (refused.extensions.code === 'BAD_REQUEST') return jsonAnswer(400, { errors: [refused.toJSON()] });
        return oneResult({ errors: [refused] });
      }
      const request: OperationRequest = { query: resolved.query, variables: params.variables, operationName: params.operationName, register: resolved.register };
      // A GET can be made cross-site by any page (an <img>, an EventSource): it may read, never write.
      let prepared = req.method === 'GET' ? executor.prepare(request) : undefined;
      if (prepared && !('errors' in prepared) && prepared.operation.operation === 'mutation') {
        return refusal(405, 'METHOD_NOT_ALLOWED', 'a mutation can only be sent with POST', { allow: 'POST' });
      }
      let context;
      try {
        context = await host.buildContext((name) => req.headers.get(name) ?? undefined, { clientAddress: req.raw.socket.remoteAddress });
      } catch (error) {
        // Refused while building the context (a bad token, the rate limit): the same status, headers
        // (Retry-After, RateLimit) and formatted error as on HTTP.
        const { http, ...extensions } = (error as { extensions?: { http?: { status?: number; headers?: Map<string, string> } } }).extensions ?? {};
        const formatted = host.formatError({ message: (error as Error).message, extensions }, error);
        return jsonAnswer(http?.status ?? 401, { errors: [formatted] }, Object.fromEntries(http?.headers ?? []));
      }
      // The stream's operation span continues the caller's trace (W3C headers of the SSE request).
      if (tracing) context.traceParent = extractTrace(req.raw.headers);
      // The stream's own answer headers (RateLimit): graphql-sse's writeHead keeps what is set here.
      for (const [name, value] of Object.entries(context.responseHeaders ?? {})) req.context.res.setHeader(name, value);
      // Parsed after the rate limit had its say (a GET was parsed above); kept documents make it a lookup.
      prepared ??= executor.prepare(request);
      let slot: Slot | undefined;
      try {
        // A subscription holds its caller's slot (counted with its graphql-ws ones) until the stream ends.
        if (!('errors' in prepared) && prepared.operation.operation === 'subscription') slot = slots.take(clientKey(context.user?.id, context.clientAddress));
      } catch (error) {
        return oneResult({ errors: [clientError(host, error)] });
      }
      const abort = new AbortController();
      open.add(abort);
      // A stream lives no longer than its token: at expiry it ends with the error a new request would get.
      const cancelExpiry = whenTokenExpires(context, () => abort.abort(TOKEN_EXPIRED));
      const ended = () => {
        abort.abort();
        cancelExpiry();
        slot?.release();
      };
      // graphql-sse returns the generator below when the client leaves, but a generator waiting for
      // the next event only sees that at its next event: the upstream subscription ends now instead
      // (and a generator never started has no `finally` to free the slot).
      req.context.res.once('close', ended);
      const results = executor.execute(request, context, abort.signal, prepared);
      return (async function* () {
        try {
          for await (const result of results) {
            if (abort.signal.aborted) break;
            yield result;
          }
          // On shutdown the stream ends without `complete`: the subscription did not end, and a
          // client may resubscribe elsewhere (graphql-ws clients get 1001 Going Away for the same).
          if (abort.signal.reason === GOING_AWAY) throw new StreamInterrupted();
          if (abort.signal.reason === TOKEN_EXPIRED) yield { errors: [clientError(host, tokenExpiredError())] };
        } finally {
          open.delete(abort);
          ended();
        }
      })();
    },
  });

  const serve = async (req: ExpressRequest, res: ExpressResponse) => {
    // graphql-sse compares Accept exactly; a client that lists more types still asked for a stream.
    req.headers.accept = EVENT_STREAM;
    allowHashOnly(req);
    res.setHeader('x-accel-buffering', 'no'); // proxies must not buffer a stream
    try {
      await handler(req, res);
    } catch (error) {
      if (error instanceof StreamInterrupted) return void res.end();
      logger?.error({ err: error }, 'SSE request failed');
      if (!res.headersSent) res.status(500).json(errorBody('INTERNAL_SERVER_ERROR', 'internal error'));
      else res.end();
    }
  };

  app.get('/graphql', (req, res, next) => (wantsEventStream(req) ? void serve(req, res) : next()));
  // Parses only SSE bodies: any other POST goes on unread to the server's own parser and its limit.
  // A POST that is not application/json (a form, text/plain: what a cross-site page can send
  // without a preflight) is left unparsed and graphql-sse answers 415, so it never runs.
  const json = express.json({ limit: maxBodyBytes });
  app.post('/graphql', (req, res, next) => (wantsEventStream(req) ? json(req, res, next) : next('route')), (req, res) => void serve(req, res));
  return {
    close: () => {
      for (const abort of open) abort.abort(GOING_AWAY);
    },
  };
}

/**
 * graphql-sse refuses a request without a query before the gateway sees it; a persisted query sent
 * by its hash alone gets an empty one, which resolveDocument replaces with the stored document.
 */
function allowHashOnly(req: ExpressRequest): void {
  if (req.method === 'GET') {
    const url = new URL(req.url, 'http://gateway/');
    if (!url.searchParams.has('query') && url.searchParams.has('extensions')) req.url += '&query=';
    return;
  }
  const body = req.body as { query?: unknown; extensions?: unknown } | undefined;
  if (body && typeof body === 'object' && body.query == null && body.extensions != null) body.query = '';
}

function wantsEventStream(req: ExpressRequest): boolean {
  return (req.headers.accept ?? '').includes(EVENT_STREAM);
}

function errorBody(code: string, message: string) {
  return { errors: [{ message, extensions: { code } }] };
}

/** A plain JSON answer instead of a stream (graphql-sse's Response tuple). */
function jsonAnswer(status: number, body: unknown, headers: Record<string, string> = {}): SseResponse {
  return [JSON.stringify(body), { status, statusText: '', headers: { 'content-type': 'application/json; charset=utf-8', ...headers } }];
}

function refusal(status: number, code: string, message: string, headers: Record<string, string> = {}): SseResponse {
  return jsonAnswer(status, errorBody(code, message), headers);
}

/** A stream of one result (an operation refused inside the stream, as on graphql-ws). */
async function* oneResult(result: ExecutionResult): AsyncGenerator<ExecutionResult> {
  yield result;
}
