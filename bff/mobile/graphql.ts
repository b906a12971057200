/**
 * `/graphql` on the mobile BFF runs persisted operations only: `{"id": "Products", "variables": {…}}`
 * (POST, or GET with `id` and `variables` parameters). Query text is refused, so a mobile client
 * can only run what was shipped with it.
 */
import type { Request, Response, Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { HttpError, validate, type BffServices, type Caller } from '../shared';
import { sendWithEtag } from './etag';
import type { PersistedOperations } from './persistedOperations';

const persistedRequest = z.object({
  id: z.string().min(1).max(100),
  variables: z.record(z.unknown()).nullish(),
  operationName: z.string().max(200).nullish(),
});

export function persistedGraphql(services: BffServices, operations: PersistedOperations): Router {
  const router = express.Router();
  const handle = async (req: Request, res: Response, source: Record<string, unknown>) => {
    if (source.query !== undefined) {
      throw new HttpError(400, 'PERSISTED_QUERY_REQUIRED', 'this endpoint runs persisted operations only: send {"id": "<operation id>", "variables": {...}}, not query text');
    }
    const request = validate(persistedRequest, source, 'persisted operation request (expected {"id": "...", "variables": {...}})');
    const document = operations.get(request.id);
    if (!document) throw new HttpError(400, 'PERSISTED_QUERY_NOT_FOUND', `unknown persisted operation "${request.id}"`);
    const caller = res.locals.caller as Caller | undefined;
    const response = await services.gateway.execute({
      query: document,
      variables: request.variables ?? undefined,
      operationName: request.operationName ?? undefined,
      token: caller?.token,
      correlationId: res.locals.correlationId as string,
    });
    if (req.method === 'GET' && response.status === 200 && !response.body.errors) return sendWithEtag(req, res, response.body);
    res.status(response.status).json(response.body);
  };
  router.post('/graphql', (req, res) => handle(req, res, (req.body ?? {}) as Record<string, unknown>));
  router.get('/graphql', (req, res) => {
    const { variables, ...rest } = req.query as Record<string, unknown>;
    let parsed: unknown = undefined;
    if (typeof variables === 'string') {
      try {
        parsed = JSON.parse(variables);
      } catch {
        throw new HttpError(400, 'BAD_JSON', '"variables" is not valid JSON');
      }
    }
    return handle(req, res, { ...rest, variables: parsed });
  });
  return router;
}
