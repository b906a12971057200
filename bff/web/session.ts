/**
 * Web sessions: the browser holds an opaque, HttpOnly, SameSite=Strict cookie; the access token
 * it stands for lives only in the StateStore, for no longer than the token itself is valid.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { decodeJwt } from 'jose';
import type { StateStore, TokenVerifier } from '@trellis/kit';
import { callerFromToken, HttpError, unauthenticated, type Caller } from '../shared';

export const SESSION_COOKIE = 'trellis_session';

export interface SessionStoreOptions {
  state: StateStore;
  verifier?: TokenVerifier;
  ttlMs: number;
  /** Adds `Secure` to the cookie (production). */
  secureCookie: boolean;
  now?: () => number;
}

export class SessionStore {
  private readonly now: () => number;

  constructor(private readonly options: SessionStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Verifies the token and stores it; the session id and how long it lives. */
  async create(token: string): Promise<{ sessionId: string; caller: Caller; ttlMs: number }> {
    if (!this.options.verifier) throw new HttpError(503, 'AUTH_NOT_CONFIGURED', 'no token issuer is configured (AUTH_ISSUER), so sessions cannot be opened');
    const caller = await callerFromToken(token, this.options.verifier);
    const exp = decodeJwt(token).exp as number;
    const ttlMs = Math.min(this.options.ttlMs, exp * 1000 - this.now());
    if (ttlMs <= 0) throw unauthenticated('token expired');
    const sessionId = randomBytes(32).toString('base64url');
    await this.options.state.set(this.key(sessionId), JSON.stringify(caller), { ttlMs });
    return { sessionId, caller, ttlMs };
  }

  async find(sessionId: string | undefined): Promise<Caller | undefined> {
    if (!sessionId || !/^[A-Za-z0-9_-]{43}$/.test(sessionId)) return undefined;
    const stored = await this.options.state.get(this.key(sessionId));
    return stored ? (JSON.parse(stored) as Caller) : undefined;
  }

  async end(sessionId: string | undefined): Promise<void> {
    if (sessionId) await this.options.state.delete(this.key(sessionId));
  }

  cookie(sessionId: string, ttlMs: number): string {
    return `${SESSION_COOKIE}=${sessionId}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(ttlMs / 1000)}${this.options.secureCookie ? '; Secure' : ''}`;
  }

  clearedCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${this.options.secureCookie ? '; Secure' : ''}`;
  }

  /** Sets `res.locals.caller` from the session cookie when there is a live session. */
  middleware(): RequestHandler {
    return async (req, res, next) => {
      res.locals.sessionId = sessionIdOf(req);
      res.locals.caller = await this.find(res.locals.sessionId as string | undefined);
      next();
    };
  }

  private key(sessionId: string): string {
    return `bff:web:session:${sessionId}`;
  }
}

export function sessionIdOf(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}

/** The signed-in caller, or a 401 that says how to sign in. */
export function requireCaller(caller: Caller | undefined): Caller {
  if (!caller) throw unauthenticated('sign in first: POST /api/session with {"token":"<JWT>"}');
  return caller;
}
