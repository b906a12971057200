/** The memory and state-store limiters: exactly `limit` requests per key per window, then refusals until the window ends. */
import { memoryRateLimiter, RateLimitStoreError, stateStoreRateLimiter, type RateLimiter } from '@trellis/kit/internal/ratelimit';
import { InMemoryStateStore, type StateStore } from '@trellis/kit/internal/state';

const policy = { name: 'test', limit: 3, windowSec: 10 };

async function consumeTimes(limiter: RateLimiter, key: string, times: number) {
  const decisions = [];
  for (let i = 0; i < times; i++) decisions.push(await limiter.consume(key));
  return decisions;
}

describe.each([
  ['memory (RateLimiterMemory)', () => memoryRateLimiter(policy)],
  ['state store (dev hub)', () => stateStoreRateLimiter(new InMemoryStateStore(), policy)],
])('%s limiter', (_name, create) => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('allows exactly the limit, counting down, and refuses the next with the time left', async () => {
    const limiter = create();
    const decisions = await consumeTimes(limiter, 'a', 4);
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(decisions[0].resetMs).toBe(10_000);
    expect(decisions[3].resetMs).toBeGreaterThan(0);
    expect(decisions[3].resetMs).toBeLessThanOrEqual(10_000);
  });

  it('counts each key apart', async () => {
    const limiter = create();
    await consumeTimes(limiter, 'a', 3);
    expect((await limiter.consume('a')).allowed).toBe(false);
    expect(await limiter.consume('b')).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('keeps refusing until the window ends, then starts a fresh count', async () => {
    const limiter = create();
    await consumeTimes(limiter, 'a', 3);
    jest.advanceTimersByTime(9_000);
    expect(await limiter.consume('a')).toMatchObject({ allowed: false, remaining: 0 });
    jest.advanceTimersByTime(1_001);
    expect(await limiter.consume('a')).toMatchObject({ allowed: true, remaining: 2, resetMs: 10_000 });
  });

  it('names its policy', () => {
    expect(create().policy).toEqual(policy);
  });
});

describe('state store limiter', () => {
  it('keeps its count under ratelimit-style keys of the store, shared by every limiter on the same store', async () => {
    const state = new InMemoryStateStore();
    const one = stateStoreRateLimiter(state, policy, 'ratelimit:test');
    const two = stateStoreRateLimiter(state, policy, 'ratelimit:test');
    await one.consume('user:u1');
    await two.consume('user:u1');
    expect(await state.get('ratelimit:test:user:u1')).toBe('2');
    expect(await one.consume('user:u1')).toMatchObject({ allowed: true, remaining: 0 });
    expect((await two.consume('user:u1')).allowed).toBe(false);
  });

  it('defaults its key prefix to the policy name', async () => {
    const state = new InMemoryStateStore();
    await stateStoreRateLimiter(state, policy).consume('ip:1.2.3.4');
    expect(await state.get('test:ip:1.2.3.4')).toBe('1');
  });

  it('rejects with a retriable RateLimitStoreError naming the policy when the store fails', async () => {
    const broken = { increment: () => Promise.reject(new Error('connection refused')) } as unknown as StateStore;
    const error = await stateStoreRateLimiter(broken, policy).consume('a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitStoreError);
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retriable: true, message: 'rate limit store: test: connection refused' });
  });
});
