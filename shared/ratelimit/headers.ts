/**
 * The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-08 and later, as
 * express-rate-limit's `draft-8`): `RateLimit-Policy: "gateway";q=100;w=60` states the quota, and
 * `RateLimit: "gateway";r=42;t=17` what is left and the seconds until it resets.
 */
import type { RateLimitDecision, RateLimitPolicy } from './types';

export function rateLimitHeaders(policy: RateLimitPolicy, decision: RateLimitDecision): Record<string, string> {
  return {
    'ratelimit-policy': `"${policy.name}";q=${policy.limit};w=${policy.windowSec}`,
    ratelimit: `"${policy.name}";r=${decision.remaining};t=${Math.ceil(decision.resetMs / 1000)}`,
  };
}

/** `Retry-After` for a refused request: whole seconds until the window resets, at least one. */
export function retryAfterSeconds(decision: RateLimitDecision): number {
  return Math.max(1, Math.ceil(decision.resetMs / 1000));
}
