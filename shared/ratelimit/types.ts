/** The rate-limit port: a count of requests per key in a fixed window, kept wherever the backends say. */
import { BackendUnavailableError } from '../errors';

export interface RateLimitPolicy {
  /** Names the policy in headers and keys (e.g. `gateway`, `bff:web`). */
  name: string;
  /** Requests allowed per key per window. */
  limit: number;
  /** The window, in whole seconds (the library counts in seconds). */
  windowSec: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Requests left in this window after this one (0 once refused). */
  remaining: number;
  /** Milliseconds until the window ends and the count starts again. */
  resetMs: number;
}

export interface RateLimiter {
  readonly policy: RateLimitPolicy;
  /** Counts one request for `key`; rejects with RateLimitStoreError when the count could not be kept. */
  consume(key: string): Promise<RateLimitDecision>;
}

/** Builds a limiter for a policy on the backend chosen at start-up (memory, dev hub or Redis). */
export type RateLimiterFactory = (policy: RateLimitPolicy) => RateLimiter;

/** The store behind a limiter did not answer; the caller decides to let the request through. */
export class RateLimitStoreError extends BackendUnavailableError {
  constructor(policy: string, cause: unknown) {
    super('rate limit store', `${policy}: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
}
