/**
 * The breaker every subgraph and guarded dependency goes through: each setting and threshold at
 * its boundary, the defaults, and the metrics and logs an operator watches. opossum reads the real
 * timers, so time is driven with jest's fake timers.
 */
import { Registry } from 'prom-client';
import { breakerState, createBreaker, DEFAULT_BREAKER_SETTINGS, type BreakerOptions, type BreakerSettings } from '@trellis/kit/internal/resilience';
import type { Logger } from '@trellis/kit/internal/logging';

const ok = async () => 'ok';
const boom = async () => {
  throw new Error('ECONNREFUSED');
};

/** A call that answers after `ms`, on the fake clock. */
const after = (ms: number) => () => new Promise<string>((resolve) => setTimeout(() => resolve('late'), ms));

type Call = () => Promise<string>;

function breakerOf(settings: Partial<BreakerSettings> = {}, options: Partial<BreakerOptions> = {}) {
  return createBreaker((call: Call) => call(), { name: 'catalog', kind: 'subgraph', settings: { ...DEFAULT_BREAKER_SETTINGS, ...settings }, ...options });
}

/** Fires and settles a call, whatever its outcome. */
async function settle(breaker: ReturnType<typeof breakerOf>, call: Call): Promise<unknown> {
  return breaker.fire(call).then(
    (value) => value,
    (error: unknown) => error,
  );
}

async function metric(registry: Registry, name: string): Promise<string> {
  return registry.getSingleMetricAsString(name);
}

