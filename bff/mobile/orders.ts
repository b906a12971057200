/**
 * Orders on mobile: `POST /v1/orders` starts placeOrder; `GET /v1/orders/:sagaId/progress` streams
 * every saga state over Server-Sent Events (`event: progress`), then `event: complete`. Failures
 * before the first state are plain JSON errors (401, 503…); later ones are an `event: error`.
 */
import type { Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { HttpError, placeOrder, sagaProgress, validate, type BffServices, type Caller } from '../shared';
import { requireCaller } from './caller';

const HEARTBEAT_MS = 15_000;

export function orderRoutes(services: BffServices): { router: Router; close: () => Promise<void> } {
  const router = express.Router();
  const streams = new Set<AbortController>();

  router.post('/v1/orders', async (req, res) => {
    const caller = requireCaller(res.locals.caller as Caller | undefined);
    const started = await placeOrder(services.gateway, req.body, caller, res.locals.correlationId as string, req.get('idempotency-key'));
    res.status(202).json({ ...started, progress: `/v1/orders/${started.sagaId}/progress` });
  });

  router.get('/v1/orders/:sagaId/progress', async (req, res) => {
    const caller = requireCaller(res.locals.caller as Caller | undefined);
    const { sagaId } = validate(z.object({ sagaId: z.string().min(1).max(64).regex(/^[\w-]+$/) }), req.params, 'saga id');
    const abort = new AbortController();
    streams.add(abort);
    res.on('close', () => abort.abort());
    const progress = sagaProgress({ gatewayUrl: services.config.gateway.url, sagaId, token: caller.token, correlationId: res.locals.correlationId as string, signal: abort.signal, keepAlive: services.progressKeepAlive });
    try {
      const first = await progress.next(); // errors here are still plain HTTP answers
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      const heartbeat = setInterval(() => res.write(':\n\n'), HEARTBEAT_MS);
      try {
        if (!first.done) res.write(`event: progress\ndata: ${JSON.stringify(first.value)}\n\n`);
        for await (const saga of progress) res.write(`event: progress\ndata: ${JSON.stringify(saga)}\n\n`);
        if (!abort.signal.aborted) res.write('event: complete\ndata: {}\n\n');
      } catch (error) {
        if (!abort.signal.aborted) {
          const http = error instanceof HttpError ? error : new HttpError(500, 'INTERNAL_SERVER_ERROR', 'progress stream failed');
          if (!(error instanceof HttpError)) services.logger.error({ err: error, sagaId }, 'progress stream failed');
          res.write(`event: error\ndata: ${JSON.stringify({ code: http.code, message: http.message })}\n\n`);
        }
      } finally {
        clearInterval(heartbeat);
        res.end();
      }
    } finally {
      streams.delete(abort);
      await progress.return(undefined);
    }
  });

  return {
    router,
    close: async () => {
      for (const abort of streams) abort.abort();
    },
  };
}
