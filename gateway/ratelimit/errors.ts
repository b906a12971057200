/** The refusal of a request over the rate limit: HTTP 429 with `Retry-After`, code RATE_LIMITED. */
import { GraphQLError } from 'graphql';

export class RateLimitedError extends GraphQLError {
  /** The same request may pass once the window resets. */
  readonly retriable = true;
  readonly code = 'RATE_LIMITED';

  constructor(policy: { name: string; limit: number; windowSec: number }, retryAfterSec: number, headers: Record<string, string>) {
    super(`more than ${policy.limit} requests in ${policy.windowSec} s from this client; retry in ${retryAfterSec} s`, {
      extensions: {
        code: 'RATE_LIMITED',
        retryAfter: retryAfterSec,
        // Apollo Server sends these as the response's status and headers, and strips them from the body.
        http: { status: 429, headers: new Map(Object.entries({ ...headers, 'retry-after': String(retryAfterSec) })) },
      },
    });
    this.name = 'RateLimitedError';
  }
}
