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
