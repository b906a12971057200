/**
 * `POST /api/session/dev {"userId":"u1"}`: the storefront's "sign in as a dev user". Outside
 * production, and only when the configured issuer is the development identity provider (it mints
 * at `<issuer>/token`), the BFF asks it for a token for that user and opens a session with it,
 * exactly as `POST /api/session` does with a token the browser brought.
 */
import type { Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { HttpError, validate } from '../shared';
import type { SessionStore } from './session';

/** What a storefront user may do: read their email and payments, place orders. */
export const DEV_SCOPES = ['users:email', 'payments:read'];

export interface DevSignInOptions {
  /** The dev identity provider's issuer URL; undefined turns the route off. */
  issuer: string | undefined;
  timeoutMs: number;
}

export function devSignInRoutes(sessions: SessionStore, options: DevSignInOptions): Router {
  const router = express.Router();
  router.post('/api/session/dev', async (req, res) => {
    if (!options.issuer)
      throw new HttpError(404, 'NOT_FOUND', 'dev sign-in is off (production, or no dev identity provider)');
    const { userId } = validate(
      z.object({ userId: z.string().regex(/^[\w-]{1,64}$/, 'letters, digits, _ and - only') }).strict(),
      req.body,
      'dev sign-in (expected {"userId": "u1"})',
    );
    const token = await mintDevToken(options.issuer, userId, options.timeoutMs);
    const { sessionId, caller, ttlMs } = await sessions.create(token);
    res.setHeader('set-cookie', sessions.cookie(sessionId, ttlMs));
    res.status(201).json({ user: { id: caller.id, scopes: caller.scopes }, expiresInSec: Math.floor(ttlMs / 1000) });
  });
  return router;
}

async function mintDevToken(issuer: string, userId: string, timeoutMs: number): Promise<string> {
  let response: globalThis.Response;
  try {
    response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: userId, scopes: DEV_SCOPES }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new HttpError(
      503,
      'IDENTITY_UNAVAILABLE',
      `the dev identity provider at ${issuer} is unavailable (${(error as Error).message}); retry later`,
      { retryAfterSec: 1 },
    );
  }
  if (!response.ok)
    throw new HttpError(
      503,
      'IDENTITY_UNAVAILABLE',
      `the identity provider at ${issuer} mints no dev tokens (POST /token answered ${response.status})`,
    );
  return ((await response.json()) as { access_token: string }).access_token;
}
