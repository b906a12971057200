/** Exponential backoff with jitter: how long to wait before the next attempt. */

export interface BackoffPolicy {
  /** Wait before the second attempt. */
  initialDelayMs: number;
  /** No wait grows past this. */
  maxDelayMs: number;
  /** Growth per attempt; 2 doubles the wait. */
  multiplier?: number;
  /**
   * Share of each wait taken off at random (0 = none, 1 = anywhere from 0 to the full wait), so
   * many clients that failed together do not retry together.
   */
  jitter?: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 5000, multiplier: 2, jitter: 0.2 };

/** The wait after failed attempt `attempt` (1 = after the first attempt). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const multiplier = policy.multiplier ?? 2;
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0));
  const exponent = Math.max(0, attempt - 1);
  const full = Math.min(policy.maxDelayMs, policy.initialDelayMs * multiplier ** exponent);
  return Math.round(full * (1 - jitter * random()));
}

/** Consecutive-failure backoff for a loop (a sweeper, a reconnect): `next()` after a failure, `reset()` after a success. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** Counts a failure and returns the wait before trying again. */
  next(): number {
    this.failures += 1;
    return backoffDelay(this.failures, this.policy, this.random);
  }

  reset(): void {
    this.failures = 0;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}
