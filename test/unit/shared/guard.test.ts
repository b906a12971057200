import { createGuard } from '../../../shared/resilience';
import { BadUserInputError } from '../../../shared/errors';
import { Registry } from 'prom-client';

describe('guard', () => {
  it('passes results through and fails fast once the dependency keeps failing', async () => {
    const registry = new Registry();
    const guard = createGuard({ registry, defaults: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 } });
    let calls = 0;
    let healthy = true;
    const lookup = guard('pricing-api', async (id: string) => {
      calls += 1;
      if (!healthy) throw new Error('ECONNREFUSED');
      return `price of ${id}`;
    });
    expect(await lookup('p1')).toBe('price of p1');
    healthy = false;
    await expect(lookup('p1')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringContaining('pricing-api') });
    await expect(lookup('p1')).rejects.toThrow();
    const before = calls;
    await expect(lookup('p1')).rejects.toMatchObject({ message: 'pricing-api is unavailable (breaker open)' });
    expect(calls).toBe(before);
    expect(await registry.getSingleMetricAsString('trellis_breaker_state')).toContain('breaker="pricing-api",kind="guard"} 2');
  });

  it('does not count a refusal by the dependency rules as a failure', async () => {
    const guard = createGuard({ defaults: { volumeThreshold: 1, errorThresholdPercentage: 1 } });
    const strict = guard('validator', async () => {
      throw new BadUserInputError('quantity must be positive');
    });
    for (let i = 0; i < 5; i++) await expect(strict()).rejects.toBeInstanceOf(BadUserInputError);
  });

  describe('with time driven by the test', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('times out a slow call at its timeout, not before', async () => {
      const guard = createGuard({ defaults: { timeoutMs: 50 } });
      const slow = guard('slow', () => new Promise((resolve) => setTimeout(() => resolve('late'), 1000)));
      const outcome: { settled?: unknown } = {};
      const call = slow().then(
        (value) => (outcome.settled = value),
        (error: Error) => (outcome.settled = error.message),
      );
      await jest.advanceTimersByTimeAsync(49);
      expect(outcome).toEqual({});
      await jest.advanceTimersByTimeAsync(1);
      await call;
      expect(outcome).toEqual({ settled: 'slow is unavailable (timed out)' });
    });
  });
});
