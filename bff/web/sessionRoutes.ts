/** `POST /api/session` trades a token for a session cookie; `DELETE /api/session` ends it; `GET` says who is signed in. */
import type { Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { validate, type Caller } from '../shared';
import type { SessionStore } from './session';

export function sessionRoutes(sessions: SessionStore): Router {
  const router = express.Router();
  router.post('/api/session', async (req, res) => {
    const { token } = validate(z.object({ token: z.string().min(1).max(8192) }).strict(), req.body, 'session request (expected {"token": "<JWT>"})');
    const { sessionId, caller, ttlMs } = await sessions.create(token);
    res.setHeader('set-cookie', sessions.cookie(sessionId, ttlMs));
    res.status(201).json({ user: { id: caller.id, scopes: caller.scopes }, expiresInSec: Math.floor(ttlMs / 1000) });
  });
  router.get('/api/session', (_req, res) => {
    const caller = res.locals.caller as Caller | undefined;
    res.json({ user: caller ? { id: caller.id, scopes: caller.scopes } : null });
  });
  router.delete('/api/session', async (_req, res) => {
    await sessions.end(res.locals.sessionId as string | undefined);
    res.setHeader('set-cookie', sessions.clearedCookie());
    res.status(204).end();
  });
  return router;
}
