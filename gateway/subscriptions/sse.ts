/**
 * GraphQL over Server-Sent Events on `/graphql` ("distinct connections" mode): a request with
 * `Accept: text/event-stream` gets one `next` event per result and a `complete` event at the end.
 * GET takes `query`, `variables` and `operationName` as URL parameters (never a mutation); POST takes the JSON body.
 */
import type { Express, Request, Response } from 'express';
import express from 'express';
import type { GatewayHost } from '../extension';
import type { FederatedExecutor, OperationRequest } from './federatedExecutor';

const HEARTBEAT_MS = 15_000;

/** Mounts the SSE handler; `close()` ends every open stream (on shutdown), so none waits out the drain grace. */
export function mountSse(app: Express, host: GatewayHost, executor: FederatedExecutor, maxBodyBytes: number): { close(): void } {
  const open = new Set<AbortController>();
  const handle = async (req: Request, res: Response, next: () => void) => {
    if (!wantsEventStream(req)) return next();
    const request = readRequest(req);
    if (!request) {
      res.status(400).json({ errors: [{ message: 'send a query (URL parameter or JSON body)', extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    // A GET can be made cross-site by any page (an <img>, an EventSource): it may read, never write.
    if (req.method === 'GET' && isMutation(executor, request)) {
      res.status(405).setHeader('allow', 'POST');
      res.json({ errors: [{ message: 'a mutation can only be sent with POST', extensions: { code: 'METHOD_NOT_ALLOWED' } }] });
      return;
    }
    let context;
    try {
      context = await host.buildContext((name) => req.header(name), { clientAddress: req.socket.remoteAddress });
    } catch (error) {
      const { http, ...extensions } = (error as { extensions?: { http?: { status?: number; headers?: Map<string, string> } } }).extensions ?? {};
      for (const [name, value] of http?.headers ?? []) res.setHeader(name, value);
      res.status(http?.status ?? 401).json({ errors: [{ message: (error as Error).message, extensions }] });
      return;
    }
    res.writeHead(200, { ...context.responseHeaders, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    const abort = new AbortController();
    open.add(abort);
    res.on('close', () => abort.abort());
    const heartbeat = setInterval(() => res.write(':\n\n'), HEARTBEAT_MS);
    try {
      for await (const result of executor.execute(request, context, abort.signal)) {
        if (abort.signal.aborted) break;
        res.write(`event: next\ndata: ${JSON.stringify(result)}\n\n`);
      }
      if (!abort.signal.aborted) res.write('event: complete\ndata:\n\n');
    } finally {
      open.delete(abort);
      clearInterval(heartbeat);
      res.end();
    }
  };
  app.get('/graphql', (req, res, next) => void handle(req, res, next));
  // Parses only SSE bodies: any other POST goes on unread to the server's own parser and its limit.
  const json = express.json({ limit: maxBodyBytes });
  app.post('/graphql', (req, res, next) => (wantsEventStream(req) ? json(req, res, next) : next()), (req, res, next) => void handle(req, res, next));
  return {
    close: () => {
      for (const abort of open) abort.abort();
    },
  };
}

function isMutation(executor: FederatedExecutor, request: OperationRequest): boolean {
  const prepared = executor.prepare(request);
  return !('errors' in prepared) && prepared.operation.operation === 'mutation';
}

function wantsEventStream(req: Request): boolean {
  return (req.headers.accept ?? '').includes('text/event-stream');
}

function readRequest(req: Request): OperationRequest | undefined {
  const source = req.method === 'GET' ? req.query : (req.body as Record<string, unknown> | undefined);
  const query = source?.query;
  if (typeof query !== 'string' || query.length === 0) return undefined;
  let variables = source?.variables;
  if (typeof variables === 'string') {
    try {
      variables = JSON.parse(variables);
    } catch {
      return undefined;
    }
  }
  const operationName = typeof source?.operationName === 'string' ? source.operationName : undefined;
  return { query, variables: (variables ?? undefined) as Record<string, unknown> | undefined, operationName };
}
