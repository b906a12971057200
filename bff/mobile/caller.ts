/** Mobile callers authenticate each request with `Authorization: Bearer <JWT>`; a bad token is a 401 before anything else runs. */
import type { RequestHandler } from 'express';
import { bearerToken, type TokenVerifier } from '@trellis/kit';
import { callerFromToken, unauthenticated, type Caller } from '../shared';

export function bearerCaller(verifier: TokenVerifier | undefined): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.header('authorization'));
    if (token) res.locals.caller = await callerFromToken(token, verifier);
    next();
  };
}

export function requireCaller(caller: Caller | undefined): Caller {
  if (!caller) throw unauthenticated('send "Authorization: Bearer <JWT>"');
  return caller;
}