describe('createBreaker', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('has the documented defaults', () => {
    expect(DEFAULT_BREAKER_SETTINGS).toEqual({ timeoutMs: 2000, errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs: 3000, rollingWindowMs: 10_000 });
  });

  it('times a call out at exactly timeoutMs, not a millisecond before', async () => {
    const breaker = breakerOf();
    const justInTime = breaker.fire(after(1999));
    await jest.advanceTimersByTimeAsync(1999);
    await expect(justInTime).resolves.toBe('late');

    const tooSlow = settle(breaker, after(5000));
    await jest.advanceTimersByTimeAsync(1999);
    let settled = false;
    void tooSlow.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(await tooSlow).toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('leaves timing to a caller that enforces its own timeout', async () => {
    const breaker = breakerOf({ timeoutMs: 100 }, { callerEnforcesTimeout: true });
    const slow = breaker.fire(after(5000));
    await jest.advanceTimersByTimeAsync(5000);
    await expect(slow).resolves.toBe('late');
  });

  it('counts nothing before volumeThreshold calls, then opens on the call that reaches it', async () => {
    const breaker = breakerOf();
    for (let i = 0; i < 4; i++) await settle(breaker, boom);
    expect(breakerState(breaker)).toBe('closed');
    await settle(breaker, boom);
    expect(breakerState(breaker)).toBe('open');
  });

  it('opens only above errorThresholdPercentage: exactly 50% failed stays closed', async () => {
    const breaker = breakerOf();
    for (let i = 0; i < 3; i++) await settle(breaker, ok);
    for (let i = 0; i < 3; i++) await settle(breaker, boom); // 3 of 6: 50%
    expect(breakerState(breaker)).toBe('closed');
    await settle(breaker, boom); // 4 of 7
    expect(breakerState(breaker)).toBe('open');
  });

  it('reads its own threshold and volume, not the defaults', async () => {
    const breaker = breakerOf({ errorThresholdPercentage: 10, volumeThreshold: 2 });
    for (let i = 0; i < 9; i++) await settle(breaker, ok);
    await settle(breaker, boom); // 1 of 10: 10%, not above
    expect(breakerState(breaker)).toBe('closed');
    await settle(breaker, boom);
    expect(breakerState(breaker)).toBe('open');

    const eager = breakerOf({ volumeThreshold: 2 });
    await settle(eager, boom);
    expect(breakerState(eager)).toBe('closed');
    await settle(eager, boom);
    expect(breakerState(eager)).toBe('open');
  });

  it('fails fast while open, lets one trial through after exactly resetTimeoutMs, and closes when it succeeds', async () => {
    const breaker = breakerOf();
    for (let i = 0; i < 5; i++) await settle(breaker, boom);
    let calls = 0;
    const counted: Call = async () => (calls++, 'ok');
    expect(await settle(breaker, counted)).toMatchObject({ code: 'EOPENBREAKER' });
    await jest.advanceTimersByTimeAsync(2999);
    expect(breakerState(breaker)).toBe('open');
    await jest.advanceTimersByTimeAsync(1);
    expect(breakerState(breaker)).toBe('half_open');
    expect(await settle(breaker, counted)).toBe('ok');
    expect(calls).toBe(1);
    expect(breakerState(breaker)).toBe('closed');
  });

  it('opens again when the half-open trial fails', async () => {
    const breaker = breakerOf({ resetTimeoutMs: 500 });
    for (let i = 0; i < 5; i++) await settle(breaker, boom);
    await jest.advanceTimersByTimeAsync(500);
    expect(breakerState(breaker)).toBe('half_open');
    await settle(breaker, boom);
    expect(breakerState(breaker)).toBe('open');
  });

  it('forgets failures older than the rolling window', async () => {
    const breaker = breakerOf();
    for (let i = 0; i < 4; i++) await settle(breaker, boom);
    await jest.advanceTimersByTimeAsync(10_000);
    await settle(breaker, boom); // the window holds one call now, under the volume threshold
    expect(breakerState(breaker)).toBe('closed');

    const short = breakerOf({ rollingWindowMs: 1000 });
    for (let i = 0; i < 4; i++) await settle(short, boom);
    await jest.advanceTimersByTimeAsync(1000);
    await settle(short, boom);
    expect(breakerState(short)).toBe('closed');
  });

  it('keeps failures within the rolling window', async () => {
    const breaker = breakerOf();
    for (let i = 0; i < 4; i++) await settle(breaker, boom);
    await jest.advanceTimersByTimeAsync(8000);
    await settle(breaker, boom);
    expect(breakerState(breaker)).toBe('open');
  });

  it('does not count a harmless error as a failure, and still rejects with it', async () => {
    const refusal = new Error('quantity must be positive');
    const breaker = breakerOf({ volumeThreshold: 1, errorThresholdPercentage: 1 }, { isHarmless: (error) => error === refusal });
    for (let i = 0; i < 5; i++) expect(await settle(breaker, () => Promise.reject(refusal))).toBe(refusal);
    expect(breakerState(breaker)).toBe('closed');
    await settle(breaker, boom);
    expect(breakerState(breaker)).toBe('open');
  });

  it('counts every error when no isHarmless is given', async () => {
    const breaker = breakerOf({ volumeThreshold: 1, errorThresholdPercentage: 1 });
    await settle(breaker, boom);
    expect(breakerState(breaker)).toBe('open');
  });

  it('is named after its subgraph or dependency', () => {
    expect(breakerOf().name).toBe('catalog');
  });
});

describe('breaker metrics and logs', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function instrumented() {
    const registry = new Registry();
    const warnings: Array<{ fields: unknown; message: string }> = [];
    const logger = { warn: (fields: unknown, message: string) => void warnings.push({ fields, message }) } as unknown as Logger;
    const breaker = breakerOf({ timeoutMs: 100, resetTimeoutMs: 1000 }, { registry, logger, kind: 'guard', name: 'redis' });
    return { registry, warnings, breaker };
  }

  it('starts the state gauge at 0 (closed) and follows open (2), half-open (1) and closed (0), counting each state entered', async () => {
    const { registry, warnings, breaker } = instrumented();
    expect(await metric(registry, 'trellis_breaker_state')).toContain('trellis_breaker_state{breaker="redis",kind="guard"} 0');
    for (let i = 0; i < 5; i++) await settle(breaker, boom);
    expect(await metric(registry, 'trellis_breaker_state')).toContain('trellis_breaker_state{breaker="redis",kind="guard"} 2');
    await jest.advanceTimersByTimeAsync(1000);
    expect(await metric(registry, 'trellis_breaker_state')).toContain('trellis_breaker_state{breaker="redis",kind="guard"} 1');
    await settle(breaker, ok);
    expect(await metric(registry, 'trellis_breaker_state')).toContain('trellis_breaker_state{breaker="redis",kind="guard"} 0');

    const transitions = await metric(registry, 'trellis_breaker_transitions_total');
    for (const to of ['open', 'half_open', 'closed']) expect(transitions).toContain(`trellis_breaker_transitions_total{breaker="redis",kind="guard",to="${to}"} 1`);
    expect(warnings.map((w) => w.message)).toEqual(['breaker redis open', 'breaker redis half-open', 'breaker redis closed']);
    expect(warnings[1].fields).toEqual({ breaker: 'redis', kind: 'guard', state: 'half_open' });
  });

  it('counts calls by outcome: success, failure, timeout and rejected', async () => {
    const { registry, breaker } = instrumented();
    await settle(breaker, ok);
    await settle(breaker, ok);
    const slow = settle(breaker, after(1000));
    await jest.advanceTimersByTimeAsync(100);
    await slow;
    for (let i = 0; i < 2; i++) await settle(breaker, boom); // 3 of 5 failed (the timeout included): open
    await settle(breaker, ok);
    const calls = await metric(registry, 'trellis_breaker_calls_total');
    const count = (outcome: string) => calls.match(new RegExp(`trellis_breaker_calls_total\\{breaker="redis",kind="guard",outcome="${outcome}"\\} (\\d+)`))?.[1];
    expect(count('success')).toBe('2');
    // A timeout is also a failure to opossum: it shows under both.
    expect(count('timeout')).toBe('1');
    expect(count('failure')).toBe('3');
    expect(count('rejected')).toBe('1');
  });

  it('shares one set of metrics between breakers of one registry, each under its own labels', async () => {
    const registry = new Registry();
    const first = breakerOf({}, { registry, name: 'users' });
    const second = breakerOf({}, { registry, name: 'orders' });
    await settle(first, ok);
    await settle(second, ok);
    const calls = await metric(registry, 'trellis_breaker_calls_total');
    expect(calls).toContain('trellis_breaker_calls_total{breaker="users",kind="subgraph",outcome="success"} 1');
    expect(calls).toContain('trellis_breaker_calls_total{breaker="orders",kind="subgraph",outcome="success"} 1');
  });
});
