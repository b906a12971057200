/** `guard`: a breaker per outbound dependency, with errors a resolver can act on. Time runs on jest's fake timers (opossum reads the real ones). */
import { Registry } from 'prom-client';
import { createGuard, DependencyUnavailableError } from '@trellis/kit/internal/resilience';
import { BackendUnavailableError, BadUserInputError, ErrorCode, TrellisError } from '@trellis/kit/internal/errors';

const failing = (message = 'ECONNREFUSED') => async () => {
  throw new Error(message);
};

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('guard', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('passes arguments and results through and fails fast once the dependency keeps failing', async () => {
    const registry = new Registry();
    const guard = createGuard({ registry, defaults: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 } });
    let calls = 0;
    let healthy = true;
    const lookup = guard('pricing-api', async (id: string, currency: string) => {
      calls += 1;
      if (!healthy) throw new Error('ECONNREFUSED');
      return `price of ${id} in ${currency}`;
    });
    expect(await lookup('p1', 'EUR')).toBe('price of p1 in EUR');
    healthy = false;
    const first = await rejection(lookup('p1', 'EUR'));
    expect(first).toBeInstanceOf(DependencyUnavailableError);
    expect(first).toMatchObject({ code: ErrorCode.BACKEND_UNAVAILABLE, retriable: true, message: 'pricing-api is unavailable (ECONNREFUSED)' });
    expect((first as Error).cause).toMatchObject({ message: 'ECONNREFUSED' });
    await rejection(lookup('p1', 'EUR'));
    const before = calls;
    expect(await rejection(lookup('p1', 'EUR'))).toMatchObject({ message: 'pricing-api is unavailable (breaker open)', retriable: true });
    expect(calls).toBe(before);
    expect(await registry.getSingleMetricAsString('trellis_breaker_state')).toContain('breaker="pricing-api",kind="guard"} 2');
  });

  it('does not count a refusal by the dependency rules as a failure, and passes it through unwrapped', async () => {
    const guard = createGuard({ defaults: { volumeThreshold: 1, errorThresholdPercentage: 1 } });
    const refusal = new BadUserInputError('quantity must be positive');
    const strict = guard('validator', async () => {
      throw refusal;
    });
    for (let i = 0; i < 5; i++) expect(await rejection(strict())).toBe(refusal);
    // Still closed: a real failure now is reported as itself, not as "breaker open".
    const broken = guard('validator', failing('disk full'));
    expect(await rejection(broken())).toMatchObject({ message: 'validator is unavailable (disk full)' });
  });

  it('counts a retriable error of the dependency as a failure and wraps it', async () => {
    const guard = createGuard({ defaults: { volumeThreshold: 1, errorThresholdPercentage: 1 } });
    const down = guard('redis', async () => {
      throw new BackendUnavailableError('redis', 'connection lost');
    });
    const error = await rejection(down());
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(error).toMatchObject({ message: 'redis is unavailable (redis: connection lost)' });
    expect(await rejection(down())).toMatchObject({ message: 'redis is unavailable (breaker open)' });
  });

  it('times a slow call out at the default 2 s, and names it', async () => {
    const guard = createGuard();
    const slow = guard('slow', () => new Promise((resolve) => setTimeout(resolve, 10_000)));
    const pending = rejection(slow());
    await jest.advanceTimersByTimeAsync(2000);
    expect(await pending).toMatchObject({ message: 'slow is unavailable (timed out)' });
  });

  it('takes per-call settings over the guard defaults, and the defaults over the built-in ones', async () => {
    const guard = createGuard({ defaults: { timeoutMs: 500 } });
    const byDefaults = rejection(guard('a', () => new Promise((resolve) => setTimeout(resolve, 10_000)))());
    const ownSettings = rejection(guard('b', () => new Promise((resolve) => setTimeout(resolve, 10_000)), { timeoutMs: 100 })());
    await jest.advanceTimersByTimeAsync(100);
    expect(await ownSettings).toMatchObject({ message: 'b is unavailable (timed out)' });
    let aSettled = false;
    void byDefaults.then(() => (aSettled = true));
    await jest.advanceTimersByTimeAsync(399);
    expect(aSettled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(await byDefaults).toMatchObject({ message: 'a is unavailable (timed out)' });
  });

  it('shares one breaker between calls guarded under one name, and keeps other names apart', async () => {
    const guard = createGuard({ defaults: { volumeThreshold: 1, errorThresholdPercentage: 1, resetTimeoutMs: 60_000 } });
    await rejection(guard('inventory', failing())());
    let calls = 0;
    const other = guard('inventory', async () => (calls++, 'ok'));
    expect(await rejection(other())).toMatchObject({ message: 'inventory is unavailable (breaker open)' });
    expect(calls).toBe(0);
    expect(await guard('pricing', async () => 'fine')()).toBe('fine');
  });

  it('logs the state changes of its breakers to the given logger', async () => {
    const messages: string[] = [];
    const logger = { warn: (_fields: unknown, message: string) => void messages.push(message) } as never;
    const guard = createGuard({ registry: new Registry(), logger, defaults: { volumeThreshold: 1, errorThresholdPercentage: 1 } });
    await rejection(guard('mail', failing())());
    expect(messages).toEqual(['breaker mail open']);
  });

  it('is a TrellisError with the dependency and the reason in its message', () => {
    const cause = new Error('x');
    const error = new DependencyUnavailableError('mail', 'timed out', cause);
    expect(error).toBeInstanceOf(TrellisError);
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retriable: true, message: 'mail is unavailable (timed out)', cause });
  });
});
