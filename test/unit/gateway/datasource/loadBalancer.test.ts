import { LoadBalancer } from '../../../../gateway/datasource/loadBalancer';
import { OutlierDetector } from '../../../../gateway/datasource/outlierDetector';
import type { ServiceInstance } from '@trellis/kit';

const instance = (id: string): ServiceInstance => ({ id, name: 'catalog', url: `http://${id}/graphql`, meta: {}, healthy: true });

describe('LoadBalancer (power of two choices)', () => {
  it('prefers the less loaded of the two it samples', () => {
    const randoms = [0.0, 0.6]; // samples instance 0, then instance 2 (index 1 shifted past 0)
    const balancer = new LoadBalancer(new OutlierDetector(), () => randoms.shift() ?? 0);
    const pool = [instance('a'), instance('b'), instance('c')];
    balancer.acquire('a');
    balancer.acquire('a');
    expect(balancer.pick(pool)?.id).toBe('c');
  });

  it('never picks an excluded instance, and nothing when all are excluded', () => {
    const balancer = new LoadBalancer(new OutlierDetector());
    const pool = [instance('a'), instance('b')];
    for (let i = 0; i < 20; i++) expect(balancer.pick(pool, new Set(['a']))?.id).toBe('b');
    expect(balancer.pick(pool, new Set(['a', 'b']))).toBeUndefined();
  });

  it('skips ejected instances while a healthy one is left', () => {
    const outliers = new OutlierDetector({ consecutiveFailures: 1, baseEjectionMs: 60_000, maxEjectionMs: 60_000, maxEjectedFraction: 0.5 });
    outliers.recordFailure('a', ['a', 'b']);
    const balancer = new LoadBalancer(outliers);
    for (let i = 0; i < 20; i++) expect(balancer.pick([instance('a'), instance('b')])?.id).toBe('b');
  });

  it('spreads load evenly across instances', () => {
    // Seeded, so the run is the same every time. P2C picks the lighter of two random instances, so
    // loads stay close but are not exactly level (both samples can be the heavier ones).
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const balancer = new LoadBalancer(new OutlierDetector(), random);
    const pool = [instance('a'), instance('b'), instance('c')];
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 300; i++) {
      const picked = balancer.pick(pool)!;
      counts[picked.id] += 1;
      balancer.acquire(picked.id);
    }
    for (const count of Object.values(counts)) expect(count).toBeGreaterThanOrEqual(95);
    expect(Math.max(...Object.values(counts)) - Math.min(...Object.values(counts))).toBeLessThanOrEqual(6);
  });

  it('samples two distinct instances across the whole pool', () => {
    // 0.9 of 3 is index 2 (c); 0.5 of the 2 others is index 1, shifted past nothing: b.
    const randoms = [0.9, 0.5];
    const balancer = new LoadBalancer(new OutlierDetector(), () => randoms.shift() ?? 0);
    balancer.acquire('b');
    expect(balancer.pick([instance('a'), instance('b'), instance('c')])?.id).toBe('c');
  });

  it('shifts the second sample past the first, so it never compares an instance with itself', () => {
    // 0.4 of 3 is b; 0.5 of the 2 others is index 1, which equals b's index and moves on to c.
    const randoms = [0.4, 0.5];
    const balancer = new LoadBalancer(new OutlierDetector(), () => randoms.shift() ?? 0);
    balancer.acquire('b');
    expect(balancer.pick([instance('a'), instance('b'), instance('c')])?.id).toBe('c');
  });

  it('keeps the first sample when both are equally loaded', () => {
    const balancer = new LoadBalancer(new OutlierDetector(), () => 0);
    expect(balancer.pick([instance('a'), instance('b')])?.id).toBe('a');
    const later = new LoadBalancer(new OutlierDetector(), () => 0.99);
    expect(later.pick([instance('a'), instance('b')])?.id).toBe('b');
  });

  it('returns the only instance without sampling, and nothing from an empty pool', () => {
    const random = jest.fn(() => 0);
    const balancer = new LoadBalancer(new OutlierDetector(), random);
    expect(balancer.pick([instance('solo')])?.id).toBe('solo');
    expect(balancer.pick([])).toBeUndefined();
    expect(random).not.toHaveBeenCalled();
  });

  it('falls back to ejected instances when every instance left is ejected', () => {
    const outliers = new OutlierDetector({ consecutiveFailures: 1, baseEjectionMs: 60_000, maxEjectionMs: 60_000, maxEjectedFraction: 1 }, () => 0);
    outliers.recordFailure('a', ['a', 'b']);
    outliers.recordFailure('b', ['a', 'b']);
    expect(outliers.ejected(['a', 'b'])).toEqual(['a', 'b']);
    const balancer = new LoadBalancer(outliers, () => 0);
    expect(balancer.pick([instance('a'), instance('b')])?.id).toBe('a');
    expect(balancer.pick([instance('a'), instance('b')], new Set(['a']))?.id).toBe('b');
  });

  it('counts in-flight requests up and down, never below zero', () => {
    const balancer = new LoadBalancer(new OutlierDetector());
    balancer.acquire('a');
    balancer.acquire('a');
    expect(balancer.load('a')).toBe(2);
    balancer.release('a');
    expect(balancer.load('a')).toBe(1);
    balancer.release('a');
    expect(balancer.load('a')).toBe(0);
    balancer.release('a');
    expect(balancer.load('a')).toBe(0);
    balancer.acquire('a');
    expect(balancer.load('a')).toBe(1);
  });
});
