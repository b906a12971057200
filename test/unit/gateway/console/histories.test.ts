/** The console's memory stays bounded: each history keeps its newest entries only, newest first. */
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import { BoundedLog } from '../../../../gateway/console/boundedLog';
import { BreakerJournal, CompositionHistory } from '../../../../gateway/console';
import type { SupergraphSource, SupergraphStatus } from '../../../../gateway/supergraph/types';

describe('BoundedLog', () => {
  it('keeps the newest entries up to its capacity, newest first', () => {
    const log = new BoundedLog<number>(3);
    for (let i = 1; i <= 5; i++) log.add(i);
    expect(log.newestFirst()).toEqual([5, 4, 3]);
    expect(log.size).toBe(3);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new BoundedLog(0)).toThrow(/at least 1/);
  });
});

describe('BreakerJournal', () => {
  it('records each transition of a followed breaker with its time, the newest few only', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const journal = new BreakerJournal(2, () => now);
    jest.useFakeTimers();
    const breaker = new CircuitBreaker(async () => 'ok', { resetTimeout: 1000 });
    journal.follow('catalog', breaker);
    expect(journal.transitionsOf('catalog')).toEqual([]);
    breaker.open();
    now += 1000;
    jest.advanceTimersByTime(1000); // opossum lets one trial through: half-open
    now += 1000;
    breaker.close();
    jest.useRealTimers();
    expect(journal.transitionsOf('catalog')).toEqual([
      { at: '2026-01-01T00:00:02.000Z', to: 'closed' },
      { at: '2026-01-01T00:00:01.000Z', to: 'half_open' },
    ]);
    expect(journal.transitionsOf('users')).toEqual([]);
    breaker.shutdown();
  });
});

describe('CompositionHistory', () => {
  const status = (version: number, error?: string): SupergraphStatus => ({
    hash: `h${version}`,
    version,
    composedAt: `2026-01-01T00:00:0${version}.000Z`,
    source: 'discovery',
    subgraphs: [{ name: 'users', url: 'u', instances: [] }],
    refused: [],
    untrusted: [],
    lastError: error ? { at: '2026-01-01T00:00:09.000Z', message: error } : null,
    compositionFailures: error ? 1 : 0,
  });

  it('keeps served and failed compositions, the newest `capacity`, with the failure', () => {
    const source = new EventEmitter();
    const history = new CompositionHistory(source as unknown as SupergraphSource, 2);
    source.emit('served', status(1));
    source.emit('served', status(2));
    source.emit('failed', status(2, 'catalog: no field Product.id'));
    expect(history.entries()).toEqual([
      { at: '2026-01-01T00:00:09.000Z', outcome: 'failed', version: 2, hash: 'h2', subgraphs: ['users'], error: 'catalog: no field Product.id' },
      { at: '2026-01-01T00:00:02.000Z', outcome: 'served', version: 2, hash: 'h2', subgraphs: ['users'] },
    ]);
  });
});
