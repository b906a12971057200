/**
 * One retry loop for the whole kit: retries what the error says is retriable (`retriable: true`,
 * e.g. a backend briefly down) with backoff, and gives up at once on anything else.
 */
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';

/** Whether trying the same call again may succeed: only errors that say so. */
export function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}

export interface RetryOptions {
  policy?: BackoffPolicy;
  /** Attempts in all, the first included; unbounded by default (as long as the error stays retriable). */
  maxAttempts?: number;
  /** Which errors earn another attempt; `isRetriable` by default. */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Told before each wait, e.g. to log once. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Waits; injected so tests run time forward. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Stops retrying (the last error is thrown) once aborted. */
  signal?: AbortSignal;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = options.policy ?? DEFAULT_BACKOFF;
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  const shouldRetry = options.shouldRetry ?? isRetriable;
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || options.signal?.aborted || !shouldRetry(error, attempt)) throw error;
      const delayMs = backoffDelay(attempt, policy, options.random);
      options.onRetry?.(error, attempt, delayMs);
      await wait(delayMs);
    }
  }
}
