/** The gateway's rate limit extension (see rateLimit.ts) and its refusal. */
export { rateLimit, type GatewayRateLimitOptions } from './rateLimit';
export { RateLimitedError } from './errors';
export { tokenAttempts, type TokenAttempts, type TokenAttemptOptions } from './tokenAttempts';
