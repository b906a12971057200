/** The kit's one retry mechanism: backoff with jitter, and retries only for errors that say they are retriable. */
import { Backoff, backoffDelay, isRetriable, retry } from '@trellis/kit/internal/retry';
import { BackendUnavailableError, BadUserInputError } from '@trellis/kit/internal/errors';

const noJitter = { initialDelayMs: 100, maxDelayMs: 1000, jitter: 0 };

describe('backoffDelay', () => {
  it('grows by the multiplier from the initial delay and stops at the maximum', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, noJitter))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(2, { ...noJitter, multiplier: 3 })).toBe(300);
    expect(backoffDelay(0, noJitter)).toBe(100);
  });

  it('takes off at most the jitter share, at random', () => {
    const policy = { initialDelayMs: 1000, maxDelayMs: 1000, jitter: 0.2 };
    expect(backoffDelay(1, policy, () => 0)).toBe(1000);
    expect(backoffDelay(1, policy, () => 1)).toBe(800);
    expect(backoffDelay(1, policy, () => 0.5)).toBe(900);
    expect(backoffDelay(1, { ...policy, jitter: 5 }, () => 1)).toBe(0);
    expect(backoffDelay(1, { ...policy, jitter: -1 }, () => 1)).toBe(1000);
  });
});

describe('Backoff', () => {
  it('counts consecutive failures and starts over after a success', () => {
    const backoff = new Backoff(noJitter);
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 200, 400]);
    expect(backoff.consecutiveFailures).toBe(3);
    backoff.reset();
    expect(backoff.consecutiveFailures).toBe(0);
    expect(backoff.next()).toBe(100);
  });
});

describe('retry', () => {
  const waits: number[] = [];
  const sleep = async (ms: number) => void waits.push(ms);
  beforeEach(() => (waits.length = 0));

  it('knows a retriable error only by its flag', () => {
    expect(isRetriable(new BackendUnavailableError('redis', 'down'))).toBe(true);
    expect(isRetriable(new BadUserInputError('no'))).toBe(false);
    expect(isRetriable(new Error('plain'))).toBe(false);
    expect(isRetriable({ retriable: 'yes' })).toBe(false);
    expect(isRetriable(null)).toBe(false);
  });

  it('retries a retriable error with backoff until it succeeds, with no bound by default', async () => {
    let calls = 0;
    const result = await retry(
      async (attempt) => {
        calls += 1;
        if (attempt < 8) throw new BackendUnavailableError('kafka', 'down');
        return 'ok';
      },
      { policy: noJitter, sleep },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(8);
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('gives up at once on an error that is not retriable', async () => {
    let calls = 0;
    const refusal = new BadUserInputError('bad');
    await expect(retry(async () => ((calls += 1), Promise.reject(refusal)), { sleep })).rejects.toBe(refusal);
    expect(calls).toBe(1);
    expect(waits).toEqual([]);
  });

  it('stops after maxAttempts, telling onRetry before each wait, and honours shouldRetry', async () => {
    const told: Array<[number, number]> = [];
    let calls = 0;
    await expect(
      retry(async () => ((calls += 1), Promise.reject(new Error('x'))), { maxAttempts: 3, shouldRetry: () => true, policy: noJitter, sleep, onRetry: (_e, attempt, delay) => told.push([attempt, delay]) }),
    ).rejects.toThrow('x');
    expect(calls).toBe(3);
    expect(told).toEqual([
      [1, 100],
      [2, 200],
    ]);
  });

  it('stops retrying once aborted', async () => {
    const controller = new AbortController();
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls += 1;
          if (calls === 2) controller.abort();
          throw new BackendUnavailableError('redis', 'down');
        },
        { sleep, signal: controller.signal },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(2);
  });
});
