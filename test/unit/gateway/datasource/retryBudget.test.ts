import { RetryBudget } from '../../../../gateway/datasource/retryBudget';

describe('RetryBudget', () => {
  it('allows retries up to the ratio of recent requests, with a floor', () => {
    const now = 0;
    const budget = new RetryBudget({ ratio: 0.1, minRetriesPerWindow: 2, windowMs: 10_000 }, () => now);
    for (let i = 0; i < 100; i++) budget.recordRequest();
    const granted = Array.from({ length: 50 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted).toBe(10);
  });

  it('keeps the floor for a quiet subgraph', () => {
    const budget = new RetryBudget({ ratio: 0.1, minRetriesPerWindow: 2, windowMs: 10_000 }, () => 0);
    budget.recordRequest();
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([true, true, false]);
  });

  it('refills as the window slides', () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 0.1, minRetriesPerWindow: 1, windowMs: 10_000 }, () => now);
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    now += 11_000;
    expect(budget.tryRetry()).toBe(true);
  });
});

describe('RetryBudget window', () => {
  // Ten buckets of 1000 ms; 10 requests earn exactly one retry at a ratio of 0.1.
  const settings = { ratio: 0.1, minRetriesPerWindow: 0, windowMs: 10_000 };
  let now = 0;
  const budget = () => new RetryBudget(settings, () => now);
  const requests = (target: RetryBudget, count: number) => {
    for (let i = 0; i < count; i++) target.recordRequest();
  };
  beforeEach(() => (now = 0));

  it('rounds the ratio down, and grants nothing below the floor of zero', () => {
    const b = budget();
    requests(b, 9);
    expect(b.tryRetry()).toBe(false);
    b.recordRequest();
    expect([b.tryRetry(), b.tryRetry()]).toEqual([true, false]);
  });

  it('counts a request for exactly one window', () => {
    const early = budget();
    requests(early, 10);
    now = 9_999;
    expect(early.tryRetry()).toBe(true);

    now = 0;
    const expired = budget();
    requests(expired, 10);
    now = 10_000;
    expect(expired.tryRetry()).toBe(false);
  });

  it('measures the window from the first thing it saw, not from zero', () => {
    now = 5_000;
    const b = budget();
    requests(b, 10);
    now = 14_999;
    expect(b.tryRetry()).toBe(true);
  });

  it('drops only the buckets that aged out as the window slides', () => {
    const b = budget();
    requests(b, 10); // bucket of 0..1000
    now = 1_000;
    requests(b, 10); // bucket of 1000..2000
    now = 1_500;
    expect([b.tryRetry(), b.tryRetry(), b.tryRetry()]).toEqual([true, true, false]);
    now = 10_500; // the first bucket and its requests are gone; the second and both retries stay
    expect(b.tryRetry()).toBe(false);
    now = 11_500; // the second bucket is gone too, with the retries taken in it
    requests(b, 10);
    expect([b.tryRetry(), b.tryRetry()]).toEqual([true, false]);
  });

  it('counts requests recorded late in the window where they happened', () => {
    const b = budget();
    b.recordRequest(); // starts the window at 0
    now = 9_500;
    requests(b, 10);
    now = 10_500; // only the request at 0 aged out
    expect(b.tryRetry()).toBe(true);
  });

  it('spends retries taken in a bucket only until that bucket ages out', () => {
    const b = budget();
    requests(b, 10);
    expect(b.tryRetry()).toBe(true);
    now = 5_000;
    requests(b, 10);
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false);
    now = 10_000; // bucket 0 (10 requests, 1 retry) aged out: 10 requests, 1 retry left
    expect(b.tryRetry()).toBe(false);
    now = 15_000; // everything aged out
    requests(b, 10);
    expect(b.tryRetry()).toBe(true);
  });

  it('uses the documented defaults: a floor of 3 and a tenth of the traffic', () => {
    const b = new RetryBudget(undefined, () => now);
    requests(b, 40);
    expect(Array.from({ length: 5 }, () => b.tryRetry())).toEqual([true, true, true, true, false]);
    now = 10_000;
    expect([b.tryRetry(), b.tryRetry(), b.tryRetry(), b.tryRetry()]).toEqual([true, true, true, false]);
  });
});
