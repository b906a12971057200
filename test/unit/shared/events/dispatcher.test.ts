/** KeyedDispatcher: concurrency across keys, order within one, and the committable offset. */
import { KeyedDispatcher } from '../../../../shared/events/dispatcher';
import type { EventMessage } from '../../../../shared/events';

const message = (offset: number, key: string | null, partition = 0): EventMessage => ({
  topic: 't',
  key,
  value: `${key}:${offset}`,
  headers: {},
  partition,
  offset: String(offset),
  timestamp: 0,
});

/** A handler whose calls each wait until the test finishes them by value. */
function controlledHandler() {
  const started: string[] = [];
  const finishers = new Map<string, (error?: unknown) => void>();
  const handler = (m: EventMessage) =>
    new Promise<void>((resolve, reject) => {
      started.push(m.value);
      finishers.set(m.value, (error) => (error ? reject(error) : resolve()));
    });
  const finish = async (value: string, error?: unknown) => {
    finishers.get(value)!(error);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { handler, started, finish };
}

describe('KeyedDispatcher', () => {
  it('runs different keys at once, one key after the other, and commits only below the first unsettled message', async () => {
    const { handler, started, finish } = controlledHandler();
    const dispatcher = new KeyedDispatcher({ handler, deadLetter: async () => undefined });
    [message(10, 'a'), message(11, 'b'), message(12, 'a'), message(13, 'c')].forEach((m) => dispatcher.offer(m));
    expect(started).toEqual(['a:10', 'b:11', 'c:13']);
    expect(dispatcher.committable('t', 0)).toBe('10');
    await finish('b:11');
    await finish('c:13');
    expect(dispatcher.committable('t', 0)).toBe('10'); // 10 still runs: nothing after it is committed
    expect(dispatcher.pending('t', 0)).toBe(2);
    await finish('a:10');
    expect(started).toEqual(['a:10', 'b:11', 'c:13', 'a:12']);
    expect(dispatcher.committable('t', 0)).toBe('12');
    await finish('a:12');
    expect(dispatcher.committable('t', 0)).toBe('14');
    expect(dispatcher.offer(message(12, 'a'))).toBe(false); // a re-fetch is ignored
  });

  it('caps the handlers running at once at maxInFlight', async () => {
    const { handler, started, finish } = controlledHandler();
    const dispatcher = new KeyedDispatcher({ handler, deadLetter: async () => undefined, maxInFlight: 2 });
    [message(0, 'a'), message(1, 'b'), message(2, 'c')].forEach((m) => dispatcher.offer(m));
    expect(started).toEqual(['a:0', 'b:1']);
    await finish('b:1');
    expect(started).toEqual(['a:0', 'b:1', 'c:2']);
  });

  it('dead-letters what keeps failing and moves on; stop drops queued messages, which stay uncommitted', async () => {
    const { handler, started, finish } = controlledHandler();
    const dead: string[] = [];
    const dispatcher = new KeyedDispatcher({ handler, maxAttempts: 1, deadLetter: async (m, reason) => void dead.push(`${m.value} ${reason}`) });
    [message(0, 'a'), message(1, 'a'), message(2, 'a')].forEach((m) => dispatcher.offer(m));
    await finish('a:0', new Error('bug'));
    expect(dead).toEqual(['a:0 failed 1 times: bug']);
    expect(started).toEqual(['a:0', 'a:1']);
    const stopping = dispatcher.stop();
    await finish('a:1');
    await stopping;
    expect(started).toEqual(['a:0', 'a:1']);
    expect(dispatcher.committable('t', 0)).toBe('2');
  });
});
