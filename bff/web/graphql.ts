/**
 * `/graphql` for the web app's own queries: passed to the gateway with the session's token,
 * answered as the gateway answered. A caller that accepts `multipart/mixed` (a query with
 * `@defer`) gets the gateway's parts passed through as each arrives, unbuffered, so the page
 * shows the first part while a slow one is still on its way.
 */
import type { Request, Response, Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { validate, type BffServices, type Caller, type GatewayRequest } from '../shared';

const graphqlRequest = z.object({
  query: z.string().min(1).max(20_000),
  variables: z.record(z.unknown()).nullish(),
  operationName: z.string().max(200).nullish(),
});

const accepted = (req: Request) => req.get('accept') ?? '';

export function graphqlPassthrough(services: BffServices): Router {
  const router = express.Router();
  router.post('/graphql', async (req, res) => {
    const body = validate(graphqlRequest, req.body, 'GraphQL request (expected {"query": "...", "variables": {...}})');
    const caller = res.locals.caller as Caller | undefined;
    const request: GatewayRequest = {
      query: body.query,
      variables: body.variables ?? undefined,
      operationName: body.operationName ?? undefined,
      token: caller?.token,
      correlationId: res.locals.correlationId as string,
    };
    if (/multipart\/mixed/i.test(accepted(req))) return passThrough(services, { ...request, accept: accepted(req) }, res);
    const response = await services.gateway.execute(request);
    res.status(response.status).json(response.body);
  });
  return router;
}

/** The gateway's answer, whatever its type, written on as it comes; the caller leaving stops the read. */
async function passThrough(services: BffServices, request: GatewayRequest & { accept: string }, res: Response): Promise<void> {
  const upstream = await services.gateway.stream(request);
  const leave = () => upstream.abort();
  res.once('close', leave);
  res.status(upstream.status);
  res.setHeader('content-type', upstream.contentType);
  res.setHeader('x-accel-buffering', 'no'); // a proxy in front must not buffer the parts either
  res.flushHeaders();
  try {
    for await (const chunk of upstream.body) res.write(chunk);
    res.end();
  } catch (error) {
    // The gateway's answer was cut (or the caller left): cut ours too, so the client sees it unfinished.
    if (!res.destroyed) services.logger.warn({ err: error, correlationId: request.correlationId }, 'gateway stream cut short');
    res.destroy();
  } finally {
    res.off('close', leave);
  }
}
