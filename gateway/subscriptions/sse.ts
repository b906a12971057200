/**
 * GraphQL over Server-Sent Events on `/graphql`, served by graphql-sse (the protocol's reference
 * server) in its "distinct connections" mode: a request with `Accept: text/event-stream` gets one
 * `next` event per result and a `complete` event at the end, which is what `EventSource`, a
 * plain fetch and graphql-sse's own client (`singleConnection: false`) speak.
 *
 * graphql-sse owns the wire (parsing GET/POST, events, pings, client disconnects); every operation
 * runs through HttpStreams and the FederatedExecutor, so MAX_TOKENS, introspection, trusted
 * documents, auth, limits, slots and token expiry are the same checks as on HTTP, graphql-ws and
 * multipart subscriptions, and errors are formatted the same way.
 */
import { randomUUID } from 'node:crypto';
import type { Express, Request as ExpressRequest, Response as ExpressResponse } from 'express';
import express from 'express';
import type { ExecutionResult } from 'graphql';
import { TOKEN_HEADER_KEY, TOKEN_QUERY_KEY, type Response as SseResponse } from 'graphql-sse';
import { createHandler } from 'graphql-sse/lib/use/express';
import type { Logger } from '@trellis/kit';
import type { GatewayHost } from '../extension';
import { tokenExpiredError } from './expiry';
import { clientError } from './clientError';
import type { HttpStreams } from './httpStreams';

const EVENT_STREAM = 'text/event-stream';

/** Thrown through graphql-sse to end a stream without its `complete` event. */
class StreamInterrupted extends Error {}

export interface SseSettings {
  /** The largest SSE request body, the same bound as `/graphql`'s. */
  maxBodyBytes: number;
  logger?: Logger;
}

/** Mounts the SSE handler; `close()` ends every open stream (on shutdown), so none waits out the drain grace. */
export function mountSse(app: Express, host: GatewayHost, streams: HttpStreams, { maxBodyBytes, logger }: SseSettings): { close(): void } {
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
      const { res } = req.context;
      const opened = await streams.start({
        method: req.method,
        params,
        header: (name) => req.headers.get(name) ?? undefined,
        rawHeaders: req.raw.headers,
        clientAddress: req.raw.socket.remoteAddress,
        correlationId: res.locals.correlationId as string | undefined,
        res,
      });
      if (opened.kind === 'refused') return jsonAnswer(opened.status, opened.body, opened.headers);
      return (async function* () {
        yield* opened.results;
        // On shutdown the stream ends without `complete`: the subscription did not end, and a
        // client may resubscribe elsewhere (graphql-ws clients get 1001 Going Away for the same).
        if (opened.interruption() === 'stopping') throw new StreamInterrupted();
        // At its token's expiry a stream ends with the error a new request would get.
        if (opened.interruption() === 'token expired') yield { errors: [clientError(host, tokenExpiredError())] };
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
  return { close: () => streams.close() };
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
