/** `/graphql` for the web app's own queries: passed to the gateway with the session's token, answered as the gateway answered. */
import type { Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { validate, type BffServices, type Caller } from '../shared';

const graphqlRequest = z.object({
  query: z.string().min(1).max(20_000),
  variables: z.record(z.unknown()).nullish(),
  operationName: z.string().max(200).nullish(),
});

export function graphqlPassthrough(services: BffServices): Router {
  const router = express.Router();
  router.post('/graphql', async (req, res) => {
    const body = validate(graphqlRequest, req.body, 'GraphQL request (expected {"query": "...", "variables": {...}})');
    const caller = res.locals.caller as Caller | undefined;
    const response = await services.gateway.execute({
      query: body.query,
      variables: body.variables ?? undefined,
      operationName: body.operationName ?? undefined,
      token: caller?.token,
      correlationId: res.locals.correlationId as string,
    });
    res.status(response.status).json(response.body);
  });
  return router;
}
