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
