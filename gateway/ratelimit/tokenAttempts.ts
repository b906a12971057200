/**
 * Invalid tokens count against the rate limit of the address they came from, and an address over
 * its limit has its tokens refused before any signature is verified: a flood of garbage or forged
 * tokens costs one jose verification per request only up to the limit, then nothing.
 *
 * A refused token is counted on the same key an anonymous request from that address is
 * (`ip:<address>`), in the same store. Whether an address is over its limit is remembered in this
 * process until its window ends, so the check before verifying is a map lookup, never a store
 * round trip; with a shared store another instance learns it at its own first refusal.
 */
import { clientKey, FailOpenRateLimiter, rateLimitHeaders, retryAfterSeconds, type RateLimiter } from '@trellis/kit';
import { type RateLimitMetrics } from '@trellis/kit/internal';
import type { Logger } from '@trellis/kit';
import { RateLimitedError } from './errors';

export interface TokenAttemptOptions {
  /** The gateway's limiter: refused tokens use up the same count as the address's other requests. */
  limiter: RateLimiter;
  logger: Logger;
  metrics?: RateLimitMetrics;
  now?: () => number;
  /** Addresses remembered as over the limit at most; the oldest is forgotten first. */
  maxRemembered?: number;
}

/** What auth asks before and after verifying a token. */
export interface TokenAttempts {
  /** Throws RateLimitedError when the address is over its limit: the token is then not verified. */
  admit(address: string | undefined): void;
  /** Counts a token that failed verification; the RateLimitedError to answer instead when that put the address over its limit. */
  refused(address: string | undefined): Promise<RateLimitedError | undefined>;
}

export function tokenAttempts({ limiter, logger, metrics, now = Date.now, maxRemembered = 10_000 }: TokenAttemptOptions): TokenAttempts {
  const { policy } = limiter;
  const guarded = new FailOpenRateLimiter(limiter, { logger, now, onStoreFailure: () => metrics?.storeFailures.inc({ policy: policy.name }) });
  /** Address key -> when its window ends (ms since the epoch). */
  const exhausted = new Map<string, number>();
  const refusal = (resetMs: number) => {
    metrics?.refused.inc({ policy: policy.name });
    const decision = { allowed: false, remaining: 0, resetMs };
    return new RateLimitedError(policy, retryAfterSeconds(decision), rateLimitHeaders(policy, decision));
  };
  return {
    admit(address) {
      const key = clientKey(undefined, address);
      const left = (exhausted.get(key) ?? 0) - now();
      if (left > 0) throw refusal(left);
      // Stryker disable next-line BlockStatement,ExpressionStatement: only frees memory (an ended window refuses nothing either way)
      exhausted.delete(key);
    },
    async refused(address) {
      const key = clientKey(undefined, address);
      const verdict = await guarded.check(key);
      if (verdict.storeFailed || verdict.remaining > 0) return undefined;
      // Nothing left in this window: the next token from here is refused unverified.
      exhausted.delete(key);
      if (exhausted.size >= maxRemembered) exhausted.delete(exhausted.keys().next().value as string);
      exhausted.set(key, now() + verdict.resetMs);
      return verdict.allowed ? undefined : refusal(verdict.resetMs);
    },
  };
}
