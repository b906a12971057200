/**
 * Rate limiting that cannot become the outage: when the store behind a limiter fails, the request
 * goes through, the failure is counted (`onStoreFailure`) and logged at most once per interval.
 */
import type { Logger } from '../logging';
import { RateLimitStoreError, type RateLimitDecision, type RateLimiter } from './types';

export type RateLimitVerdict = (RateLimitDecision & { storeFailed: false }) | { allowed: true; storeFailed: true };

export interface FailOpenOptions {
  logger: Logger;
  /** Called once per request let through because the store failed (a metric). */
  onStoreFailure?: (error: RateLimitStoreError) => void;
  /** While the store stays down, one warning per this many ms, with the count let through meanwhile. */
  logIntervalMs?: number;
  now?: () => number;
}

export class FailOpenRateLimiter {
  private lastLog = Number.NEGATIVE_INFINITY;
  private unlogged = 0;

  constructor(
    readonly limiter: RateLimiter,
    private readonly options: FailOpenOptions,
  ) {}

  async check(key: string): Promise<RateLimitVerdict> {
    try {
      return { ...(await this.limiter.consume(key)), storeFailed: false };
    } catch (error) {
      const failure = error instanceof RateLimitStoreError ? error : new RateLimitStoreError(this.limiter.policy.name, error);
      this.options.onStoreFailure?.(failure);
      this.logFailure(failure);
      return { allowed: true, storeFailed: true };
    }
  }

  private logFailure(error: RateLimitStoreError): void {
    const now = (this.options.now ?? Date.now)();
    this.unlogged += 1;
    if (now - this.lastLog < (this.options.logIntervalMs ?? 10_000)) return;
    this.options.logger.warn({ err: error.message, policy: this.limiter.policy.name, letThrough: this.unlogged }, 'rate limit store unavailable; requests let through');
    this.lastLog = now;
    this.unlogged = 0;
  }
}
