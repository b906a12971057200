import { OutlierDetector } from '../../../../gateway/datasource/outlierDetector';

const settings = { consecutiveFailures: 3, baseEjectionMs: 1000, maxEjectionMs: 8000, maxEjectedFraction: 0.5 };

describe('OutlierDetector', () => {
  let now = 0;
  const detector = () => new OutlierDetector(settings, () => now);
  beforeEach(() => (now = 0));

  it('ejects after consecutive failures, and a success in between resets the count', () => {
    const outliers = detector();
    const peers = ['a', 'b'];
    outliers.recordFailure('a', peers);
    outliers.recordFailure('a', peers);
    outliers.recordSuccess('a');
    outliers.recordFailure('a', peers);
    outliers.recordFailure('a', peers);
    expect(outliers.isEjected('a')).toBe(false);
    expect(outliers.recordFailure('a', peers)).toBe(true);
    expect(outliers.isEjected('a')).toBe(true);
  });

  it('doubles the ejection each time, up to the maximum', () => {
    const outliers = detector();
    const peers = ['a', 'b'];
    const durations: number[] = [];
    for (let round = 0; round < 5; round++) {
      const start = now;
      for (let i = 0; i < 3; i++) outliers.recordFailure('a', peers);
      while (outliers.isEjected('a')) now += 100;
      durations.push(now - start);
    }
    expect(durations).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it('never ejects more than half of the instances', () => {
    const outliers = detector();
    const peers = ['a', 'b', 'c', 'd'];
    for (const id of peers) for (let i = 0; i < 3; i++) outliers.recordFailure(id, peers);
    expect(outliers.ejected(peers)).toEqual(['a', 'b']);
  });

  it('never ejects the only instance', () => {
    const outliers = detector();
    for (let i = 0; i < 10; i++) outliers.recordFailure('solo', ['solo']);
    expect(outliers.isEjected('solo')).toBe(false);
  });
});

describe('OutlierDetector at its boundaries', () => {
  let now = 0;
  const detector = (overrides: Partial<typeof settings> = {}) => new OutlierDetector({ ...settings, ...overrides }, () => now);
  beforeEach(() => (now = 0));
  const fail = (outliers: OutlierDetector, id: string, times: number, peers = ['a', 'b']) =>
    Array.from({ length: times }, () => outliers.recordFailure(id, peers));

  it('ejects on exactly the configured failure, and says so only then', () => {
    expect(fail(detector(), 'a', 3)).toEqual([false, false, true]);
    expect(fail(detector({ consecutiveFailures: 1 }), 'a', 1)).toEqual([true]);
  });

  it('ejects for exactly the base ejection time', () => {
    const outliers = detector();
    fail(outliers, 'a', 3);
    now = 999;
    expect(outliers.isEjected('a')).toBe(true);
    now = 1000;
    expect(outliers.isEjected('a')).toBe(false);
  });

  it('does not extend an ejection with failures that land while ejected', () => {
    const outliers = detector();
    fail(outliers, 'a', 3);
    now = 500;
    expect(fail(outliers, 'a', 3)).toEqual([false, false, false]);
    now = 1000;
    expect(outliers.isEjected('a')).toBe(false);
  });

  it('counts failures from zero again after an ejection', () => {
    const outliers = detector();
    fail(outliers, 'a', 3);
    now = 1000;
    expect(fail(outliers, 'a', 3)).toEqual([false, false, true]);
  });

  it('ejects up to the allowed share exactly: 2 of 4 at one half, 1 of 3, none of 1', () => {
    const four = detector();
    const peers = ['a', 'b', 'c', 'd'];
    expect(fail(four, 'a', 3, peers)[2]).toBe(true);
    expect(fail(four, 'b', 3, peers)[2]).toBe(true);
    expect(fail(four, 'c', 3, peers)[2]).toBe(false);
    const three = detector();
    expect(fail(three, 'a', 3, ['a', 'b', 'c'])[2]).toBe(true);
    expect(fail(three, 'b', 3, ['a', 'b', 'c'])[2]).toBe(false);
    expect(fail(detector({ maxEjectedFraction: 1 }), 'solo', 3, ['solo'])[2]).toBe(true);
  });

  it('frees a share when an ejection ends', () => {
    const outliers = detector();
    const peers = ['a', 'b'];
    fail(outliers, 'a', 3, peers);
    expect(fail(outliers, 'b', 3, peers)[2]).toBe(false);
    now = 1000;
    expect(fail(outliers, 'b', 1, peers)).toEqual([true]);
    expect(outliers.ejected(peers)).toEqual(['b']);
  });

  it('earns back the short ejection after a healthy stretch longer than the longest ejection', () => {
    const outliers = detector();
    fail(outliers, 'a', 3); // ejected 0..1000
    now = 1000;
    fail(outliers, 'a', 3); // second ejection: 2000 ms, until 3000
    now = 3000 + 8000; // exactly the longest ejection after it ended: not yet
    outliers.recordSuccess('a');
    fail(outliers, 'a', 3);
    now += 3999;
    expect(outliers.isEjected('a')).toBe(true); // third ejection: 4000 ms
    now += 1;
    expect(outliers.isEjected('a')).toBe(false);
    now += 8001;
    outliers.recordSuccess('a');
    const start = now;
    fail(outliers, 'a', 3);
    now = start + 999;
    expect(outliers.isEjected('a')).toBe(true);
    now = start + 1000;
    expect(outliers.isEjected('a')).toBe(false); // back to the base 1000 ms
  });

  it('does not forgive the backoff for a success while still ejected', () => {
    const outliers = detector({ maxEjectionMs: 1000, baseEjectionMs: 1000 });
    fail(outliers, 'a', 3);
    now = 500;
    outliers.recordSuccess('a');
    expect(outliers.isEjected('a')).toBe(true);
  });

  it('forgets instances that left discovery, and keeps the others', () => {
    const outliers = detector();
    fail(outliers, 'a', 3);
    fail(outliers, 'b', 2);
    outliers.retain(['b']);
    expect(outliers.isEjected('a')).toBe(false);
    expect(fail(outliers, 'b', 1)).toEqual([true]);
  });

  it('ignores a success for an instance it never saw fail', () => {
    const outliers = detector();
    outliers.recordSuccess('new');
    expect(outliers.isEjected('new')).toBe(false);
    expect(fail(outliers, 'new', 3)).toEqual([false, false, true]);
  });

  it('uses the documented defaults', () => {
    const outliers = new OutlierDetector(undefined, () => now);
    const peers = ['a', 'b'];
    expect([outliers.recordFailure('a', peers), outliers.recordFailure('a', peers), outliers.recordFailure('a', peers)]).toEqual([false, false, true]);
    now = 4999;
    expect(outliers.isEjected('a')).toBe(true);
    now = 5000;
    expect(outliers.isEjected('a')).toBe(false);
  });
});
