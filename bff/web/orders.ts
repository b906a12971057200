/**
 * Orders on the web: `POST /api/orders` starts placeOrder with the session's token;
 * `GET /api/orders/:sagaId/progress` (a WebSocket upgrade, the session cookie as credential)
 * sends every saga state as `{"type":"progress","saga":…}`, then `{"type":"complete"}` and closes.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Router } from 'express';
import express from 'express';
import { WebSocketServer, type WebSocket } from 'ws';
import { isOriginAllowed, type CorsPolicy } from '@trellis/kit/bff';
import { CORRELATION_ID_HEADER, correlationIdFrom } from '@trellis/kit';
import { HttpError, placeOrder, sagaProgress, type BffServices, type Caller } from '../shared';
import { requireCaller, sessionIdOf, type SessionStore } from './session';

const PROGRESS_PATH = /^\/api\/orders\/([\w-]{1,64})\/progress$/;

export function orderRoutes(services: BffServices): Router {
  const router = express.Router();
  router.post('/api/orders', async (req, res) => {
    const caller = requireCaller(res.locals.caller as Caller | undefined);
    const started = await placeOrder(services.gateway, req.body, caller, res.locals.correlationId as string, req.get('idempotency-key'));
    res.status(202).json({ ...started, progress: `/api/orders/${started.sagaId}/progress` });
  });
  return router;
}

/** Serves the progress WebSockets on `server`'s upgrades; the returned function closes them all. */
export function serveOrderProgress(server: Server, services: BffServices, sessions: SessionStore): () => Promise<void> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const streams = new Set<AbortController>();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const match = PROGRESS_PATH.exec(new URL(req.url ?? '/', 'http://bff').pathname);
    if (!match) return refuse(socket, 404, 'NOT_FOUND', 'no WebSocket at this path');
    // Browsers send cookies on cross-site WebSocket upgrades too (no CORS there): check the page's origin.
    if (!originAllowed(req.headers.origin, req.headers.host, services.config.cors)) {
      return refuse(socket, 403, 'ORIGIN_NOT_ALLOWED', `origin ${req.headers.origin} may not open this WebSocket`);
    }
    sessions.find(sessionIdOf(req)).then(
      (caller) => {
        if (!caller) return refuse(socket, 401, 'UNAUTHENTICATED', 'sign in first: POST /api/session');
        wss.handleUpgrade(req, socket, head, (ws) => void stream(ws, match[1], caller, correlationIdFrom(req.headers[CORRELATION_ID_HEADER])));
      },
      (error) => {
        services.logger.warn({ err: error }, 'session lookup failed');
        refuse(socket, 503, 'SESSION_STORE_UNAVAILABLE', 'sessions are unavailable; retry later');
      },
    );
  });

  const stream = async (ws: WebSocket, sagaId: string, caller: Caller, correlationId: string) => {
    const abort = new AbortController();
    streams.add(abort);
    ws.on('close', () => abort.abort());
    try {
      for await (const saga of sagaProgress({ gatewayUrl: services.config.gateway.url, sagaId, token: caller.token, correlationId, signal: abort.signal, keepAlive: services.progressKeepAlive })) {
        if (abort.signal.aborted) return;
        ws.send(JSON.stringify({ type: 'progress', saga }));
      }
      if (!abort.signal.aborted) {
        ws.send(JSON.stringify({ type: 'complete' }));
        ws.close(1000, 'saga ended');
      }
    } catch (error) {
      if (abort.signal.aborted) return;
      const http = error instanceof HttpError ? error : new HttpError(500, 'INTERNAL_SERVER_ERROR', 'progress stream failed');
      if (!(error instanceof HttpError)) services.logger.error({ err: error, sagaId }, 'progress stream failed');
      ws.send(JSON.stringify({ type: 'error', error: { code: http.code, message: http.message } }));
      ws.close(http.status === 503 ? 1013 : 1011, http.code);
    } finally {
      streams.delete(abort);
    }
  };

  return async () => {
    for (const abort of streams) abort.abort();
    for (const client of wss.clients) client.close(1001, 'server stopping');
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** No Origin (not a browser), the BFF's own origin, or one the CORS policy allows. */
function originAllowed(origin: string | undefined, host: string | undefined, cors: CorsPolicy): boolean {
  if (!origin) return true;
  return (host !== undefined && hostOf(origin) === host) || isOriginAllowed(origin, cors);
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
