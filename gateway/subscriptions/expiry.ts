/**
 * Ends a long-lived operation (a graphql-ws connection, an SSE stream) when the caller's token
 * stops being accepted: the same instant a new request with that token would be refused.
 */
import { GraphQLError } from 'graphql';
import type { GatewayContext } from '../context';

/** setTimeout's longest delay (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The close code a graphql-ws client gets when its token expires (the protocol's Forbidden). */
export const TOKEN_EXPIRED_CLOSE_CODE = 4403;

export const TOKEN_EXPIRED_MESSAGE = 'token expired (exp is in the past)';

/** The error an SSE stream ends with when its token expires: the code and words HTTP answers such a token with. */
export function tokenExpiredError(): GraphQLError {
  return new GraphQLError(TOKEN_EXPIRED_MESSAGE, { extensions: { code: 'UNAUTHENTICATED' } });
}

/**
 * Calls `onExpiry` once at the caller's token expiry (`context.user.expiresAt`), however far away;
 * nothing for an anonymous caller. Returns the cancel, for when the operation ends first.
 */
export function whenTokenExpires(context: GatewayContext, onExpiry: () => void, now: () => number = Date.now): () => void {
  const at = context.user?.expiresAt;
  if (at === undefined) return () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = at - now();
    if (left <= 0) return onExpiry();
    // A far expiry is reached in steps, each within setTimeout's range.
    timer = setTimeout(left > MAX_TIMER_MS ? arm : onExpiry, Math.min(left, MAX_TIMER_MS));
    // Never the reason the process stays up.
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
